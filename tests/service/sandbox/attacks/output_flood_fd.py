"""Gigabytes written straight to file descriptors 1 and 2, below Python's buffers."""
import os

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        block = b"x" * 2**20
        for _ in range(20_000):  # 20 GB
            os.write(1, block)
            os.write(2, block)
    return correct_forward(X, W, b)
