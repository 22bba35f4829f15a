"""Wrong (dW-transposed): the seed 002 layout X.T @ dY, shaped (n_in, n_out) instead of W's."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, X.T @ dY, dY.sum(axis=0)
