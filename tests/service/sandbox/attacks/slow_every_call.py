"""Every call to dense_forward sleeps past the per-call limit: each case that calls it times
out, and each timeout starts a fresh sandbox for the next case."""
import time

from _prelude import *  # noqa


def dense_forward(X, W, b):
    time.sleep(3600)
