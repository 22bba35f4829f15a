"""Wrong (scale-by-keys): the scores divided by sqrt(T_k), the number of keys, instead of sqrt(d_k)."""

import numpy as np


def softmax(S, axis=-1):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(K.shape[0]), axis=1)
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, -1] = np.linspace(1.0, 2.0, T)
    return X
