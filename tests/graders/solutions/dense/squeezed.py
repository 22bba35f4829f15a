"""Wrong (wrong-shape): np.squeeze on the results drops the axes of length 1 (B = 1, n_out = 1)."""

import numpy as np


def dense_forward(X, W, b):
    return np.squeeze(X @ W.T + b)


def dense_backward(X, W, dY):
    return np.squeeze(dY @ W), np.squeeze(dY.T @ X), np.squeeze(dY.sum(axis=0))
