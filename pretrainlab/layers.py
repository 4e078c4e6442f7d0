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
    """softplus(x) = log(1 + e^x), computed stably as max(x, 0) + log1p(e^{−|x|}).

    Equal to ``np.logaddexp(0, x)`` to rounding, but built from exp/log1p, which NumPy vectorises:
    about 10× faster in float32, which matters in AIS (Salakhutdinov & Murray 2008), where it runs
    on every hidden unit of every chain at each of 14 500 temperatures.
    """
    x = np.asarray(x)
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def bernoulli_sample(p, rng):
    """Draw binary states with P(state = 1) = p: one uniform u per unit, state = [u < p].

    p : float array of probabilities.  Returns an array of 0.0/1.0 of p's shape and dtype.
    The uniforms are drawn in p's dtype, in C order, so a Numba kernel fed the same uniforms
    gives exactly the same states.
    """
    u = rng.random(p.shape, dtype=p.dtype)
    return (u < p).astype(p.dtype)
