"""Correct: whole-batch matrix products, as in the statement."""

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
