"""A function that calls itself for ever."""
from _prelude import *  # noqa


def forever(n):
    return forever(n + 1) + 1


def dense_forward(X, W, b):
    if first_case(X, W):
        forever(0)
    return correct_forward(X, W, b)
