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
