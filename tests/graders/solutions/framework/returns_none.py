"""Forgot the return statements: both functions return None."""

import numpy as np


def dense_forward(X, W, b):
    Y = X @ W.T + b


def dense_backward(X, W, dY):
    dX, dW, db = dY @ W, dY.T @ X, dY.sum(axis=0)
