"""Exact log Z against brute force, and AIS against exact log Z (random tiny models and an MNIST-trained 784×20)."""
import numpy as np
import pytest

from pretrainlab import SGD, BernoulliRBM, ContrastiveDivergence, GaussianBernoulliRBM, Trainer
from pretrainlab.data import load_mnist
from pretrainlab.likelihood import (AISResult, ais_betas, ais_log_partition, ais_step, base_log_partition,
                                    base_visible_bias, exact_log_partition, log_likelihood)

from helpers import all_states, random_rbm


def brute_force_log_z(rbm):
    """log Σ_v Σ_h e^{−E(v,h)} over every joint state, using the model's energy function."""
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    E = np.array([rbm.energy(V, np.repeat(h[None], len(V), axis=0)) for h in H])
    m = (-E).max()
    return m + np.log(np.exp(-E - m).sum())


@pytest.mark.parametrize("shape,seed", [((6, 4), 0), ((4, 7), 1), ((5, 5), 2), ((9, 3), 3)])
def test_exact_log_z_matches_brute_force_over_either_layer(shape, seed):
    rbm = random_rbm(*shape, seed=seed)
    expected = brute_force_log_z(rbm)
    assert exact_log_partition(rbm, over="visible") == pytest.approx(expected, abs=1e-10)
    assert exact_log_partition(rbm, over="hidden") == pytest.approx(expected, abs=1e-10)
    # chunking must not change the sum
    assert exact_log_partition(rbm, chunk_size=3) == pytest.approx(expected, abs=1e-10)


def test_exact_probabilities_sum_to_one():
    rbm = random_rbm(7, 5, seed=4)
    V = all_states(7)
    log_z = exact_log_partition(rbm)
    assert np.exp(-rbm.free_energy(V) - log_z).sum() == pytest.approx(1.0, abs=1e-12)
    # log_likelihood is the mean of log p(v)
    assert log_likelihood(rbm, V[:10], log_z) == pytest.approx((-rbm.free_energy(V[:10]) - log_z).mean())


def test_exact_refuses_large_layers_and_bad_arguments():
    with pytest.raises(ValueError, match="rbm"):
        exact_log_partition(BernoulliRBM(30, 26))
    with pytest.raises(ValueError, match="over"):
        exact_log_partition(BernoulliRBM(4, 3), over="both")
    with pytest.raises(ValueError, match="over"):
        exact_log_partition(GaussianBernoulliRBM(3, 2), over="visible")
    # 784 visibles but only 20 hiddens: enumerating the hiddens is allowed, and chosen
    with pytest.raises(ValueError, match="rbm"):
        exact_log_partition(BernoulliRBM(784, 20), over="visible")


def test_ais_betas_follow_the_paper_schedule():
    b = ais_betas()
    assert len(b) == 14501 and b[0] == 0.0 and b[-1] == 1.0
    steps = np.diff(b)
    assert np.all(steps > 0)
    np.testing.assert_allclose(steps[:500], 1e-3)
    np.testing.assert_allclose(steps[500:4500], 1e-4)
    np.testing.assert_allclose(steps[4500:], 1e-5)
    short = ais_betas(100)
    assert len(short) == 101 and short[0] == 0 and short[-1] == 1 and np.all(np.diff(short) > 0)


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_ais_step_weight_update_is_the_log_ratio_of_intermediate_models(cls):
    """The update equals log p*_β(v) − log p*_β'(v), written here from the joint energy (1−β)E_A + βE_B."""
    rbm = random_rbm(6, 4, scale=0.5, seed=5, cls=cls)
    rng = np.random.default_rng(0)
    gaussian = cls is GaussianBernoulliRBM
    a = rng.standard_normal(6)
    v = rng.standard_normal((3, 6)) if gaussian else (rng.random((3, 6)) < 0.5).astype(float)
    H = all_states(4)

    def log_p_star(beta):  # sum over the hidden states of the interpolated joint model, by enumeration
        e_a = rbm.visible_energy(v, a)[:, None]
        e_b = np.stack([rbm.energy(v, np.repeat(h[None], 3, axis=0)) for h in H], axis=1)
        e = (1 - beta) * e_a + beta * e_b
        return np.log(np.exp(-e).sum(axis=1))

    log_w = np.zeros(3)
    ais_step(v, log_w, 0.3, 0.7, rbm.W, rbm.b_vis, rbm.b_hid, a, rbm, None, None, transition=False)
    np.testing.assert_allclose(log_w, log_p_star(0.7) - log_p_star(0.3), rtol=1e-10)


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_ais_at_beta_zero_samples_the_base_model(cls):
    """At β = 0 the transition ignores the RBM: v is drawn from the base model (mean σ(a) or a)."""
    rbm = random_rbm(5, 3, seed=6, cls=cls)
    gaussian = cls is GaussianBernoulliRBM
    rng = np.random.default_rng(1)
    n = 40000
    v = np.zeros((n, 5))
    a = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    r_v = rng.standard_normal((n, 5)) if gaussian else rng.random((n, 5))
    v = ais_step(v, np.zeros(n), 0.0, 0.0, rbm.W, rbm.b_vis, rbm.b_hid, a, rbm, rng.random((n, 3)), r_v)
    expected = a if gaussian else 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(v.mean(axis=0), expected, atol=0.02)


@pytest.mark.parametrize("cls,shape", [(BernoulliRBM, (10, 8)), (GaussianBernoulliRBM, (4, 6))])
def test_ais_agrees_with_exact_on_random_models(cls, shape):
    rbm = random_rbm(*shape, scale=0.7, seed=7, cls=cls)
    exact = exact_log_partition(rbm)
    res = ais_log_partition(rbm, n_runs=100, n_betas=3000, rng=0)
    assert abs(res.log_z - exact) < max(3 * res.stderr, 0.02)
    assert res.log_z_low < res.log_z < res.log_z_high
    # a one-step "schedule" is plain importance sampling from the base: far worse than AIS
    crude = ais_log_partition(rbm, n_runs=100, n_betas=1, rng=0)
    assert crude.stderr > 3 * res.stderr


def test_ais_uses_its_own_generator_and_is_reproducible():
    rbm = random_rbm(8, 5, seed=8)
    state = rbm.rng.bit_generator.state
    r1 = ais_log_partition(rbm, n_runs=20, n_betas=200, rng=3)
    r2 = ais_log_partition(rbm, n_runs=20, n_betas=200, rng=3)
    assert r1.log_z == r2.log_z
    assert rbm.rng.bit_generator.state == state


def test_ais_result_bounds_from_log_weights():
    # weights 1, 2, 3, 4: mean 2.5, standard error of the mean std/√4
    log_w = np.log([1.0, 2.0, 3.0, 4.0])
    res = AISResult.from_log_weights(log_w, log_z_base=10.0)
    sem = np.std([1, 2, 3, 4], ddof=1) / 2
    assert res.log_z == pytest.approx(10 + np.log(2.5))
    assert res.stderr == pytest.approx(sem / 2.5)
    assert res.log_z_low == pytest.approx(10 + np.log(2.5 - 3 * sem))
    assert res.log_z_high == pytest.approx(10 + np.log(2.5 + 3 * sem))
    # huge log weights stay finite (log space throughout)
    big = AISResult.from_log_weights(log_w + 5000.0, log_z_base=0.0)
    assert big.log_z == pytest.approx(5000 + np.log(2.5))


def test_base_model_and_bad_arguments():
    rbm = BernoulliRBM(3, 2, dtype=np.float64)
    data = np.array([[1, 0, 1], [1, 0, 0]], dtype=float)
    a = base_visible_bias(rbm, data=data)
    assert a[0] > 3 and a[1] < -3 and abs(a[2]) < 1e-12      # smoothed: finite for always-on/off pixels
    assert base_log_partition(rbm, np.zeros(3)) == pytest.approx(5 * np.log(2))
    with pytest.raises(ValueError, match="base_rate"):
        ais_log_partition(rbm, base_rate=np.full(4, 0.5))
    with pytest.raises(ValueError, match="base_rate"):
        ais_log_partition(rbm, base_rate=np.array([0.0, 0.5, 0.5]))
    with pytest.raises(ValueError, match="betas"):
        ais_log_partition(rbm, betas=[0.0, 0.7, 0.5, 1.0])
    with pytest.raises(ValueError, match="n_runs"):
        ais_log_partition(rbm, n_runs=0)
    with pytest.raises(ValueError, match="data"):
        ais_log_partition(rbm, data=np.ones((2, 4)))


@pytest.mark.slow
def test_ais_matches_exact_on_an_mnist_trained_784x20_rbm():
    """Salakhutdinov & Murray's check: AIS with the full 14 500-β schedule against exact enumeration of 2^20."""
    data = load_mnist(binarize="sample", rng=0, n_train=5000, n_valid=1, n_test=1000)
    rbm = BernoulliRBM(784, 20, rng=0)
    rbm.init_visible_bias(data.x_train)
    cd = ContrastiveDivergence(rbm, k=1)
    Trainer(rbm, SGD(rbm.params, lr=0.05, momentum=0.9), step=cd, rng=0, verbose=False).fit(data.x_train, epochs=8)
    exact = exact_log_partition(rbm)
    res = ais_log_partition(rbm, n_runs=100, rng=1, data=data.x_train)
    assert abs(res.log_z - exact) < 3 * res.stderr
    assert abs(res.log_z - exact) < 0.2
    # the model learned something: far better than the base-rate model alone
    base = base_log_partition(rbm, base_visible_bias(rbm, data=data.x_train))
    assert exact - base > 5
    assert log_likelihood(rbm, data.x_test, exact) > -180


def test_ais_mean_weight_is_unbiased_even_with_few_betas():
    """E[w] = Z_B / Z_A exactly, however short the schedule: with many runs the estimate of Z must be on target."""
    rbm = random_rbm(12, 6, seed=5)
    exact = exact_log_partition(rbm)
    res = ais_log_partition(rbm, n_runs=20000, n_betas=30, rng=1)
    assert abs(res.log_z - exact) < 3 * res.stderr
    assert res.stderr < 0.05
