"""Wrong (wrong-dtype): T always float64 (np.zeros' default), whatever the kernel's dtype."""

import numpy as np


def conv_matrix(kernel, n):
    k = len(kernel)
    T = np.zeros((n, n))
    for i in range(n):
        for j in range(k):
            m = i + (k - 1) // 2 - j
            if 0 <= m < n:
                T[i, m] = kernel[j]
    return T
