"""sys.exit() while the module is imported."""
import sys

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)


sys.exit(0)
