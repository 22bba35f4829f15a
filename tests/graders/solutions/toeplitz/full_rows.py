"""Correct: the (n + k - 1, n) matrix of mode='full', then the n rows that mode='same' keeps."""

import numpy as np


def conv_matrix(kernel, n):
    k = kernel.shape[0]
    full = np.zeros((n + k - 1, n), dtype=kernel.dtype)
    for m in range(n):                  # column m: the full convolution of the basis vector e_m
        full[m:m + k, m] = kernel
    start = (k - 1) // 2
    return full[start:start + n].copy()
