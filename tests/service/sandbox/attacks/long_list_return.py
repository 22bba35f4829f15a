"""Return a million Python floats nested in lists, or a structure nested 1000 levels deep."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        return [[0.0] * 1000 for _ in range(1000)]
    return correct_forward(X, W, b)


def dense_backward(X, W, dY):
    nested = []
    for _ in range(1000):
        nested = [nested]
    return nested, nested, nested
