"""Spin at import time with SIGXCPU ignored: the soft CPU limit only warns, the hard one kills.
(At import the wall-clock budget is the whole submission's, so the CPU limit strikes first.)"""
import signal

import numpy as np

signal.signal(signal.SIGXCPU, signal.SIG_IGN)
while True:
    pass


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
