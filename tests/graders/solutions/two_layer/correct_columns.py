"""Correct: the seed's column convention inside (samples as columns, A = W @ X + b[:, None]), transposed at the
boundary; plain mini-batch SGD without momentum, 64 hidden units, a decaying learning rate."""

import math

import numpy as np

HIDDEN, EPOCHS, BATCH, LR0 = 64, 300, 20, 1.0


def init_params(n_in, n_hidden, rng):
    W1 = rng.standard_normal(n_hidden * n_in).reshape(n_hidden, n_in) * math.sqrt(2 / (n_hidden + n_in))
    W2 = rng.standard_normal(n_hidden).reshape(1, n_hidden) * math.sqrt(2 / (1 + n_hidden))
    return dict(W1=W1, b1=np.zeros(n_hidden), W2=W2, b2=np.zeros(1))


def sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def forward(params, X):
    A1 = np.maximum(params["W1"] @ X.T + params["b1"][:, None], 0)   # (h, N)
    return sigmoid((params["W2"] @ A1 + params["b2"][:, None])[0])


def loss_and_grads(params, X, y):
    Xc = X.T                                                         # (n_in, N)
    Z1 = params["W1"] @ Xc + params["b1"][:, None]                   # (h, N)
    A1 = np.maximum(Z1, 0)
    z2 = (params["W2"] @ A1 + params["b2"][:, None])[0]              # (N,)
    p = sigmoid(z2)
    loss = np.mean(np.maximum(z2, 0) - y * z2 + np.log1p(np.exp(-np.abs(z2))))
    D2 = ((p - y) / len(y))[None, :]                                 # (1, N)
    D1 = (params["W2"].T @ D2) * (Z1 > 0)                            # (h, N)
    return loss, {"W1": D1 @ Xc.T, "b1": D1.sum(axis=1), "W2": D2 @ A1.T, "b2": D2.sum(axis=1)}


def train(X, y, *, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], HIDDEN, rng)
    losses = []
    for epoch in range(EPOCHS):
        lr = LR0 / (1 + epoch / (EPOCHS / 2))
        order = rng.permutation(len(y))
        batch_losses = []
        for k in range(0, len(y), BATCH):
            b = order[k:k + BATCH]
            loss, grads = loss_and_grads(params, X[b], y[b])
            batch_losses.append(loss)
            params = {name: params[name] - lr * grads[name] for name in params}
        losses.append(sum(batch_losses) / len(batch_losses))
    return params, losses
