"""dense_forward calls sys.exit instead of returning."""

import sys

import numpy as np


def dense_forward(X, W, b):
    print("done")
    sys.exit(0)


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
