"""Wrong, sigmoid-overflow seen in the values: exp(z) / (1 + exp(z)) with every warning silenced returns
inf / inf = nan for z > 709; the loss from the logits is stable."""

import numpy as np

HIDDEN, EPOCHS, BATCH, LR, MU = 24, 200, 25, 0.2, 0.9


def sigmoid(z):
    with np.errstate(all="ignore"):
        return np.exp(z) / (1 + np.exp(z))


def init_params(n_in, n_hidden, rng):
    return {"W1": rng.standard_normal((n_hidden, n_in)) * np.sqrt(2 / (n_in + n_hidden)),
            "b1": np.zeros(n_hidden),
            "W2": rng.standard_normal((1, n_hidden)) * np.sqrt(2 / (n_hidden + 1)),
            "b2": np.zeros(1)}


def _forward(params, X):
    Z1 = X @ params["W1"].T + params["b1"]
    H = np.maximum(Z1, 0)
    return Z1, H, (H @ params["W2"].T + params["b2"])[:, 0]


def forward(params, X):
    return sigmoid(_forward(params, X)[2])


def loss_and_grads(params, X, y):
    Z1, H, z = _forward(params, X)
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    dz2 = (sigmoid(z) - y)[:, None] / X.shape[0]
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
