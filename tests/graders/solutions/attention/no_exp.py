"""Wrong: normalises the raw scores without np.exp, so weights can be negative."""

import numpy as np


def softmax(S, axis=-1):
    return S / S.sum(axis=axis, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=1)
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, 0] = np.arange(1, T + 1)
    return X
