"""Dozens of threads spinning at once (one submission must not take every core)."""
import threading

from _prelude import *  # noqa


def spin():
    while True:
        pass


def dense_forward(X, W, b):
    if first_case(X, W):
        for _ in range(64):
            try:
                threading.Thread(target=spin, daemon=True).start()
            except RuntimeError:  # RLIMIT_NPROC counts threads too
                break
        spin()
    return correct_forward(X, W, b)
