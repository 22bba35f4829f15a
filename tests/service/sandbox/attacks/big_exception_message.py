"""An exception whose message is 200 MB."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        raise ValueError("all tests passed " * 12_500_000)
    return correct_forward(X, W, b)
