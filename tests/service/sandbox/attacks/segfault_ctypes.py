"""Read address 0 through ctypes: a segmentation fault."""
import ctypes

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        ctypes.string_at(0)
    return correct_forward(X, W, b)
