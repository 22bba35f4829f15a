"""A framework the course forbids, imported at module level."""
import numpy as np
import torch


def dense_forward(X, W, b):
    return torch.nn.functional.linear(torch.as_tensor(X), torch.as_tensor(W), torch.as_tensor(b)).numpy()


def dense_backward(X, W, dY):
    return dY @ W, dY.T @ X, dY.sum(axis=0)
