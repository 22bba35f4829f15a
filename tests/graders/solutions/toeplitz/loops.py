"""Correct: explicit loops over the rows and the kernel, from same[i] = full[i + (k - 1) // 2]."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    c = (k - 1) // 2
    T = np.zeros((n, n), dtype=kernel.dtype)
    for i in range(n):
        for j in range(k):
            m = i + c - j          # full[i + c] = sum_j kernel[j] * x[i + c - j]
            if 0 <= m < n:
                T[i, m] = kernel[j]
    return T
