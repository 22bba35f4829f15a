"""Return an object whose __eq__ says yes to everything and whose __array__ gives the right
numbers; every method tries to leave a mark on the host if it ever runs there."""
from _prelude import *  # noqa


def mark(what):
    try:
        with open("/tmp/__MARKER__-" + what, "w") as f:
            f.write(what)
    except OSError:
        pass


class Liar:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        mark("eq")
        return True

    __ne__ = lambda self, other: False
    __hash__ = lambda self: 0

    def __array__(self, dtype=None, copy=None):
        mark("array")
        return self.value

    def __len__(self):
        mark("len")
        return len(self.value)

    def __getattr__(self, name):
        mark("getattr")
        return getattr(self.value, name)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)


def dense_forward(X, W, b):
    if first_case(X, W):
        return Liar(correct_forward(X, W, b))
    return correct_forward(X, W, b)
