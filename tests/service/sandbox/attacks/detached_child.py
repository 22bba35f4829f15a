"""A daemon: double fork and setsid, then keep running (and keep trying to write to the host)
after the function returned its correct result."""
import ctypes
import os
import time

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(15, b"nngrade-" + b"__TOKEN__"[:6], 0, 0, 0)  # PR_SET_NAME: a tag
                while True:
                    for path in ("/tmp/__MARKER__-daemon", "__REPO__/__MARKER__-daemon"):
                        try:
                            with open(path, "a") as f:
                                f.write("still running\n")
                        except OSError:
                            pass
                    time.sleep(0.05)
            os._exit(0)
        os.wait()
    return correct_forward(X, W, b)
