"""Wrong (kernel-not-flipped): the kernel slid along the rows as it is, a cross-correlation."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    c = (k - 1) // 2
    T = np.zeros((n, n), dtype=kernel.dtype)
    for i in range(n):
        for j in range(k):
            m = i - c + j
            if 0 <= m < n:
                T[i, m] = kernel[j]
    return T
