"""Wrong (grad-averaged): the seed 000 Dense class divides dW and db by the batch size."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    B = X.shape[0]
    return dY @ W, (dY.T @ X) / B, dY.sum(axis=0) / B
