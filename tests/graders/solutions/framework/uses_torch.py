"""Uses PyTorch inside a function."""

import numpy as np


def dense_forward(X, W, b):
    import torch

    return torch.nn.functional.linear(torch.tensor(X), torch.tensor(W), torch.tensor(b)).numpy()


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
