"""Wrong: "trains" the frozen W0 in place inside the backward pass."""

import numpy as np


def lora_init(W0, r, rng):
    m, n = W0.shape
    return rng.standard_normal((m, r)), np.zeros((r, n))


def lora_forward(X, W0, A, B):
    return X @ (W0 + A @ B).T


def lora_backward(X, W0, A, B, dY):
    G = dY.T @ X
    W0 -= 0.01 * G
    return G @ B.T, A.T @ G
