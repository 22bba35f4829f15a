"""Imports scikit-learn at the top of the file."""

import numpy as np
from sklearn.linear_model import LinearRegression


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
