"""Change the inputs: in the call (dense_backward takes an optimizer step on W in place, the
usual mistake), or after returning (dense_forward keeps its inputs and a thread keeps trying
to write into them, through every route NumPy offers, while later calls run); the last case
to call dense_backward reports what the thread achieved.  HOW is "in_call" or "after_return"."""
import threading
import time

import numpy as np

from _prelude import *  # noqa

HOW = __HOW__
kept = []
attempts = {}


def scribble():
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for X in kept:
            routes = {
                "setitem": lambda: X.__setitem__(..., 0.0),
                "inplace": lambda: np.multiply(X, 0.0, out=X),
                "setflags": lambda: X.setflags(write=True),
                "base": lambda: np.frombuffer(X.base.base if X.base is not None and X.base.base is not None
                                              else X.base, dtype=np.uint8).__setitem__(0, 0),
            }
            for name, route in routes.items():
                try:
                    route()
                    attempts[name] = "landed"
                except Exception as exc:
                    attempts.setdefault(name, f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)


def dense_forward(X, W, b):
    Y = X @ W.T + b
    if HOW == "after_return" and not kept:
        kept.extend([X, W])
        threading.Thread(target=scribble, daemon=True).start()
    return Y


def dense_backward(X, W, dY):
    dX, dW, db = dY @ W, dY.T @ X, dY.sum(axis=0)
    if HOW == "in_call":
        np.subtract(W, 0.1 * dW, out=W)
    elif attempts and X.shape == (5, 4):  # "backward: small batch", after the forward cases
        time.sleep(0.6)
        exfil({"values": [float(v) for a in kept for v in a.ravel()], "attempts": attempts})
    return dX, dW, db
