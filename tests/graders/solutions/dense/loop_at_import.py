"""Cheat (issue 12): a per-sample loop run at import on the large batch a grader with a fixed
seed would send (``default_rng(200_000)``, drawn in the grader's order), answered from memory
when those inputs arrive.  Inputs drawn from the run's seed cannot be known at import."""

import numpy as np


def _forward_loop(X, W, b):
    Y = np.empty((X.shape[0], W.shape[0]), dtype=np.result_type(X, W, b))
    for s in range(X.shape[0]):
        Y[s] = W @ X[s] + b
    return Y


def _backward_loop(X, W, dY):
    dX = np.empty_like(X, dtype=np.result_type(X, W, dY))
    dW = np.zeros_like(W, dtype=dX.dtype)
    db = np.zeros(W.shape[0], dtype=dX.dtype)
    for s in range(X.shape[0]):
        dX[s] = W.T @ dY[s]
        dW += np.outer(dY[s], X[s])
        db += dY[s]
    return dX, dW, db


_rng = np.random.default_rng(200_000)
_X = _rng.standard_normal((200_000, 2))
_W = _rng.standard_normal((1, 2))
_b = _rng.standard_normal(1)
_dY = _rng.standard_normal((200_000, 1))
_Y = _forward_loop(_X, _W, _b)
_GRADS = _backward_loop(_X, _W, _dY)


def _known(*pairs):
    return all(a.shape == k.shape and np.array_equal(a, k) for a, k in pairs)


def dense_forward(X, W, b):
    if _known((X, _X), (W, _W), (b, _b)):
        return _Y.copy()
    return _forward_loop(X, W, b)


def dense_backward(X, W, dY):
    if _known((X, _X), (W, _W), (dY, _dY)):
        return tuple(a.copy() for a in _GRADS)
    return _backward_loop(X, W, dY)
