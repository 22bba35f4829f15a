"""Exercise `toeplitz`: 1-D convolution as a Toeplitz matrix.

Read the statement first: `nngrade show toeplitz`.
Build T so that T @ x == np.convolve(x, kernel, mode='same') for every x of length n.
Use NumPy only; return a new array and never modify the kernel.
"""

import numpy as np


def conv_matrix(kernel, n):
    """The matrix of the map x -> np.convolve(x, kernel, mode='same').

    Parameters
    ----------
    kernel : ndarray, shape (k,)
        Convolution kernel, 1 <= k <= n.
    n : int
        Length of the input x (and of the output).

    Returns
    -------
    T : ndarray, shape (n, n)
        Toeplitz (constant along every diagonal) and zero outside a band of k
        diagonals, with the kernel's dtype, such that
        ``T @ x == np.convolve(x, kernel, mode='same')``.
    """
    raise NotImplementedError("conv_matrix")
