"""Imports a SciPy submodule under another name."""

import numpy as np
import scipy.linalg as sla


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
