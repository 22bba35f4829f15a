"""Wrong (scale-after-softmax): the weights divided by sqrt(d_k) after the softmax, so rows sum to
1/sqrt(d_k)."""

import numpy as np


def softmax(S, axis=-1):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T, axis=1) / np.sqrt(Q.shape[1])
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, -1] = np.linspace(1.0, 2.0, T)
    return X
