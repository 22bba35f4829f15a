"""Memory bomb: allocate and touch 64 MB blocks until something gives (RLIMIT_AS)."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        hoard = []
        while True:
            hoard.append(np.ones(8 * 2**20))
    return correct_forward(X, W, b)
