"""dense_forward wraps its result in many layers of lists."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b
    for _ in range(50):
        Y = [Y]
    return Y


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
