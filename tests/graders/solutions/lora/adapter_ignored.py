"""Wrong: the forward pass uses the frozen weight alone."""

import numpy as np


def lora_init(W0, r, rng):
    m, n = W0.shape
    return rng.standard_normal((m, r)), np.zeros((r, n))


def lora_forward(X, W0, A, B):
    return X @ W0.T


def lora_backward(X, W0, A, B, dY):
    G = dY.T @ X
    return G @ B.T, A.T @ G
