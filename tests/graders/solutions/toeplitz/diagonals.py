"""Correct: one np.diag per kernel entry; kernel[j] fills the diagonal m - i = (k - 1) // 2 - j."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    T = np.zeros((n, n), dtype=kernel.dtype)
    for j in range(k):
        d = (k - 1) // 2 - j
        T += np.diag(np.full(n - abs(d), kernel[j], dtype=kernel.dtype), d)
    return T
