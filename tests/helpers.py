"""Small shared helpers for the tests: every binary state of a layer, and random tiny RBMs."""
import itertools

import numpy as np

from pretrainlab import BernoulliRBM


def all_states(n):
    """Every binary vector of length n, one per row: (2^n, n)."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def random_rbm(n_visible=6, n_hidden=4, scale=1.0, seed=0, cls=BernoulliRBM):
    """A float64 RBM of class ``cls`` with W ~ N(0, scale²) and standard-normal biases (seeded)."""
    rbm = cls(n_visible, n_hidden, rng=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 100)
    rbm.params["W"][...] = scale * rng.standard_normal((n_visible, n_hidden))
    rbm.params["b_vis"][...] = rng.standard_normal(n_visible)
    rbm.params["b_hid"][...] = rng.standard_normal(n_hidden)
    return rbm


def drsae_toy_data(seed=0, n=48, d=12, k=3):
    """Three noisy prototypes (each lights its own third of the pixels), unit-norm rows, float32: a DrSAE learns
    them in a few epochs.  Returns x_train, y_train (32 rows), x_valid, y_valid (the rest)."""
    from pretrainlab.studies.drsae.model import normalize_rows

    rng = np.random.default_rng(seed)
    protos = np.kron(np.eye(k), np.ones(d // k))
    y = rng.integers(0, k, n)
    x = normalize_rows(protos[y] + 0.3 * rng.uniform(0, 1, (n, d))).astype(np.float32)
    return x[:32], y[:32], x[32:], y[32:]
