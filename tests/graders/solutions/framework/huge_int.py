"""dense_forward returns integers beyond the 64-bit range."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b
    return [[int(v * 1e6) * 2**64 for v in row] for row in Y]


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
