"""Ignore every catchable signal that could end the process, then sleep: SIGKILL is the only way."""
import signal
import time

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                    signal.SIGUSR2, signal.SIGALRM, signal.SIGXCPU, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            time.sleep(0.01)
    return correct_forward(X, W, b)
