"""Wrong (full-or-valid-shape): the matrix of mode='full', shape (n + k - 1, n)."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    T = np.zeros((n + k - 1, n), dtype=kernel.dtype)
    for m in range(n):
        T[m:m + k, m] = kernel
    return T
