"""Wrong (full-or-valid-shape): the matrix of mode='valid', shape (n - k + 1, n)."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    T = np.zeros((n - k + 1, n), dtype=kernel.dtype)
    for i in range(n - k + 1):
        T[i, i:i + k] = kernel[::-1]
    return T
