"""dense_forward returns an ndarray subclass whose methods lie (and leave a mark when called).

The grader must judge the returned value as data: none of these methods may run while it
converts or compares the result.  ``MARKER`` is replaced by the test with a file path.
"""

import numpy as np

MARKER = "__MARKER__"


def _mark(name):
    def method(self, *args, **kwargs):
        with open(MARKER, "a") as f:
            f.write(name + "\n")
        return True

    return method


class Agreeable(np.ndarray):
    """Equal to everything, and every conversion answers True."""

    __eq__ = _mark("__eq__")
    __ne__ = _mark("__ne__")
    __array_ufunc__ = _mark("__array_ufunc__")
    __array_function__ = _mark("__array_function__")
    __array__ = _mark("__array__")
    __array_wrap__ = _mark("__array_wrap__")
    __len__ = _mark("__len__")
    __iter__ = _mark("__iter__")
    __getitem__ = _mark("__getitem__")
    __reduce__ = _mark("__reduce__")
    __reduce_ex__ = _mark("__reduce_ex__")
    __float__ = _mark("__float__")
    __bool__ = _mark("__bool__")
    __repr__ = _mark("__repr__")
    __str__ = _mark("__str__")
    __format__ = _mark("__format__")
    __copy__ = _mark("__copy__")
    __deepcopy__ = _mark("__deepcopy__")


def dense_forward(X, W, b):
    return (X @ W.T + b).view(Agreeable)


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
