"""Memory bomb while the module is imported: no function ever gets called."""
import numpy as np

hoard = []
while True:
    hoard.append(np.ones(8 * 2**20))


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
