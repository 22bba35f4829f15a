"""Exercise `dense`: a batched dense layer, forward and backward.

Conventions (read the statement: `nngrade show dense`):
samples are rows of X; W has shape (n_out, n_in), the torch.nn.Linear layout.
Use NumPy only; return new arrays and never modify the arguments.
"""

import numpy as np


def dense_forward(X, W, b):
    """Forward pass of a dense layer for a batch of samples.

    Parameters
    ----------
    X : ndarray, shape (B, n_in)
        One sample per row.
    W : ndarray, shape (n_out, n_in)
        Weights.
    b : ndarray, shape (n_out,)
        Bias, added to every sample.

    Returns
    -------
    Y : ndarray, shape (B, n_out)
        ``X @ W.T + b``, with the dtype of the inputs.
    """
    raise NotImplementedError("dense_forward")


def dense_backward(X, W, dY):
    """Gradients of a scalar loss L through Y = X @ W.T + b.

    Parameters
    ----------
    X : ndarray, shape (B, n_in)
    W : ndarray, shape (n_out, n_in)
    dY : ndarray, shape (B, n_out)
        dL/dY, the upstream gradient.

    Returns
    -------
    dX : ndarray, shape (B, n_in)
        dL/dX.
    dW : ndarray, shape (n_out, n_in)
        dL/dW, summed over the batch (not averaged).
    db : ndarray, shape (n_out,)
        dL/db, summed over the batch.
    """
    raise NotImplementedError("dense_backward")
