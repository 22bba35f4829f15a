"""Heavy work at import time (a hidden training loop that never ends)."""
import numpy as np

weights = np.zeros((64, 64))
while True:
    weights = np.tanh(weights @ weights + 1.0)


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
