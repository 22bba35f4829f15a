"""A loop over samples, with every clock in the sandbox frozen so that it looks instant.
The trusted side times the calls itself."""
import time

from _prelude import *  # noqa

for name in ("time", "perf_counter", "monotonic", "process_time", "thread_time"):
    setattr(time, name, lambda: 0.0)
    setattr(time, name + "_ns", lambda: 0)


def dense_forward(X, W, b):
    Y = np.empty((X.shape[0], W.shape[0]), dtype=np.result_type(X, W, b))
    for i in range(X.shape[0]):
        Y[i] = W @ X[i] + b
    return Y


def dense_backward(X, W, dY):
    dW = np.zeros_like(W)
    for i in range(X.shape[0]):
        dW += np.outer(dY[i], X[i])
    return dY @ W, dW, dY.sum(axis=0)
