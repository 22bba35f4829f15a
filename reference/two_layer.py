"""Reference solution of ``two_layer``: a two-layer binary classifier trained with mini-batch SGD.

Conventions: samples are rows of ``X (N, n_in)``; a layer's weights are ``(n_out, n_in)``.
For one sample ``x`` the network is ``p = sigmoid(W2 @ relu(W1 @ x + b1) + b2)``; for a
batch, ``Z1 = X @ W1.T + b1``, ``H = relu(Z1)``, ``z2 = H @ W2.T + b2``, ``p = sigmoid(z2)``.
The loss is the binary cross-entropy averaged over the batch.
"""

from __future__ import annotations

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")

# Hyper-parameters of the reference's ``train`` (a student chooses their own).
HIDDEN = 32
EPOCHS = 150
BATCH = 32
LEARNING_RATE = 0.2
MOMENTUM = 0.9


def _check(name: str, array: np.ndarray, shape: tuple) -> None:
    if np.shape(array) != shape:
        raise ValueError(f"{name} should have shape {shape}, got {np.shape(array)}")


def _check_params(params: dict, X: np.ndarray) -> None:
    if X.ndim != 2:
        raise ValueError(f"X should have shape (N, n_in), got {X.shape}")
    if np.ndim(params["W1"]) != 2:
        raise ValueError(f"W1 should have shape (h, {X.shape[1]}), got {np.shape(params['W1'])}")
    h = np.shape(params["W1"])[0]
    _check("W1", params["W1"], (h, X.shape[1]))
    _check("b1", params["b1"], (h,))
    _check("W2", params["W2"], (1, h))
    _check("b2", params["b2"], (1,))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow: ``exp`` only ever sees ``-|z| <= 0``."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def init_params(n_in: int, n_hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Xavier-normal weights and zero biases.

    Parameters
    ----------
    n_in : int
        Number of input features.
    n_hidden : int
        Number of hidden units ``h``.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    params : dict
        ``W1 (h, n_in)`` with std ``sqrt(2 / (n_in + h))``, ``b1 (h,)`` zeros,
        ``W2 (1, h)`` with std ``sqrt(2 / (h + 1))``, ``b2 (1,)`` zeros.
    """
    if n_in < 1 or n_hidden < 1:
        raise ValueError(f"n_in and n_hidden must be positive, got {n_in} and {n_hidden}")
    W1 = rng.standard_normal((n_hidden, n_in)) * np.sqrt(2.0 / (n_in + n_hidden))
    W2 = rng.standard_normal((1, n_hidden)) * np.sqrt(2.0 / (n_hidden + 1))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(1)}


def _forward(params: dict, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Z1 (N, h), H (N, h), z2 (N,))``."""
    _check_params(params, X)
    Z1 = X @ params["W1"].T + params["b1"]
    H = np.maximum(Z1, 0.0)
    z2 = H @ params["W2"][0] + params["b2"][0]
    return Z1, H, z2


def forward(params: dict, X: np.ndarray) -> np.ndarray:
    """Probabilities of class 1.

    Parameters
    ----------
    params : dict
        ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``.
    X : ndarray, shape (N, n_in)

    Returns
    -------
    p : ndarray, shape (N,)
        ``sigmoid(relu(X @ W1.T + b1) @ W2.T + b2)``, finite for any finite input.
    """
    return _sigmoid(_forward(params, X)[2])


def loss_and_grads(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Mean binary cross-entropy and its gradients.

    Parameters
    ----------
    params : dict
        ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``.
    X : ndarray, shape (N, n_in)
    y : ndarray, shape (N,)
        Labels in {0, 1}.

    Returns
    -------
    loss : float
        ``mean(-y log p - (1 - y) log(1 - p))``, computed from the logits so that it
        stays finite however confident the network is.
    grads : dict
        ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``: gradients of ``loss``.
    """
    _check("y", y, (X.shape[0],))
    Z1, H, z2 = _forward(params, X)
    N = X.shape[0]
    loss = float(np.mean(_softplus(z2) - y * z2))
    dz2 = (_sigmoid(z2) - y) / N                     # (N,)   dL/dz2
    dH = np.outer(dz2, params["W2"][0])              # (N, h) dL/dH
    dZ1 = dH * (Z1 > 0)                              # (N, h) dL/dZ1, ReLU' at Z1
    grads = {
        "W1": dZ1.T @ X,                             # (h, n_in)
        "b1": dZ1.sum(axis=0),                       # (h,)
        "W2": (dz2 @ H)[None, :],                    # (1, h)
        "b2": np.array([dz2.sum()]),                 # (1,)
    }
    return loss, grads


def train(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Mini-batch SGD with momentum from a Xavier initialization.

    Parameters
    ----------
    X : ndarray, shape (N, n_in)
    y : ndarray, shape (N,)
        Labels in {0, 1}.
    seed : int
        Seeds the one generator used for the initialization and the shuffles.

    Returns
    -------
    params : dict
        The trained ``W1, b1, W2, b2``, to be used on raw ``X`` as given.
    losses : ndarray, shape (EPOCHS,)
        Mean of the mini-batch losses of each epoch.
    """
    if X.ndim != 2:
        raise ValueError(f"X should have shape (N, n_in), got {X.shape}")
    _check("y", y, (X.shape[0],))
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], HIDDEN, rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    N = X.shape[0]
    losses = np.empty(EPOCHS)
    for epoch in range(EPOCHS):
        order = rng.permutation(N)
        batch_losses = []
        for start in range(0, N, BATCH):
            idx = order[start:start + BATCH]
            loss, grads = loss_and_grads(params, X[idx], y[idx])
            batch_losses.append(loss)
            for k in PARAM_NAMES:
                velocity[k] = MOMENTUM * velocity[k] - LEARNING_RATE * grads[k]
                params[k] = params[k] + velocity[k]
        losses[epoch] = np.mean(batch_losses)
    return params, losses
