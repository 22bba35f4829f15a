"""The right numbers in a dtype that is not plain numeric data (object, complex, long double,
structured, datetime)."""
from _prelude import *  # noqa

DTYPE = __DTYPE__


def dense_forward(X, W, b):
    if first_case(X, W):
        Y = correct_forward(X, W, b)
        if DTYPE == "structured":
            out = np.zeros(Y.shape, dtype=[("value", "<f8")])
            out["value"] = Y
            return out
        if DTYPE == "datetime":
            return Y.astype("int64").astype("datetime64[s]")
        return Y.astype(DTYPE)
    return correct_forward(X, W, b)
