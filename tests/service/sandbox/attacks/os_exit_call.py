"""os._exit() inside a call: the sandbox ends without an answer."""
import os

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        os._exit(7)
    return correct_forward(X, W, b)
