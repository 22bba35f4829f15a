"""Wrong (full-or-valid-shape): the transposed 'valid' matrix, shape (n, n - k + 1)."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    rows = n - k + 1
    T = np.zeros((rows, n), dtype=kernel.dtype)
    for i in range(rows):
        T[i, i:i + k] = kernel[::-1]
    return T.T
