"""Gaussian–Bernoulli RBM: free energy and conditionals against enumeration and numerical integration; it learns."""
import numpy as np
import pytest

from pretrainlab import SGD, ContrastiveDivergence, GaussianBernoulliRBM, Trainer
from pretrainlab.data import spiked_covariance, standardize
from pretrainlab.likelihood import exact_log_partition, log_likelihood

from helpers import all_states, random_rbm


def tiny_gbrbm(n_visible=2, n_hidden=3, seed=0, scale=0.8):
    return random_rbm(n_visible, n_hidden, scale=scale, seed=seed, cls=GaussianBernoulliRBM)


def grid_2d(lim=9.0, n=601):
    """A square grid over [−lim, lim]² for the trapezoid-free Riemann sum (the integrands decay like e^{−v²/2})."""
    t = np.linspace(-lim, lim, n)
    v = np.stack(np.meshgrid(t, t, indexing="ij"), axis=-1).reshape(-1, 2)
    return v, (t[1] - t[0]) ** 2


def test_energy_is_the_documented_formula():
    rbm = tiny_gbrbm(3, 2)
    rng = np.random.default_rng(1)
    v, h = rng.standard_normal((4, 3)), (rng.random((4, 2)) < 0.5).astype(float)
    expected = (0.5 * ((v - rbm.b_vis) ** 2).sum(1) - np.einsum("ni,ij,nj->n", v, rbm.W, h) - h @ rbm.b_hid)
    np.testing.assert_allclose(rbm.energy(v, h), expected, rtol=1e-12)


def test_free_energy_matches_enumeration_of_hiddens():
    rbm = tiny_gbrbm(3, 4)
    v = np.random.default_rng(2).standard_normal((5, 3))
    H = all_states(4)
    E = np.stack([rbm.energy(v, np.repeat(h[None], 5, axis=0)) for h in H], axis=1)
    np.testing.assert_allclose(rbm.free_energy(v), -np.log(np.exp(-E).sum(axis=1)), rtol=1e-12)


def test_hidden_free_energy_and_log_z_match_numerical_integration():
    rbm = tiny_gbrbm(2, 3)
    v, dv = grid_2d()
    H = all_states(3)
    for h in H:
        numeric = -np.log(np.exp(-rbm.energy(v, np.repeat(h[None], len(v), axis=0))).sum() * dv)
        assert rbm.hidden_free_energy(h[None])[0] == pytest.approx(numeric, rel=1e-8)
    numeric_log_z = np.log(np.exp(-rbm.free_energy(v)).sum() * dv)
    assert exact_log_partition(rbm) == pytest.approx(numeric_log_z, abs=1e-8)


def test_conditionals_match_integration_and_enumeration():
    rbm = tiny_gbrbm(2, 3)
    v, dv = grid_2d()
    H = all_states(3)
    for h in H:
        # E[v | h] by integrating v e^{−E(v,h)} over the grid
        w = np.exp(-rbm.energy(v, np.repeat(h[None], len(v), axis=0)))
        np.testing.assert_allclose(rbm.mean_visibles(h[None])[0], (w @ v) / w.sum(), atol=1e-8)
    # p(h_j = 1 | v) by enumerating h
    x = np.random.default_rng(3).standard_normal((4, 2))
    E = np.stack([rbm.energy(x, np.repeat(h[None], 4, axis=0)) for h in H], axis=1)
    p = np.exp(-E) / np.exp(-E).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(rbm.mean_hiddens(x), p @ H, rtol=1e-10)


def test_visible_samples_are_unit_variance_gaussians_around_the_mean():
    rbm = tiny_gbrbm(2, 3)
    h = np.repeat(np.array([[1.0, 0.0, 1.0]]), 40000, axis=0)
    mean, v = rbm.sample_v_given_h(h)
    np.testing.assert_allclose(v.mean(axis=0), mean[0], atol=0.03)
    np.testing.assert_allclose(v.var(axis=0), 1.0, atol=0.03)
    assert abs(np.corrcoef(v.T)[0, 1]) < 0.03


def test_input_checks():
    rbm = GaussianBernoulliRBM(3, 2)
    rbm.free_energy(np.array([[-5.0, 2.0, 7.5]]))  # real values outside [0, 1] are fine
    with pytest.raises(ValueError, match="v"):
        rbm.free_energy(np.array([[np.nan, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="3 columns"):
        rbm.free_energy(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="pseudo_likelihood"):
        rbm.pseudo_likelihood(np.zeros((2, 3)))


def test_gbrbm_learns_standardised_correlated_data():
    """CD-1 on standardised data with a few strong directions: the held-out exact log-likelihood must rise well
    above both the untrained model and N(0, I), the best model that ignores correlations."""
    spiked = spiked_covariance(3000, dim=16, n_spikes=2, scales=[3.0, 2.0], rng=0)
    x, mean, std = standardize(spiked.x)
    x_train, x_test = x[:2500], x[2500:]
    rbm = GaussianBernoulliRBM(16, 8, rng=0, dtype=np.float64)
    rbm.init_visible_bias(x_train)
    ll_before = log_likelihood(rbm, x_test, exact_log_partition(rbm))
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.005, momentum=0.9), step=ContrastiveDivergence(rbm, k=1),
                      batch_size=50, rng=0, verbose=False)
    history = trainer.fit(x_train, epochs=30)
    ll_after = log_likelihood(rbm, x_test, exact_log_partition(rbm))
    ll_isotropic = float((-0.5 * (x_test ** 2).sum(1) - 8 * np.log(2 * np.pi)).mean())
    assert ll_after > ll_before + 2.0
    assert ll_after > ll_isotropic + 2.0
    assert history["loss"][-1] < history["loss"][0]
