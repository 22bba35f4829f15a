"""Correct: the seed's column convention (samples as columns, Z = W X + b 1^T), translated
back to rows at the boundary; dW summed block by block over the batch, last block first."""

import numpy as np

BLOCK = 4096


def dense_forward(X, W, b):
    Xc = X.T                                  # (n_in, B): samples as columns
    Zc = W @ Xc + b[:, None]                  # (n_out, B)
    return np.ascontiguousarray(Zc.T)         # (B, n_out)


def dense_backward(X, W, dY):
    Dc = dY.T                                 # (n_out, B): the upstream gradient, samples as columns
    dX = (W.T @ Dc).T                         # the adjoint W^T applied in the column convention, back to rows
    dW = np.zeros_like(W)
    for start in reversed(range(0, X.shape[0], BLOCK)):
        dW += Dc[:, start:start + BLOCK] @ X[start:start + BLOCK]   # Delta X^T over one block of samples
    db = np.add.reduce(Dc, axis=1)            # Delta 1: one sum per output
    return dX, dW, db
