"""Sleeping forever uses no CPU: only the wall-clock deadline ends it."""
import time

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        time.sleep(10**6)
    return correct_forward(X, W, b)
