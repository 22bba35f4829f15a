"""Wrong twice: float64 results whatever the inputs, and dW transposed (X.T @ dY).

The wrong dtype must not hide the transposed gradient."""

import numpy as np


def dense_forward(X, W, b):
    return (X @ W.T + b).astype(np.float64)


def dense_backward(X, W, dY):
    X, W, dY = (a.astype(np.float64) for a in (X, W, dY))
    return dY @ W, X.T @ dY, dY.sum(axis=0)
