"""Correct: column m of T is the image of the basis vector e_m under the convolution."""

import numpy as np


def conv_matrix(kernel, n):
    return np.stack([np.convolve(e, kernel, mode="same") for e in np.eye(n, dtype=kernel.dtype)], axis=1)
