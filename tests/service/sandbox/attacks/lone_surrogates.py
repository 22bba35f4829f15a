"""Put text that cannot be written as UTF-8 into the report: lone surrogates (a low one, then a
high one) in the message of the exception the first case gets."""
from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        raise ValueError("marks: 19/19 " + chr(0xDC80) + chr(0xD800))
    return correct_forward(X, W, b)
