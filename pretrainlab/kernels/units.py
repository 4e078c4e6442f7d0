"""Scalar units shared by the kernels (imported by the kernel modules only: this module imports Numba)."""
import math

import numpy as np
from numba import njit

from .backend import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def sigmoid(x):
    """σ(x) = 1 / (1 + e^{−x}) for one number.

    exp overflows to inf for x < −88, giving exactly 0, never NaN. The float32 literals keep a float32 x in
    float32 (float64 ones would promote the exp and the division: ~5× slower).
    """
    return np.float32(1.0) / (np.float32(1.0) + math.exp(-x))
