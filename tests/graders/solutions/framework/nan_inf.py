"""Right shapes, but nan in Y; dense_backward is right."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b
    Y[0, 0] = np.nan
    return Y


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
