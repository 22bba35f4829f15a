"""dense_forward returns a structured (record) array."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b
    out = np.zeros(Y.shape, dtype=[("value", "f8"), ("ok", "?")])
    out["value"] = Y
    return out


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
