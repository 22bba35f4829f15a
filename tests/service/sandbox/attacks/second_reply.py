"""Answer the first call (of the first case) twice: a forged, wrong answer written on the channel
right before the runner sends the real one, tagged as the answer to the same request."""
import os
import stat
import sys

import numpy as np

from _prelude import *  # noqa


def dense_forward(X, W, b):
    Y = X @ W.T + b
    if first_case(X, W):
        channel = sys.modules["channel"]
        for fd in range(3, 64):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    for part in channel.frame({"call": 1, "value": np.zeros_like(Y), "mutated": [],
                                               "warnings": []}):
                        os.write(fd, part)
            except OSError:
                continue
    return Y
