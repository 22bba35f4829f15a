"""Wrong three times in init_params: biases of shape (1,) (a scalar bias broadcast), weights 0.01 * randn,
and a fixed np.random.seed(1) instead of rng.

The wrong bias shape must hide neither init-not-xavier nor global-random."""

import numpy as np

HIDDEN, EPOCHS, BATCH, LR, MU = 24, 200, 25, 0.2, 0.9


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def init_params(n_in, n_hidden, rng):
    np.random.seed(1)
    return {"W1": 0.01 * np.random.randn(n_hidden, n_in),
            "b1": np.zeros(1),
            "W2": 0.01 * np.random.randn(1, n_hidden),
            "b2": np.zeros(1)}


def _forward(params, X):
    Z1 = X @ params["W1"].T + params["b1"]
    H = np.maximum(Z1, 0)
    p = sigmoid(H @ params["W2"].T + params["b2"])[:, 0]
    return Z1, H, p


def forward(params, X):
    return _forward(params, X)[2]


def loss_and_grads(params, X, y):
    Z1, H, p = _forward(params, X)
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    dz2 = (p - y)[:, None] / X.shape[0]
    dZ1 = (dz2 @ params["W2"]) * (Z1 > 0)
    grads = {"W1": dZ1.T @ X, "b1": dZ1.sum(axis=0), "W2": dz2.T @ H, "b2": dz2.sum(axis=0)}
    return float(loss), grads


def train(X, y, *, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], HIDDEN, rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        epoch = []
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            loss, grads = loss_and_grads(params, X[idx], y[idx])
            epoch.append(loss)
            for k in params:
                velocity[k] = MU * velocity[k] - LR * grads[k]
                params[k] = params[k] + velocity[k]
        losses.append(np.mean(epoch))
    return params, np.array(losses)
