"""A forbidden framework imported by name at call time, out of sight of the import check."""
import importlib

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        sklearn = importlib.import_module("sk" + "learn")
        return sklearn.linear_model.LinearRegression().fit(X, X @ W.T + b).predict(X)
    return correct_forward(X, W, b)
