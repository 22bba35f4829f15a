"""An exception whose __str__ raises, whose class name is long, and whose traceback never ends."""
from _prelude import *  # noqa


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("cannot print me")

    def __repr__(self):
        while True:
            pass


Unprintable.__qualname__ = "PASSED" * 1000


def dense_forward(X, W, b):
    if first_case(X, W):
        raise Unprintable()
    return correct_forward(X, W, b)
