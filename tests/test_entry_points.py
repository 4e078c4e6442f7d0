"""Issue 33, classes 5–6: the study-4 online autoencoder and its ODE helpers on the same validation layer as the
older entry points, and the handful of wrong types and non-finite numbers that gave AttributeErrors, NaN losses
or silently wrong results. Every refusal names its argument and leaves the objects as they were."""
import math

import numpy as np
import pytest

from pretrainlab.studies.ae_dynamics import ode as ae_ode, shallow_ae

D, K = 8, 2


def _weights(dtype=np.float64):
    rng = np.random.default_rng(0)
    return rng.standard_normal((D, K)).astype(dtype), rng.standard_normal((D, K)).astype(dtype), np.zeros(K, dtype)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("rates, message", [((math.nan, 1.0, 0.0), "lr_W"), ((0.1, math.inf, 0.0), "lr_V"),
                                            ((0.1, 1.0, None), "lr_b"), ((0.1, -1.0, 0.0), "lr_V")])
def test_the_online_kernel_refuses_bad_rates_and_changes_nothing(backend, rates, message):
    from pretrainlab import kernels

    W, V, b = _weights()
    X = np.random.default_rng(1).standard_normal((5, D))
    before = [a.copy() for a in (W, V, b)]
    with kernels.backend(backend), pytest.raises((TypeError, ValueError), match=message):
        shallow_ae.online_ae_sgd(X, W, V, b, *rates, activation="erf")
    for a, a0 in zip((W, V, b), before):
        np.testing.assert_array_equal(a, a0)


def test_the_online_step_refuses_bad_weights_and_samples():
    W, V, b = _weights()
    X = np.zeros((3, D))
    bad_W = W.copy()
    bad_W[0, 0] = np.nan
    with pytest.raises(ValueError, match="W contains NaN"):
        shallow_ae.online_ae_sgd(X, bad_W, V, b, 0.1, 1.0, 0.0)
    with pytest.raises(TypeError, match="W must be a float32 or float64 ndarray"):
        shallow_ae.online_ae_sgd(X, W.tolist(), V, b, 0.1, 1.0, 0.0)
    with pytest.raises(ValueError, match="b must be a 1-D array of W's dtype"):
        shallow_ae.online_ae_sgd(X, W, V, b.astype(np.float32), 0.1, 1.0, 0.0)
    for x, error, message in ((np.full(D, np.nan), ValueError, "x contains NaN"),
                              (np.zeros(D + 1), ValueError, "x must have 8 columns"),
                              (np.zeros(D) + 1j, TypeError, "x must be a real"),
                              (np.zeros((2, D)), ValueError, "one sample")):
        with pytest.raises(error, match=message):
            shallow_ae.online_ae_grads(x, W, V, b)
    with pytest.raises(TypeError, match="V must be a float32 or float64"):
        shallow_ae.online_ae_grads(np.zeros(D), W, V + 1j, b)
    with pytest.raises(ValueError, match="b must have shape|V must have W's shape"):
        shallow_ae.online_ae_grads(np.zeros(D), W, V, np.zeros(K + 1))


def test_the_ode_helpers_refuse_complex_and_nan():
    W, V, _ = _weights()
    Omega = np.eye(D)
    with pytest.raises(TypeError, match="W must be a real"):
        ae_ode.order_parameters(W + 1j, V, Omega)
    with pytest.raises(TypeError, match="Omega must be a real"):
        ae_ode.initial_state(W, V, Omega + 0j)
    with pytest.raises(ValueError, match="rho_tilde must be finite"):
        ae_ode.pca_errors(np.array([1.0, np.nan]), 1)
    with pytest.raises(TypeError, match="Q must be a real"):
        ae_ode.reconstruction_error(np.eye(K) + 0j, np.eye(K), np.eye(K), 1.0)
    with pytest.raises(ValueError, match="trace_omega"):
        ae_ode.reconstruction_error(np.eye(K), np.eye(K), np.eye(K), math.nan)
    with pytest.raises(ValueError, match="n_directions must be ≤ 8"):
        ae_ode.cosine_overlaps(W, n_directions=20)
    with pytest.raises(TypeError, match="n_directions"):
        ae_ode.cosine_overlaps(W, n_directions=2.7)
    with pytest.raises(ValueError, match="rho_tilde must be a 1-D array of length 8"):
        ae_ode.order_parameters_from_overlaps(W, V, np.ones(3))


def test_a_nan_state_is_refused_as_input_and_a_blow_up_does_not_blame_dt_alone():
    W, V, _ = _weights()
    state = ae_ode.initial_state(W, V, np.eye(D))
    bad = ae_ode.AEOverlaps(np.full_like(state.A, np.nan), state.B, state.rho_tilde)
    with pytest.raises(ValueError, match="A must be finite"):
        ae_ode.solve_ae_ode(bad, 1.0, dt=0.1)
    with pytest.raises(ValueError, match="n_directions must be ≤ D"):
        ae_ode.solve_ae_ode(state, 1.0, dt=0.1, n_directions=D + 1)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            FloatingPointError, match="became non-finite at t = .*or the dynamics themselves diverge"):
        ae_ode.solve_ae_ode(state, 50.0, dt=1.0, lr=1e3)


# ---------------------------------------------------------------------------------------------- class 6: the handful
def test_wrong_types_are_type_errors_naming_the_argument_not_attribute_errors(tmp_path):
    from pretrainlab import BernoulliRBM, ContrastiveDivergence, save_model
    from pretrainlab.checkpoint import restore_generator
    from pretrainlab.data import standardize
    from pretrainlab.pretrain import greedy_pretrain, to_mlp

    x = np.zeros((4, 3))
    cases = [(lambda: ContrastiveDivergence("rbm"), "rbm must be"),
             (lambda: save_model({"W": np.zeros(2)}, tmp_path / "m.npz"), "model must be"),
             (lambda: restore_generator(tmp_path / "m.npz", 7), "rng must be"),
             (lambda: standardize("x"), "x must be"),
             (lambda: greedy_pretrain(x, [2], settings="rbm"), "settings must be"),
             (lambda: greedy_pretrain(x, "2"), "hidden_sizes must be"),
             (lambda: greedy_pretrain(x, [2, 2], checkpoints="ab"), "checkpoints must be a list"),
             (lambda: to_mlp([BernoulliRBM(3, 2), "layer"], 2), "layer 2 must be a trained layer")]
    for call, message in cases:
        with pytest.raises(TypeError, match=message):
            call()
    assert not (tmp_path / "m.npz").exists() and not list(tmp_path.iterdir())


def test_sgd_refuses_integer_parameters_and_a_nan_gradient_before_moving_anything():
    from pretrainlab import SGD

    with pytest.raises(TypeError, match="params\\['W'\\] must be a float ndarray"):
        SGD({"W": np.zeros(3, np.int64)}, lr=0.1)
    params = {"W": np.ones(3), "b": np.ones(2)}
    opt = SGD(params, lr=0.1, momentum=0.5)
    for grads in ({"W": np.ones(3), "b": np.array([0.0, np.nan])}, {"W": np.ones(3)}, {"W": np.ones(3) + 1j,
                                                                                       "b": np.ones(2)}):
        with pytest.raises(ValueError, match="grads\\["):
            opt.step(grads)
        np.testing.assert_array_equal(params["W"], np.ones(3))  # W comes first: nothing moved before b's check
        np.testing.assert_array_equal(opt.velocity["W"], np.zeros(3))
        assert opt.updates == 0


def test_kl_sparsity_needs_sigmoid_units():
    from pretrainlab import MLP, TiedAutoencoder
    from pretrainlab.penalties import KLSparsity

    for activation in ("relu", "tanh"):
        with pytest.raises(ValueError, match="KL sparsity term needs sigmoid"):
            MLP([4, 3, 2], activation=activation, penalties=[KLSparsity(0.05, 1.0)])
        with pytest.raises(ValueError, match="sparsity='kl' needs encoder='sigmoid'"):
            TiedAutoencoder(4, 3, encoder=activation, sparsity="kl")
    MLP([4, 3, 2], penalties=[KLSparsity(0.05, 1.0)])  # sigmoid: fine


def test_non_finite_numbers_are_refused_by_name(tmp_path):
    from pretrainlab import BernoulliRBM
    from pretrainlab.data import load_mnist, spiked_covariance, standardize
    from pretrainlab.likelihood import ais_log_partition, base_log_partition, base_visible_bias, exact_log_partition
    from pretrainlab.runner.sweep import run_units

    rbm = BernoulliRBM(4, 3, rng=0)
    nan_rbm = BernoulliRBM(4, 3, rng=0)
    nan_rbm.W[0, 0] = np.nan
    cases = [(lambda: load_mnist(tmp_path / "none.npz", binarize="threshold", threshold=math.nan), "threshold"),
             (lambda: spiked_covariance(5, 4, 2, scales=[1.0, math.nan]), "scales"),
             (lambda: spiked_covariance(5, 4, 2, noise=math.inf), "noise"),
             (lambda: standardize(np.array([[math.nan, 1.0]])), "x contains NaN"),
             (lambda: standardize(np.ones((2, 2)), std=np.array([1.0, math.inf])), "std"),
             (lambda: exact_log_partition(nan_rbm), "rbm has NaN"),
             (lambda: ais_log_partition(nan_rbm, n_runs=2, n_betas=10), "rbm has NaN"),
             (lambda: base_visible_bias(rbm, np.zeros((2, 4)), smoothing=math.nan), "smoothing"),
             (lambda: base_log_partition(rbm, np.full(4, math.inf)), "a must be"),
             (lambda: run_units(abs, [1], threads_per_job=0), "threads_per_job"),
             (lambda: run_units(abs, [1], deadline=math.nan), "deadline")]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_an_empty_scheduler_address_is_refused(capsys):
    from pretrainlab.runner.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["experiment", "pretraining", "--quick", "--scheduler", ""])
    assert exit_.value.code == 2 and "scheduler must be an address" in capsys.readouterr().err
