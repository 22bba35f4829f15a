"""Wrong (even-kernel-off-by-one): the centre taken as k // 2, right for odd k only."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    c = k // 2
    T = np.zeros((n, n), dtype=kernel.dtype)
    for i in range(n):
        for j in range(k):
            m = i + c - j
            if 0 <= m < n:
                T[i, m] = kernel[j]
    return T
