"""A syntax error on line 7 (a missing closing parenthesis)."""

import numpy as np


def dense_forward(X, W, b):
    return (X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
