# --- prelude (attacks/_prelude_dense.py): a correct dense layer; the attack below overrides it ---
import json

import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)


def first_case(X, W):
    """True only for the inputs of the first visible case, "forward: small batch"."""
    return X.shape == (4, 3) and W.shape == (2, 3)


correct_forward = dense_forward


def exfil(found):
    """Carry what the attack found into the report, through the message of an exception."""
    raise RuntimeError("EXFIL<<" + json.dumps(found, default=str)[:1300] + ">>EXFIL")
# --- end of prelude ---
