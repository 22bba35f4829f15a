"""dense_forward returns an object pretending to be an array (``__array__``, ``__eq__`` …).

Every method leaves a mark in ``MARKER`` (replaced by the test with a file path); none may
run while the grader converts or judges the value.
"""

import numpy as np

MARKER = "__MARKER__"


def _mark(name, answer):
    def method(self, *args, **kwargs):
        with open(MARKER, "a") as f:
            f.write(name + "\n")
        return answer

    return method


class LazyResult:
    def __init__(self, X, W, b):
        self.value = X @ W.T + b

    __array__ = _mark("__array__", np.zeros((1, 1)))
    __array_ufunc__ = _mark("__array_ufunc__", True)
    __array_interface__ = property(_mark("__array_interface__", None))
    __eq__ = _mark("__eq__", True)
    __ne__ = _mark("__ne__", False)
    __hash__ = object.__hash__
    __len__ = _mark("__len__", 1)
    __iter__ = _mark("__iter__", iter(()))
    __getitem__ = _mark("__getitem__", 0.0)
    __reduce__ = _mark("__reduce__", (float, (0.0,)))
    __float__ = _mark("__float__", 0.0)
    __repr__ = _mark("__repr__", "array([...])")
    __str__ = _mark("__str__", "array([...])")
    shape = property(_mark("shape", (1, 1)))
    dtype = property(_mark("dtype", np.dtype(np.float64)))
    __class__ = property(_mark("__class__", np.ndarray))


def dense_forward(X, W, b):
    return LazyResult(X, W, b)


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
