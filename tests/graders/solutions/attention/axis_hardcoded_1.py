"""Wrong: softmax hard-codes axis=1 (right for 2-D rows only)."""

import numpy as np


def softmax(S, axis=-1):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=1)
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, 0] = np.arange(1, T + 1)
    return X
