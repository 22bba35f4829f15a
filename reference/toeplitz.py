"""Reference solution of ``toeplitz``: 1-D convolution as a Toeplitz matrix.

``np.convolve(x, kernel, mode='same')`` keeps the ``n`` entries of the full convolution
``full[i] = sum_j kernel[j] * x[i - j]`` (length ``n + k - 1``) that start at
``c = (k - 1) // 2``: ``same[i] = full[i + c]``.  Hence ``T[i, m] = kernel[i - m + c]``
where ``0 <= i - m + c < k``, and zero elsewhere.
"""

from __future__ import annotations

import numpy as np


def conv_matrix(kernel: np.ndarray, n: int) -> np.ndarray:
    """The matrix of ``x -> np.convolve(x, kernel, mode='same')`` on vectors of length ``n``.

    Parameters
    ----------
    kernel : ndarray, shape (k,)
        Convolution kernel, ``1 <= k <= n``.
    n : int
        Length of the input (and of the output).

    Returns
    -------
    T : ndarray, shape (n, n)
        Toeplitz, zero outside a band of ``k`` diagonals, with the kernel's dtype (float64
        for a non-float kernel), such that ``T @ x == np.convolve(x, kernel, mode='same')``.

    Raises
    ------
    ValueError
        If ``kernel`` is not 1-D or its length ``k`` is not in ``1..n``.
    """
    kernel = np.asarray(kernel)
    n = int(n)
    if kernel.ndim != 1 or not 1 <= kernel.shape[0] <= n:
        raise ValueError(f"kernel should have shape (k,) with 1 <= k <= n = {n}, got {kernel.shape}")
    k = kernel.shape[0]
    c = (k - 1) // 2
    j = np.arange(n)[:, None] - np.arange(n)[None, :] + c  # kernel index of T[i, m]
    inside = (j >= 0) & (j < k)
    dtype = kernel.dtype if kernel.dtype.kind == "f" else np.float64
    T = np.zeros((n, n), dtype=dtype)
    T[inside] = kernel[j[inside]]
    return T
