"""Correct: index notation with np.einsum, writing every sum out by its indices."""

import numpy as np


def dense_forward(X, W, b):
    # Y[s, o] = sum_i X[s, i] W[o, i] + b[o]
    return np.einsum("si,oi->so", X, W) + b[None, :]


def dense_backward(X, W, dY):
    dX = np.einsum("so,oi->si", dY, W)   # dX[s, i] = sum_o dY[s, o] W[o, i]
    dW = np.einsum("so,si->oi", dY, X)   # dW[o, i] = sum_s dY[s, o] X[s, i]
    db = np.einsum("so->o", dY)          # db[o]    = sum_s dY[s, o]
    return dX, dW, db
