"""dense_backward returns masked arrays (a subclass of ndarray)."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    dX, dW, db = dY @ W, dY.T @ X, dY.sum(axis=0)
    return np.ma.masked_invalid(dX), np.ma.masked_invalid(dW), np.ma.masked_invalid(db)
