"""Wrong (input-mutated): right values, but the kernel is flipped in place, changing the caller's array."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    kernel[:] = kernel[::-1].copy()      # flip once, then slide without flipping
    c = k - 1 - (k - 1) // 2
    T = np.zeros((n, n), dtype=kernel.dtype)
    for i in range(n):
        for j in range(k):
            m = i - c + j
            if 0 <= m < n:
                T[i, m] = kernel[j]
    return T
