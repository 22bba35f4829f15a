"""Reference solution of ``dense``: a batched dense layer, forward and backward.

Conventions: samples are rows; ``W`` has shape ``(n_out, n_in)``.
"""

from __future__ import annotations

import numpy as np


def _check(name: str, array: np.ndarray, shape: tuple) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} should have shape {shape}, got {array.shape}")


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Forward pass ``Y = X @ W.T + b``.

    Parameters
    ----------
    X : ndarray, shape (B, n_in)
    W : ndarray, shape (n_out, n_in)
    b : ndarray, shape (n_out,)

    Returns
    -------
    Y : ndarray, shape (B, n_out)
    """
    n_out, n_in = W.shape
    _check("X", X, (X.shape[0], n_in))
    _check("b", b, (n_out,))
    return X @ W.T + b


def dense_backward(X: np.ndarray, W: np.ndarray, dY: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a scalar loss through ``Y = X @ W.T + b``.

    Parameters
    ----------
    X : ndarray, shape (B, n_in)
    W : ndarray, shape (n_out, n_in)
    dY : ndarray, shape (B, n_out)
        ``dL/dY``.

    Returns
    -------
    dX : ndarray, shape (B, n_in)
        ``dY @ W``.
    dW : ndarray, shape (n_out, n_in)
        ``dY.T @ X`` (summed over the batch, not averaged).
    db : ndarray, shape (n_out,)
        ``dY.sum(axis=0)``.
    """
    n_out, n_in = W.shape
    _check("X", X, (X.shape[0], n_in))
    _check("dY", dY, (X.shape[0], n_out))
    return dY @ W, dY.T @ X, dY.sum(axis=0)
