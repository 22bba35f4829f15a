"""Imports a name NumPy does not have."""

import numpy as np
from numpy.linalg import backpropagate


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return backpropagate(X, W, dY)
