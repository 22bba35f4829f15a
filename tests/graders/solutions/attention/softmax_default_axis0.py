"""Wrong: softmax defaults to axis=0, and attention relies on the default."""

import numpy as np


def softmax(S, axis=0):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]))
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, 0] = np.arange(1, T + 1)
    return X
