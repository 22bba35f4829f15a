"""Exercise `two_layer`: train a two-layer network with mini-batch SGD.

Conventions (read the statement: `nngrade show two_layer`):
samples are rows of X (N, n_in); a layer's weights are (n_out, n_in), so
W1 is (h, n_in) and W2 is (1, h). For one sample x the network is
p = sigmoid(W2 @ relu(W1 @ x + b1) + b2); for a batch, p = sigmoid(relu(X @ W1.T + b1) @ W2.T + b2).
Use NumPy only; return new arrays and never modify the arguments.
"""

import numpy as np


def init_params(n_in, n_hidden, rng):
    """Xavier-normal weights and zero biases.

    Parameters
    ----------
    n_in : int
        Number of input features.
    n_hidden : int
        Number of hidden units h.
    rng : numpy.random.Generator
        Draw every random number from this generator (rng.standard_normal), never from np.random.

    Returns
    -------
    params : dict
        ``"W1"`` ndarray (h, n_in), std sqrt(2 / (n_in + h));
        ``"b1"`` ndarray (h,), zeros;
        ``"W2"`` ndarray (1, h), std sqrt(2 / (h + 1));
        ``"b2"`` ndarray (1,), zeros.
    """
    raise NotImplementedError("init_params")


def forward(params, X):
    """Probability of class 1 for every sample.

    Parameters
    ----------
    params : dict
        ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``.
    X : ndarray, shape (N, n_in)
        One sample per row.

    Returns
    -------
    p : ndarray, shape (N,)
        ``sigmoid(relu(X @ W1.T + b1) @ W2.T + b2)``, finite and without overflow
        warnings for any finite input.
    """
    raise NotImplementedError("forward")


def loss_and_grads(params, X, y):
    """Mean binary cross-entropy and its gradients.

    Parameters
    ----------
    params : dict
        ``W1 (h, n_in)``, ``b1 (h,)``, ``W2 (1, h)``, ``b2 (1,)``.
    X : ndarray, shape (N, n_in)
    y : ndarray, shape (N,)
        Labels, floats in {0, 1}.

    Returns
    -------
    loss : float
        ``-mean(y * log(p) + (1 - y) * log(1 - p))``, averaged over the N samples.
    grads : dict
        ``"W1"`` (h, n_in), ``"b1"`` (h,), ``"W2"`` (1, h), ``"b2"`` (1,): dloss/dparam.
    """
    raise NotImplementedError("loss_and_grads")


def train(X, y, *, seed=0):
    """Train the network with mini-batch SGD; hyper-parameters are yours to choose.

    Parameters
    ----------
    X : ndarray, shape (N, n_in)
    y : ndarray, shape (N,)
        Labels, floats in {0, 1}.
    seed : int
        Make every random choice (initialization, shuffling) from
        ``np.random.default_rng(seed)``: the same seed must give the same result.

    Returns
    -------
    params : dict
        The trained ``W1, b1, W2, b2``; they must work with ``forward`` on raw X.
    losses : ndarray, shape (n_epochs,)
        The mean training loss of each epoch.
    """
    raise NotImplementedError("train")
