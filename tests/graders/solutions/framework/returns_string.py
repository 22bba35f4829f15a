"""dense_forward returns the printed array instead of the array."""

import numpy as np


def dense_forward(X, W, b):
    return str(X @ W.T + b)


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
