"""Return an object whose __reduce__ runs a shell command when unpickled, and whose __class__
claims to be numpy.ndarray."""
import os

from _prelude import *  # noqa


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/__MARKER__-reduce",))

    @property
    def __class__(self):
        return np.ndarray


def dense_forward(X, W, b):
    if first_case(X, W):
        return Payload()
    return correct_forward(X, W, b)
