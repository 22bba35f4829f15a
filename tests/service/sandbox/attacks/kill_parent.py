"""Kill the parent, the namespace's init and this process with SIGKILL, then answer correctly.

In its own pid namespace the runner is pid 1: its parent is outside (getppid() is 0, so the
first kill targets its own process group), and init ignores signals from inside."""
import os
import signal

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        for pid in (os.getppid(), 1, os.getpid()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return correct_forward(X, W, b)
