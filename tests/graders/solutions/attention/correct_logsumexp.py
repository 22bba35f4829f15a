"""A correct solution: softmax through log-sum-exp on a moved axis, attention with einsum."""

import math

import numpy as np


def softmax(S, axis=-1):
    moved = np.moveaxis(S, axis, -1)
    shifted = moved - moved.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return np.moveaxis(np.exp(log_p), -1, axis)


def attention(Q, K, V):
    scores = np.einsum("qd,kd->qk", Q, K) / math.sqrt(Q.shape[-1])
    A = softmax(scores, axis=-1)
    return np.einsum("qk,kv->qv", A, V), A


def self_attention_counterexample(T, d_k):
    X = np.full((T, d_k), 2.0)
    X[0] = 1.0
    return X
