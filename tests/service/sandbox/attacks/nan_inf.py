"""nan and inf instead of numbers."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    Y = correct_forward(X, W, b)
    if first_case(X, W):
        Y[0, 0] = np.nan
        Y[1, 1] = np.inf
    return Y
