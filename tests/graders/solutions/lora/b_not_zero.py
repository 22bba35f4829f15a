"""Wrong: both factors random, so the adapted layer does not start as W0."""

import numpy as np


def lora_init(W0, r, rng):
    m, n = W0.shape
    return rng.standard_normal((m, r)), rng.standard_normal((r, n))


def lora_forward(X, W0, A, B):
    return X @ (W0 + A @ B).T


def lora_backward(X, W0, A, B, dY):
    G = dY.T @ X
    return G @ B.T, A.T @ G
