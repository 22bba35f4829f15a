"""Wrong (kernel-not-flipped): columns from np.correlate, which does not flip the kernel."""

import numpy as np


def conv_matrix(kernel, n):
    return np.stack([np.correlate(e, kernel, mode="same") for e in np.eye(n, dtype=kernel.dtype)], axis=1)
