"""Right values, but dense_forward scales X in place after using it."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b
    X *= 2
    return Y


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
