"""An infinite loop: only the deadline measured outside the sandbox ends it."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        while True:
            pass
    return correct_forward(X, W, b)
