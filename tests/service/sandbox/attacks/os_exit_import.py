"""os._exit() while the module is imported: the process is gone before it can answer."""
import os

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)


os._exit(0)
