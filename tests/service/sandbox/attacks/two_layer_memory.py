"""two_layer: a correct network whose train() hoards memory beyond the exercise's budget."""
from _reference import *  # noqa
import numpy as np

_train = train


def train(X, y, *, seed=0):
    hoard = []
    while True:
        hoard.append(np.ones(16 * 2**20))
