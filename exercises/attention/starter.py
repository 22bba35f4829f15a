"""Exercise `attention`: scaled dot-product attention with row-stochastic weights.

Conventions (read the statement: `nngrade show attention`):
tokens are rows: Q (T_q, d_k), K (T_k, d_k), V (T_k, d_v); A = softmax(Q @ K.T / sqrt(d_k),
axis=1) has one row per query, each summing to 1; out = A @ V.
Use NumPy only; return new arrays and never modify the arguments.
"""

import numpy as np


def softmax(S, axis=-1):
    """Numerically stable softmax along one axis.

    Parameters
    ----------
    S : ndarray, any shape
        Finite scores (entries may be as large as 1e4 in size).
    axis : int, default -1
        The axis along which the result sums to 1 (negative values count from the end).

    Returns
    -------
    P : ndarray, same shape as S
        Non-negative, summing to 1 along ``axis``, finite.
    """
    raise NotImplementedError("softmax")


def attention(Q, K, V):
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
        ``A @ V``.
    A : ndarray, shape (T_q, T_k)
        ``softmax(Q @ K.T / sqrt(d_k), axis=1)``; every row sums to 1.
    """
    raise NotImplementedError("attention")


def self_attention_counterexample(T, d_k):
    """Tokens for which self-attention does not attend most to the token itself.

    Parameters
    ----------
    T : int
        Number of tokens, T >= 2.
    d_k : int
        Token dimension, d_k >= 1.

    Returns
    -------
    X : ndarray, shape (T, d_k)
        Finite, such that with Q = K = X some row i of
        A = softmax(X @ X.T / sqrt(d_k), axis=1) has an entry A[i, j], j != i,
        strictly larger than A[i, i].
    """
    raise NotImplementedError("self_attention_counterexample")
