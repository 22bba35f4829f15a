"""dense_forward returns an object-dtype array (holding Python floats)."""

import numpy as np


def dense_forward(X, W, b):
    return np.array(X @ W.T + b, dtype=object)


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
