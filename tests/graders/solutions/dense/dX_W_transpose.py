"""Wrong (dX-used-W-transpose): seed 002's dL/dX = dL/dY W^T copied into the (n_out, n_in) layout."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W.T, dY.T @ X, dY.sum(axis=0)
