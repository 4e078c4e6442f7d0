"""Elementwise building blocks: arrays in, arrays out, numerically safe.

These are the bottom layer of the house: models import them, they import nothing from the lab.
"""
import numpy as np


def sigmoid(x, out=None):
    """σ(x) = 1 / (1 + e^{-x}), computed as ½(1 + tanh(x/2)).

    The tanh form never overflows (1 + e^{-x} does for x < -88 in float32) and is as fast as the naive
    formula; ``out`` lets hot loops reuse a buffer.
    """
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def softplus(x):
    """softplus(x) = log(1 + e^x), computed stably as logaddexp(0, x)."""
    return np.logaddexp(0.0, x)


def bernoulli_sample(p, rng):
    """Draw binary states with P(state = 1) = p: one uniform u per unit, state = [u < p].

    p : float array of probabilities.  Returns an array of 0.0/1.0 of p's shape and dtype.
    The uniforms are drawn in p's dtype, in C order, so a Numba kernel fed the same uniforms
    gives exactly the same states.
    """
    u = rng.random(p.shape, dtype=p.dtype)
    return np.less(u, p, out=u)  # the comparison's 0/1 written over the uniforms: no second array
