"""Wrong (full-or-valid-shape): the transposed 'full' matrix, shape (n, n + k - 1), as MATLAB's convmtx
lays it out (column j holds the kernel starting at row j)."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    T = np.zeros((n, n + k - 1), dtype=kernel.dtype)
    for j in range(n):
        T[j, j:j + k] = kernel
    return T
