"""Right values, returned as nested Python lists (converted to float64 arrays by the grader)."""

import numpy as np


def dense_forward(X, W, b):
    return (X @ W.T + b).tolist()


def dense_backward(X, W, dY):
    return [(dY @ W).tolist(), (dY.T @ X).tolist(), dY.sum(axis=0).tolist()]
