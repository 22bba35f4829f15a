"""Cheat (issue 12): a per-sample loop that remembers its answers by the bytes of its inputs.
Where a retry repeats the inputs of a slow first try, the retry is fast, and a grader that
keeps the best time with any try's result passes it; fresh inputs for every try do not."""

import hashlib

import numpy as np

_seen = {}


def _key(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def dense_forward(X, W, b):
    key = _key(X, W, b)
    if key not in _seen:
        Y = np.empty((X.shape[0], W.shape[0]), dtype=np.result_type(X, W, b))
        for s in range(X.shape[0]):
            Y[s] = W @ X[s] + b
        _seen[key] = Y
    return _seen[key].copy()


def dense_backward(X, W, dY):
    key = _key(X, W, dY)
    if key not in _seen:
        dX = np.empty_like(X, dtype=np.result_type(X, W, dY))
        for s in range(X.shape[0]):
            dX[s] = dY[s] @ W
        _seen[key] = (dX, dY.T @ X, dY.sum(axis=0))
    return tuple(a.copy() for a in _seen[key])
