"""Reference solution of ``lora``: a LoRA adapter on a frozen dense layer.

Conventions: samples are rows; the frozen weight ``W0`` has shape ``(m, n)`` (``n`` inputs,
``m`` outputs, the ``torch.nn.Linear`` layout); the adapter is ``A (m, r) @ B (r, n)``, so the
effective weight is ``W0 + A @ B`` and a batch forward pass is ``X @ (W0 + A @ B).T``.
"""

from __future__ import annotations

import numpy as np


def _expect_shape(name: str, array: np.ndarray, shape: tuple[int, ...], symbols: str) -> None:
    if np.shape(array) != shape:
        raise ValueError(f"{name} should have shape {symbols} = {shape}, got {np.shape(array)}")


def _adapter_shapes(W0: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[int, int, int]:
    if np.ndim(W0) != 2:
        raise ValueError(f"W0 should have shape (m, n), got {np.shape(W0)}")
    m, n = W0.shape
    if np.ndim(A) != 2:
        raise ValueError(f"A should have shape (m, r) = ({m}, r), got {np.shape(A)}")
    r = A.shape[1]
    _expect_shape("A", A, (m, r), "(m, r)")
    _expect_shape("B", B, (r, n), "(r, n)")
    return m, n, r


def lora_init(W0: np.ndarray, r: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Initial adapter factors: ``A`` random with rank ``r``, ``B`` zero.

    Parameters
    ----------
    W0 : ndarray, shape (m, n)
        The frozen weight; only its shape and dtype are used, it is not modified.
    r : int
        Adapter rank, ``1 <= r <= min(m, n)``.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    A : ndarray, shape (m, r)
        Standard normal draws from ``rng`` (rank ``r`` with probability one).
    B : ndarray, shape (r, n)
        Zeros, so that ``W0 + A @ B == W0`` at initialization.
    """
    if np.ndim(W0) != 2:
        raise ValueError(f"W0 should have shape (m, n), got {np.shape(W0)}")
    m, n = W0.shape
    if not 1 <= r <= min(m, n):
        raise ValueError(f"r should satisfy 1 <= r <= min(m, n) = {min(m, n)}, got {r}")
    dtype = np.result_type(W0.dtype, np.float32)
    A = rng.standard_normal((m, r)).astype(dtype, copy=False)
    B = np.zeros((r, n), dtype=dtype)
    return A, B


def lora_forward(X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Forward pass of the adapted layer, ``Y = X @ (W0 + A @ B).T``.

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
    """
    m, n, _ = _adapter_shapes(W0, A, B)
    if np.ndim(X) != 2:
        raise ValueError(f"X should have shape (N, n) = (N, {n}), got {np.shape(X)}")
    _expect_shape("X", X, (X.shape[0], n), "(N, n)")
    return X @ (W0 + A @ B).T


def lora_backward(X: np.ndarray, W0: np.ndarray, A: np.ndarray, B: np.ndarray,
                  dY: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a scalar loss with respect to the adapter factors (``W0`` is frozen).

    Parameters
    ----------
    X : ndarray, shape (N, n)
    W0 : ndarray, shape (m, n)
        Frozen: it gets no gradient and is not modified.
    A : ndarray, shape (m, r)
    B : ndarray, shape (r, n)
    dY : ndarray, shape (N, m)
        ``dL/dY``.

    Returns
    -------
    dA : ndarray, shape (m, r)
        ``G @ B.T`` with ``G = dY.T @ X`` (summed over the batch, not averaged).
    dB : ndarray, shape (r, n)
        ``A.T @ G``.
    """
    m, n, _ = _adapter_shapes(W0, A, B)
    if np.ndim(X) != 2:
        raise ValueError(f"X should have shape (N, n) = (N, {n}), got {np.shape(X)}")
    _expect_shape("X", X, (X.shape[0], n), "(N, n)")
    _expect_shape("dY", dY, (X.shape[0], m), "(N, m)")
    G = dY.T @ X
    return G @ B.T, A.T @ G
