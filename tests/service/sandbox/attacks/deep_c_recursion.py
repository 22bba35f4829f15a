"""Recursion limit lifted, then a million nested lists printed: the C stack overflows."""
import sys

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        sys.setrecursionlimit(10**8)
        nested = []
        for _ in range(10**6):
            nested = [nested]
        repr(nested)
    return correct_forward(X, W, b)
