"""Wrong (dX-used-updated-weights): the layer takes its SGD step first, then computes dX with the new W."""

import numpy as np

LEARNING_RATE = 0.05


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    dW = dY.T @ X
    db = dY.sum(axis=0)
    W_new = W - LEARNING_RATE * dW
    return dY @ W_new, dW, db
