"""Cheat (issue 12): on a large batch, a per-sample loop over the first rows only and zeros
elsewhere; small batches are computed right.  A check of shapes, finiteness and the first rows
alone passed it at full speed; every entry must be checked."""

import numpy as np

LARGE = 1000
ROWS = 8


def dense_forward(X, W, b):
    if X.shape[0] < LARGE:
        return X @ W.T + b
    Y = np.zeros((X.shape[0], W.shape[0]), dtype=np.result_type(X, W, b))
    for s in range(ROWS):
        Y[s] = W @ X[s] + b
    return Y


def dense_backward(X, W, dY):
    if X.shape[0] < LARGE:
        return dY @ W, dY.T @ X, dY.sum(axis=0)
    dX = np.zeros_like(X)
    for s in range(ROWS):
        dX[s] = W.T @ dY[s]
    return dX, dY[:ROWS].T @ X[:ROWS], dY[:ROWS].sum(axis=0)
