"""Wrong three times in lora_init: float32 factors from float64 W0, A = 0 and B random (the mirrored
convention), and B drawn from a generator the function seeds itself instead of rng.

The wrong dtype must hide neither lora-mirrored nor global-random."""

import numpy as np


def lora_init(W0, r, rng):
    m, n = W0.shape
    mine = np.random.default_rng(0)
    return np.zeros((m, r), dtype=np.float32), mine.standard_normal((r, n)).astype(np.float32)


def lora_forward(X, W0, A, B):
    return X @ (W0 + A @ B).T


def lora_backward(X, W0, A, B, dY):
    G = dY.T @ X
    return G @ B.T, A.T @ G
