"""Reference solution of ``attention``: scaled dot-product attention with row-stochastic weights.

Conventions: tokens are rows.  ``Q (T_q, d_k)``, ``K (T_k, d_k)``, ``V (T_k, d_v)``;
``A = softmax(Q @ K.T / sqrt(d_k), axis=1)`` has shape ``(T_q, T_k)`` and each of its rows
sums to 1; ``out = A @ V`` has shape ``(T_q, d_v)``.  (The course chapter stores tokens as
columns and writes ``V · Aᵀ``; this is the same computation transposed.)
"""

from __future__ import annotations

import numpy as np


def softmax(S: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``.

    Parameters
    ----------
    S : ndarray, any shape
        Finite scores.
    axis : int, default -1
        The axis along which the result sums to 1.

    Returns
    -------
    P : ndarray, shape of ``S``
        ``exp(S - max) / sum(exp(S - max))`` along ``axis``; non-negative and finite for
        any finite input, because the largest exponent is 0.
    """
    S = np.asarray(S)
    if S.ndim == 0:
        raise ValueError("S should have at least one axis, got shape ()")
    if not -S.ndim <= axis < S.ndim:
        raise ValueError(f"axis {axis} is out of range for S of shape {S.shape}")
    e = np.exp(S - S.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention.

    Parameters
    ----------
    Q : ndarray, shape (T_q, d_k)
        Queries, one per row.
    K : ndarray, shape (T_k, d_k)
        Keys, one per row.
    V : ndarray, shape (T_k, d_v)
        Values, one per row.

    Returns
    -------
    out : ndarray, shape (T_q, d_v)
        ``A @ V``: row ``i`` is a convex combination of the rows of ``V``.
    A : ndarray, shape (T_q, T_k)
        ``softmax(Q @ K.T / sqrt(d_k), axis=1)``: row ``i`` holds query ``i``'s weights.
    """
    if np.ndim(Q) != 2:
        raise ValueError(f"Q should have shape (T_q, d_k), got {np.shape(Q)}")
    T_q, d_k = Q.shape
    if np.ndim(K) != 2 or K.shape[1] != d_k:
        raise ValueError(f"K should have shape (T_k, d_k) = (T_k, {d_k}), got {np.shape(K)}")
    T_k = K.shape[0]
    if np.ndim(V) != 2 or V.shape[0] != T_k:
        raise ValueError(f"V should have shape (T_k, d_v) = ({T_k}, d_v), got {np.shape(V)}")
    A = softmax(Q @ K.T / np.sqrt(d_k), axis=1)
    return A @ V, A


def self_attention_counterexample(T: int, d_k: int) -> np.ndarray:
    """Tokens ``X`` for which self-attention (``Q = K = X``) is not diagonal-dominant.

    Token ``i`` is ``(i + 1) * e_1``: every token points the same way with a growing
    length, so ``x_0 . x_j = j + 1 > 1 = |x_0|^2`` and token 0 attends most to token ``T - 1``.

    Parameters
    ----------
    T : int
        Number of tokens, at least 2 (one token can only attend to itself).
    d_k : int
        Token dimension, at least 1.

    Returns
    -------
    X : ndarray, shape (T, d_k)
    """
    if T < 2:
        raise ValueError(f"T should be at least 2, got {T}")
    if d_k < 1:
        raise ValueError(f"d_k should be at least 1, got {d_k}")
    X = np.zeros((T, d_k))
    X[:, 0] = np.arange(1, T + 1)
    return X
