"""Gigabytes of output through print()."""
import sys

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        line = "PASS " * 20000
        for _ in range(200_000):  # 20 GB
            sys.stdout.write(line)
            sys.stderr.write(line)
    return correct_forward(X, W, b)
