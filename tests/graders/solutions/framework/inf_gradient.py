"""Right shapes, but an inf in dW; dense_forward is right."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    dW = dY.T @ X
    dW[-1, -1] = np.inf
    return dY @ W, dW, dY.sum(axis=0)
