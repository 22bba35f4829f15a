"""Wrong (bias-not-broadcast): the seed's column-convention b[:, None] kept with samples as rows."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b[:, None]


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
