"""Exact checks of the Bernoulli RBM against brute-force enumeration on tiny models."""
import numpy as np
import pytest

from pretrainlab import SGD, BernoulliRBM, ContrastiveDivergence, Trainer
from pretrainlab.data import bars_and_stripes

from helpers import all_states, random_rbm


def exact_distribution(rbm):
    """p(v) over all 2^n_visible states, by summing e^{-E(v,h)} over every (v, h) pair."""
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    E = np.array([[rbm.energy(v[None], h[None])[0] for h in H] for v in V])
    unnorm = np.exp(-E).sum(axis=1)
    return V, unnorm / unnorm.sum()


def exact_nll_gradient(rbm, data):
    """Gradient of the mean negative log-likelihood of ``data``: −(⟨v phᵀ⟩_data − ⟨v phᵀ⟩_model)."""
    V, p = exact_distribution(rbm)
    ph_model, ph_data = rbm.mean_hiddens(V), rbm.mean_hiddens(data)
    return {
        "W": (V.T * p) @ ph_model - data.T @ ph_data / len(data),
        "b_vis": p @ V - data.mean(axis=0),
        "b_hid": p @ ph_model - ph_data.mean(axis=0),
    }


def exact_log_likelihood(rbm, data):
    V, p = exact_distribution(rbm)
    index = (data @ (2 ** np.arange(rbm.n_visible)[::-1])).astype(int)  # row of V for each data vector
    return float(np.log(p[index]).mean())


def test_free_energy_equals_brute_force():
    rbm = random_rbm()
    V, H = all_states(6), all_states(4)
    for v in V[::7]:
        brute = -np.log(np.exp(-rbm.energy(np.repeat(v[None], len(H), 0), H)).sum())
        assert rbm.free_energy(v[None])[0] == pytest.approx(brute, rel=1e-12)


def test_conditional_of_hiddens_matches_enumeration():
    rbm = random_rbm()
    H = all_states(4)
    for v in all_states(6)[::5]:
        joint = np.exp(-rbm.energy(np.repeat(v[None], len(H), 0), H))
        p_h = joint / joint.sum()
        np.testing.assert_allclose(rbm.mean_hiddens(v[None])[0], p_h @ H, rtol=1e-12)


def test_conditional_of_visibles_matches_enumeration():
    rbm = random_rbm()
    V = all_states(6)
    for h in all_states(4):
        joint = np.exp(-rbm.energy(V, np.repeat(h[None], len(V), 0)))
        np.testing.assert_allclose(rbm.mean_visibles(h[None])[0], (joint / joint.sum()) @ V, rtol=1e-12)


def test_cd_gradient_approaches_exact_gradient_as_k_grows():
    """CD-k is biased; its expectation tends to the exact likelihood gradient as the chain mixes."""
    rbm = random_rbm(n_visible=4, n_hidden=3, scale=1.5, seed=3)
    data = bars_and_stripes(2)
    exact = exact_nll_gradient(rbm, data)
    batch = np.repeat(data, 20000, axis=0)  # average the estimator over many chains
    errors = {}
    for k in (1, 30):
        _, grads = ContrastiveDivergence(rbm, k=k)(batch)
        errors[k] = max(np.abs(grads[name] - exact[name]).max() for name in exact)
    assert errors[1] > 3 * errors[30]
    assert errors[30] < 0.02  # Monte-Carlo noise of 80 000 chains


def test_pcd_keeps_fantasy_particles_between_calls():
    rbm = random_rbm()
    pcd = ContrastiveDivergence(rbm, k=1, persistent=True, n_chains=7)
    data = all_states(6)[:10]
    pcd(data)
    first = pcd.chains.copy()
    assert first.shape == (7, 6)
    pcd(data)
    assert pcd.chains.shape == (7, 6) and not np.array_equal(first, pcd.chains)


@pytest.mark.slow
def test_training_on_bars_and_stripes_raises_exact_log_likelihood():
    data = bars_and_stripes(3)
    rbm = BernoulliRBM(9, 6, rng=0, dtype=np.float64)
    before = exact_log_likelihood(rbm, data)
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=ContrastiveDivergence(rbm, k=5),
                      batch_size=7, rng=1, verbose=False)
    trainer.fit(np.repeat(data, 10, axis=0), epochs=100)
    after = exact_log_likelihood(rbm, data)
    # the uniform model gives 9·log ½ ≈ −6.24; an ideal model log(1/14) ≈ −2.64
    assert after > before + 1.5, (before, after)


def test_same_seed_gives_identical_parameters():
    data = bars_and_stripes(3)

    def train(seed):
        rbm = BernoulliRBM(9, 5, rng=seed)
        Trainer(rbm, SGD(rbm.params, lr=0.05, momentum=0.9),
                step=ContrastiveDivergence(rbm, k=2, persistent=True, weight_decay=1e-3), batch_size=4, rng=seed,
                verbose=False).fit(data, epochs=5)
        return rbm.params

    a, b, c = train(7), train(7), train(8)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["W"], c["W"])


def test_sparsity_target_pulls_mean_activation_towards_target():
    data = bars_and_stripes(3)

    def mean_activation(cost):
        rbm = BernoulliRBM(9, 8, rng=0, dtype=np.float64)
        step = ContrastiveDivergence(rbm, k=1, sparsity_target=0.05, sparsity_weight=cost)
        Trainer(rbm, SGD(rbm.params, lr=0.1), step=step, batch_size=7, rng=0, verbose=False).fit(data, epochs=50)
        return rbm.transform(data).mean()

    assert mean_activation(1.0) < mean_activation(0.0) - 0.05


def test_free_energy_gap_and_pseudo_likelihood_are_finite_and_sensible():
    rbm = random_rbm()
    v = all_states(6)
    assert rbm.free_energy_gap(v, v) == pytest.approx(0.0)
    pl = rbm.pseudo_likelihood(v)
    assert np.isfinite(pl) and pl < 0


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 5)), "6 columns"),
    (np.full((2, 6), np.nan), "NaN"),
    (np.full((2, 6), 2.0), r"\[0.0, 1.0\]"),
    (np.zeros(6), "2-D"),
])
def test_bad_visible_input_names_the_argument(bad, message):
    rbm = random_rbm()
    with pytest.raises(ValueError, match=f"v .*{message}|v must.*{message}"):
        rbm.free_energy(bad)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_hidden"):
        BernoulliRBM(6, 0)
    with pytest.raises(TypeError, match="rng"):
        BernoulliRBM(6, 2, rng="seed")
    with pytest.raises(ValueError, match="k"):
        ContrastiveDivergence(random_rbm(), k=0)
