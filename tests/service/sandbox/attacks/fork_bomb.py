"""Fork bomb: every process forks forever.  RLIMIT_NPROC stops the forks, the wall clock the
submission, and the pid namespace takes every child down with it."""
import os

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        while True:
            try:
                os.fork()
            except OSError:
                pass
    return correct_forward(X, W, b)
