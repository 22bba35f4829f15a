"""Wrong: distinct tokens of equal length; by Cauchy-Schwarz none beats the diagonal."""

import numpy as np


def softmax(S, axis=-1):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def attention(Q, K, V):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=1)
    return A @ V, A


def self_attention_counterexample(T, d_k):
    if d_k == 1:
        return np.array([[(-1.0) ** t] for t in range(T)])
    angles = np.linspace(0.0, np.pi, T)
    X = np.zeros((T, d_k))
    X[:, 0], X[:, 1] = np.cos(angles), np.sin(angles)
    return X
