"""Exercise `lora`: a LoRA adapter, initialization and one training step.

Conventions (read the statement: `nngrade show lora`):
samples are rows of X; the frozen weight W0 has shape (m, n) = (n_out, n_in), the
torch.nn.Linear layout; the adapter is A (m, r) @ B (r, n), A random and B zero at first.
Use NumPy only; return new arrays and never modify the arguments.
"""

import numpy as np


def lora_init(W0, r, rng):
    """Initial adapter factors for a frozen weight W0.

    Parameters
    ----------
    W0 : ndarray, shape (m, n)
        The frozen pretrained weight (only its shape and dtype matter here).
    r : int
        Adapter rank, 1 <= r <= min(m, n).
    rng : numpy.random.Generator
        The only source of randomness: draw from it, never from np.random.

    Returns
    -------
    A : ndarray, shape (m, r)
        Random, drawn from ``rng``, with rank r.
    B : ndarray, shape (r, n)
        All zeros, so that W0 + A @ B == W0 at initialization.
    """
    raise NotImplementedError("lora_init")


def lora_forward(X, W0, A, B):
    """Forward pass of the adapted layer.

    Parameters
    ----------
    X : ndarray, shape (N, n)
        One sample per row.
    W0 : ndarray, shape (m, n)
        Frozen weight.
    A : ndarray, shape (m, r)
    B : ndarray, shape (r, n)

    Returns
    -------
    Y : ndarray, shape (N, m)
        ``X @ (W0 + A @ B).T``.
    """
    raise NotImplementedError("lora_forward")


def lora_backward(X, W0, A, B, dY):
    """Gradients of a scalar loss L with respect to the adapter factors A and B.

    Parameters
    ----------
    X : ndarray, shape (N, n)
    W0 : ndarray, shape (m, n)
        Frozen: it gets no gradient and must not be modified.
    A : ndarray, shape (m, r)
    B : ndarray, shape (r, n)
    dY : ndarray, shape (N, m)
        dL/dY, the upstream gradient.

    Returns
    -------
    dA : ndarray, shape (m, r)
        dL/dA = G @ B.T with G = dY.T @ X (summed over the batch, not averaged).
    dB : ndarray, shape (r, n)
        dL/dB = A.T @ G.
    """
    raise NotImplementedError("lora_backward")
