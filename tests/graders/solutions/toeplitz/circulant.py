"""Wrong (circulant-wraparound): column indices taken modulo n, so the kernel wraps around."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    c = (k - 1) // 2
    T = np.zeros((n, n), dtype=kernel.dtype)
    for i in range(n):
        for j in range(k):
            T[i, (i + c - j) % n] += kernel[j]
    return T
