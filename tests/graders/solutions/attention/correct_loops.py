"""A correct solution written with loops over the tokens (small sizes)."""

import math

import numpy as np


def _softmax_1d(s):
    e = np.exp(s - np.max(s))
    return e / np.sum(e)


def softmax(S, axis=-1):
    return np.apply_along_axis(_softmax_1d, axis, S)


def attention(Q, K, V):
    T_q, d_k = Q.shape
    T_k, d_v = V.shape
    A = np.empty((T_q, T_k))
    out = np.zeros((T_q, d_v))
    for i in range(T_q):
        scores = np.array([np.dot(Q[i], K[j]) for j in range(T_k)]) / math.sqrt(d_k)
        A[i] = _softmax_1d(scores)
        for j in range(T_k):
            out[i] += A[i, j] * V[j]
    return out, A


def self_attention_counterexample(T, d_k):
    return np.array([[float(t + 1)] + [0.0] * (d_k - 1) for t in range(T)])
