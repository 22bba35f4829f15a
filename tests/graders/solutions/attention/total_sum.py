"""Wrong: divides by the sum of all entries, so the whole matrix sums to 1 instead of each row."""

import numpy as np


def softmax(S, axis=-1):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum()


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=1)
    return A @ V, A


def self_attention_counterexample(T, d_k):
    X = np.zeros((T, d_k))
    X[:, 0] = np.arange(1, T + 1)
    return X
