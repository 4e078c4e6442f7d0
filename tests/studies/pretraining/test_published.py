"""Study 2 at the authors' protocols (issue 30): rbm.m's mean-field CD-1, Hinton & Salakhutdinov's conjugate-gradient
fine-tuning, Srivastava's dropout fine-tuning, the experiment's published arms, and what a run depends on."""
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from pretrainlab import ContrastiveDivergence
from pretrainlab.data import load_mnist
from pretrainlab.studies.pretraining import experiment as pretraining
from pretrainlab.gradcheck import numerical_gradient, rel_error
from pretrainlab.layers import sigmoid, softmax
from pretrainlab.mlp import MLP
from pretrainlab.pretrain import LayerSettings, greedy_pretrain
from pretrainlab.runner.provenance import environment
from pretrainlab.studies.pretraining.published import (ConjugateGradient, RampedMomentumSGD, dropout_lr_scale, fine_tune_hs,
                                   fine_tune_srivastava, hs_mlp, srivastava_mlp)

from helpers import random_rbm


# ------------------------------------------------------------------------------------------ mean-field CD-1
def test_mean_field_cd1_equals_rbm_m_by_hand():
    """rbm.m: h₀ sampled from p(h | v₀), negdata = p(v | h₀) (no sample), neghidprobs = p(h | negdata);
    the update −(v₀ᵀph₀ − negdataᵀneghidprobs)/B, computed here by hand from the same uniforms."""
    v0 = (np.random.default_rng(5).random((7, 6)) < 0.5).astype(np.float64)
    rbm = random_rbm(6, 4, seed=1)
    rng_copy = np.random.default_rng()
    rng_copy.bit_generator.state = rbm.rng.bit_generator.state
    _, grads = ContrastiveDivergence(rbm, mean_field_visibles=True)(v0)

    ph0 = sigmoid(v0 @ rbm.W + rbm.b_hid)
    h0 = (rng_copy.random(ph0.shape) < ph0).astype(np.float64)
    negdata = sigmoid(h0 @ rbm.W.T + rbm.b_vis)
    ph1 = sigmoid(negdata @ rbm.W + rbm.b_hid)
    np.testing.assert_allclose(grads["W"], -(v0.T @ ph0 - negdata.T @ ph1) / len(v0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["b_vis"], -(v0 - negdata).mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["b_hid"], -(ph0 - ph1).mean(axis=0), rtol=1e-12, atol=1e-14)
    # only h₀'s uniforms were drawn: the generators are in step
    assert rbm.rng.random() == rng_copy.random()

    sampled = random_rbm(6, 4, seed=1)  # the same RBM and seed with sampled negatives: another update
    _, g_sampled = ContrastiveDivergence(sampled)(v0)
    assert np.abs(g_sampled["W"] - grads["W"]).max() > 1e-3


def test_mean_field_cd_is_refused_outside_cd1():
    rbm = random_rbm()
    for kwargs in (dict(k=2), dict(persistent=True), dict(k=lambda epoch: 1)):
        with pytest.raises(ValueError, match="mean_field_visibles"):
            ContrastiveDivergence(rbm, mean_field_visibles=True, **kwargs)


def test_layer_settings_give_rbm_m_initialisation():
    x = load_mnist(n_train=200, n_valid=1, n_test=1).x_train
    settings = LayerSettings(epochs=1, lr=1e-12, init_scale=0.1, init_visible_bias=False,
                             extra=dict(mean_field_visibles=True))
    (rbm,) = greedy_pretrain(x, (300,), settings, rng=0)
    assert 0.09 < rbm.W.std() < 0.11  # 0.1·randn (rbm.m), moved by a negligible rate
    assert np.abs(rbm.b_vis).max() < 1e-6  # zero, not the data's log-odds


# ------------------------------------------------------------------------------------------ conjugate gradients
def _tiny_problem(dtype=np.float64, **mlp_kwargs):
    rng = np.random.default_rng(0)
    x = rng.random((40, 8)).astype(dtype)
    y = rng.integers(0, 3, 40)
    return MLP([8, 5, 4, 3], rng=1, dtype=dtype, **mlp_kwargs), x, y


def test_conjugate_gradient_objective_is_the_summed_loss_with_its_gradient():
    """The flat objective θ ↦ (scale·L(θ), scale·∇L(θ)) the line searches see: its gradient against central
    differences in float64 (the packing of every parameter into θ is what is new here)."""
    mlp, x, y = _tiny_problem()
    opt = ConjugateGradient(mlp.params, objective_scale=len(x))
    f, theta = opt.flat_objective(lambda: mlp.loss_and_grads(x, y))
    value, grad = f(theta)
    assert value == pytest.approx(len(x) * mlp.loss_and_grads(x, y)[0], rel=1e-12)
    numeric = numerical_gradient(lambda: f(theta)[0], theta, eps=1e-6)
    assert rel_error(grad, numeric) <= 1e-6


def test_scaled_weight_decay_gradient_matches_finite_differences():
    """WeightDecay(scale=) is the Srivastava arm's new gradient λ c_W W: checked in float64 through the MLP."""
    from pretrainlab.gradcheck import TOLERANCE, check_gradients
    from pretrainlab.penalties import WeightDecay

    term = WeightDecay(0.3, scale={"W1": 1 / 0.64, "W2": 4.0})
    mlp, x, y = _tiny_problem(penalties=[term])
    errors = check_gradients(mlp, x, y)
    assert max(errors.values()) <= TOLERANCE
    value, grads = term(mlp.params)
    assert value == pytest.approx(0.15 * (np.sum(mlp.params["W1"] ** 2) / 0.64 + 4 * np.sum(mlp.params["W2"] ** 2)
                                         + np.sum(mlp.params["W3"] ** 2)))
    assert "b1" not in grads and term.config()["scale"] == {"W1": 1 / 0.64, "W2": 4.0}
    with pytest.raises(ValueError, match="scale"):
        WeightDecay(0.1, scale={"W1": 0.0})


def test_conjugate_gradient_step_makes_three_line_searches_and_lowers_the_batch_loss():
    mlp, x, y = _tiny_problem()
    before = {k: v.copy() for k, v in mlp.params.items()}
    opt = ConjugateGradient(mlp.params, line_searches=3, first_only=("W3", "b3"), first_epochs=1, objective_scale=40)
    loss0, grads0 = opt.step(lambda: mlp.loss_and_grads(x, y))  # epoch 0: the top layer alone
    assert loss0 == pytest.approx(MLP([8, 5, 4, 3], rng=1, dtype=np.float64).loss_and_grads(x, y)[0])
    assert set(grads0) == set(mlp.params)
    assert opt.last_result["searches"] <= 3 and mlp.loss_and_grads(x, y)[0] < loss0
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(mlp.params[k], before[k])
    assert np.abs(mlp.params["W3"] - before["W3"]).max() > 0
    opt.set_epoch(1)  # then every parameter
    loss1, _ = opt.step(lambda: mlp.loss_and_grads(x, y))
    assert opt.last_result["searches"] == opt.last_result["accepted"] == 3 and mlp.loss_and_grads(x, y)[0] < loss1
    assert np.abs(mlp.params["W1"] - before["W1"]).max() > 0
    with pytest.raises(ValueError, match="first_only"):
        ConjugateGradient(mlp.params, first_only=("W9",))


def _quadratic(n=6, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A, b = M @ M.T + n * np.eye(n), rng.normal(size=n)
    return A, b, (lambda t: (0.5 * t @ A @ t - b @ t, A @ t - b))


def test_line_search_meets_the_strong_wolfe_conditions_within_its_budget():
    """On a smooth non-quadratic function from several starts: an accepted step satisfies
    f(x + ts) ≤ f(x) + ρ t f′(0) and |f′(t)| ≤ −σ f′(0), with at most MAX_EVALUATIONS evaluations."""
    from pretrainlab.studies.pretraining.published import MAX_EVALUATIONS, RHO, SIGMA, line_search

    def f(t):  # a Rosenbrock valley
        x, y = t
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x * x),
                                                                  200 * (y - x * x)])
    rng = np.random.default_rng(0)
    for trial in range(20):
        x = rng.uniform(-2, 2, 2)
        f0, g0 = f(x)
        s = -g0
        d0 = g0 @ s
        for t0 in (1.0 / (1 - d0), 1e-6, 10.0):  # a good, a tiny and a huge first trial
            ok, t, ft, gt, n, lowest = line_search(f, x, f0, g0, s, t0)
            assert n <= MAX_EVALUATIONS and lowest[1] <= f0
            if ok:
                assert ft <= f0 + RHO * t * d0 and abs(gt @ s) <= -SIGMA * d0
                assert ft == pytest.approx(f(x + t * s)[0])


def test_minimize_cg_converges_on_a_quadratic_with_few_evaluations_per_search():
    """Along a line a quadratic is its own cubic fit, so a search needs few evaluations; with the inexact
    (Wolfe) searches CG does not end in exactly n = 6 steps, but 12 searches reach the minimiser to 1e-7."""
    from pretrainlab.studies.pretraining.published import minimize_cg

    A, b, f = _quadratic()
    x, fx, evaluations, searches, accepted = minimize_cg(f, np.zeros(6), line_searches=12)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-7)
    assert searches == accepted == 12 and evaluations <= 1 + 3 * 12
    x3, f3, _, _, _ = minimize_cg(f, np.zeros(6), line_searches=3)  # fewer searches: lower, not as low
    assert f(np.zeros(6))[0] > f3 > fx


def test_a_search_that_cannot_succeed_is_cut_at_its_budget_and_keeps_the_lowest_point():
    """A function whose value is noise at the scale of the step (as a float32 loss of 1e-7 per image is): the
    searches fail, spend at most MAX_EVALUATIONS each, two failures end the batch, and the lowest point seen is
    kept — never one above the start."""
    from pretrainlab.studies.pretraining.published import MAX_EVALUATIONS, minimize_cg

    A, b, smooth = _quadratic()
    rng = np.random.default_rng(1)
    calls = []

    def noisy(t):
        value, grad = smooth(t)
        calls.append(1)
        return value + rng.normal(0, 1e3), grad + rng.normal(0, 1e3, grad.shape)
    x0 = np.zeros(6)
    x, fx, evaluations, searches, accepted = minimize_cg(noisy, x0, line_searches=3)
    assert evaluations == len(calls) <= 1 + 3 * MAX_EVALUATIONS
    assert accepted < searches  # (a noisy search cannot meet both conditions every time)


def test_fine_tune_hs_runs_in_double_precision_and_refuses_bad_input_unchanged():
    data = load_mnist(n_train=200, n_valid=1, n_test=1)
    mlp = MLP([784, 10, 10], rng=3)
    with pytest.raises(ValueError, match="x must have 784 columns"):
        fine_tune_hs(mlp, data.x_train[:, :5], data.y_train, epochs=1, batch_size=100, top_epochs=1)
    assert mlp.dtype == np.float32  # refused: the MLP was not converted
    fine_tune_hs(mlp, data.x_train, data.y_train, epochs=2, batch_size=100, top_epochs=1, rng=0)
    assert mlp.dtype == np.float64 and all(p.dtype == np.float64 for p in mlp.params.values())


def test_hs_mlp_keeps_the_stack_and_draws_w_class_as_backpropclassify():
    x = load_mnist(n_train=300, n_valid=1, n_test=1).x_train
    stack = greedy_pretrain(x, (30, 20), LayerSettings(epochs=1), rng=0)
    mlp = hs_mlp(stack, 10, np.random.default_rng(0))
    for l, layer in enumerate(stack, start=1):
        np.testing.assert_array_equal(mlp.params[f"W{l}"], layer.W)
    top = np.concatenate([mlp.params["W3"].ravel(), mlp.params["b3"]])
    assert 0.08 < top.std() < 0.12 and abs(top.mean()) < 0.03 and np.abs(mlp.params["b3"]).max() > 0
    assert mlp.weight_decay == 0 and not mlp.penalties


def test_srivastava_mlp_keeps_the_stack_and_draws_the_output_layer_as_deepnet():
    """W_s ~ N(0, 1/n_classes) (deepnet divides by dimensions[1], the output size), zero bias, times q in the
    inverted-dropout units; the same rng gives the same net."""
    x = load_mnist(n_train=300, n_valid=1, n_test=1).x_train
    stack = greedy_pretrain(x, (30, 400), LayerSettings(epochs=1), rng=0)
    mlp = srivastava_mlp(stack, 10, np.random.default_rng(0), dropout_input=0.2, dropout_hidden=0.5)
    for l, layer in enumerate(stack, start=1):
        np.testing.assert_array_equal(mlp.params[f"W{l}"], layer.W)
    top = mlp.params["W3"] / 0.5  # back to deepnet's standard-dropout units
    assert abs(top.std() - 1 / np.sqrt(10)) < 0.02 and abs(top.mean()) < 0.02
    assert not np.any(mlp.params["b3"])
    again = srivastava_mlp(stack, 10, np.random.default_rng(0), dropout_input=0.2, dropout_hidden=0.5)
    np.testing.assert_array_equal(again.params["W3"], mlp.params["W3"])


class _Interrupt(Exception):
    pass


def test_hs_fine_tuning_resumes_from_its_checkpoint_to_the_same_result(tmp_path):
    """Through the Trainer: a fine-tuning killed after epoch 2 and rerun ends where an uninterrupted one does."""
    data = load_mnist(n_train=300, n_valid=1, n_test=100)
    kw = dict(epochs=4, batch_size=100, top_epochs=1, monitors={"test_error": lambda m: 1 - m.score(data.x_test,
                                                                                                      data.y_test)})

    def net():
        return MLP([784, 20, 10], rng=3), np.random.default_rng(3)

    mlp_a, rng = net()
    whole = fine_tune_hs(mlp_a, data.x_train, data.y_train, rng=rng, **kw)
    assert len(whole) == 4 and whole["loss"][-1] < whole["loss"][0]

    def stop_after_2(trainer, epoch):
        if epoch == 2:
            raise _Interrupt

    mlp_b, rng = net()
    with pytest.raises(_Interrupt):
        fine_tune_hs(mlp_b, data.x_train, data.y_train, rng=rng, checkpoint=tmp_path / "cg.npz",
                     callbacks=[stop_after_2], **kw)
    mlp_c, rng = net()
    resumed = fine_tune_hs(mlp_c, data.x_train, data.y_train, rng=rng, checkpoint=tmp_path / "cg.npz", **kw)
    assert resumed["test_error"] == whole["test_error"]
    for k in mlp_a.params:
        np.testing.assert_array_equal(mlp_c.params[k], mlp_a.params[k])


# ------------------------------------------------------------------------------------------ Srivastava
def test_momentum_rises_per_update_as_deepnet_and_resumes_on_the_ramp():
    """parameter.py: momentum = final − (final − initial)·exp(−step / momentum_change_steps), per update."""
    w = {"W": np.zeros((2, 2))}
    opt = RampedMomentumSGD(w, lr=0.01, momentum_steps=3000)
    seen = []
    for _ in range(5):
        opt.step({"W": np.ones((2, 2))})
        seen.append(opt.momentum)
    assert seen == [0.9 - 0.4 * np.exp(-t / 3000) for t in range(5)]
    assert opt.momentum_at(3000) == pytest.approx(0.9 - 0.4 / np.e)
    other = RampedMomentumSGD({"W": np.zeros((2, 2))}, lr=0.01)
    other.load_state(opt.state())
    other.set_epoch(1)
    assert other.updates == 5 and other.momentum == opt.momentum_at(5)


def test_hinton_2012_ramp_is_linear_and_damps_the_gradient_by_one_minus_momentum():
    """arXiv:1207.0580 appendix A: Δw_t = p_t Δw_{t−1} − (1 − p_t) ε ⟨∂L/∂w⟩, p_t linear from 0.5 to 0.99 over the
    ramp, then 0.99 — checked against that recursion written out, through a resume; bad settings refused."""
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((2, 3)) for _ in range(7)]
    w = {"W": np.zeros((2, 3))}
    opt = RampedMomentumSGD(w, lr=1.0, initial_momentum=0.5, final_momentum=0.99, momentum_steps=4,
                            ramp="linear", damped=True)
    for g in grads[:3]:
        opt.step({"W": g})
    other = RampedMomentumSGD({"W": w["W"].copy()}, lr=1.0, initial_momentum=0.5, final_momentum=0.99,
                              momentum_steps=4, ramp="linear", damped=True)
    other.load_state(opt.state())
    other.set_epoch(1)
    for g in grads[3:]:
        other.step({"W": g})
    ref, dw = np.zeros((2, 3)), np.zeros((2, 3))
    for t, g in enumerate(grads):
        p = 0.5 + 0.49 * min(t / 4, 1.0)
        dw = p * dw - (1 - p) * 1.0 * g
        ref = ref + dw
    np.testing.assert_allclose(other.params["W"], ref, rtol=1e-12, atol=1e-14)
    assert other.momentum == pytest.approx(0.99) and other.lr == pytest.approx(0.01)
    with pytest.raises(ValueError, match="ramp"):
        RampedMomentumSGD({"W": np.zeros(2)}, ramp="cosine")
    with pytest.raises(TypeError, match="damped"):
        RampedMomentumSGD({"W": np.zeros(2)}, damped="yes")


def test_inverted_dropout_update_is_deepnets_update_of_the_scaled_weights():
    """One Srivastava step of the inverted-dropout net (weights W_i, rate scale q², decay scale 1/q²) equals,
    divided by q, deepnet's step ΔW_s = −ε(g_s + λW_s) of the standard-dropout net W_s = W_i / q (masks at
    training, ×q at test), computed here by hand with the same masks; the biases' steps are equal."""
    rng = np.random.default_rng(0)
    stack = [random_rbm(6, 5, seed=3)]  # a float64 pretrained layer
    x, y = rng.random((9, 6)), rng.integers(0, 3, 9)
    lam, eps, p_in, p_hid = 1e-3, 0.01, 0.2, 0.5
    mlp = srivastava_mlp(stack, 3, np.random.default_rng(1), p_in, p_hid, lam)
    assert mlp.params["W1"].dtype == np.float64
    W1, b1, W2, b2 = (mlp.params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    state = mlp.rng.bit_generator.state
    _, grads = mlp.loss_and_grads(x, y)
    opt = RampedMomentumSGD(mlp.params, lr=eps, lr_scale=dropout_lr_scale(mlp))
    opt.step(grads)

    # deepnet's standard dropout, the same uniforms: mask = [u ≥ p], no 1/q at training time
    masks = np.random.default_rng()
    masks.bit_generator.state = state
    m0 = masks.random(x.shape) >= p_in
    q0, q1 = 1 - p_in, 1 - p_hid
    W1s, W2s = W1 / q0, W2 / q1
    xd = x * m0
    h1 = sigmoid(xd @ W1s + b1)
    m1 = masks.random(h1.shape) >= p_hid
    h1d = h1 * m1
    d2 = (softmax(h1d @ W2s + b2) - np.eye(3)[y]) / len(x)
    d1 = (d2 @ W2s.T) * m1 * h1 * (1 - h1)
    steps = {"W1": -eps * (xd.T @ d1 + lam * W1s), "b1": -eps * d1.sum(0),
             "W2": -eps * (h1d.T @ d2 + lam * W2s), "b2": -eps * d2.sum(0)}
    np.testing.assert_allclose(mlp.params["W1"] - W1, q0 * steps["W1"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mlp.params["W2"] - W2, q1 * steps["W2"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mlp.params["b1"] - b1, steps["b1"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mlp.params["b2"] - b2, steps["b2"], rtol=1e-10, atol=1e-15)


def test_srivastava_fine_tuning_counts_updates_and_records_sparse_monitors():
    data = load_mnist(n_train=250, n_valid=1, n_test=1)
    mlp = MLP([784, 10, 10], rng=0, dropout_input=0.2, dropout_hidden=0.5)
    calls = []
    history, opt = fine_tune_srivastava(mlp, data.x_train, data.y_train, updates=7, batch_size=100, rng=0,
                                        monitors={"probe": lambda m: calls.append(1) or 1.0}, monitor_every=2)
    assert len(history) == 3 and opt.updates == 9  # ceil(7 / 3 per epoch) epochs of 3 updates
    assert np.isnan(history["probe"][0]) and history["probe"][1:] == [1.0, 1.0]  # epoch 2, and the last
    assert opt.momentum == opt.momentum_at(8)
    with pytest.raises(ValueError, match="updates"):
        fine_tune_srivastava(mlp, data.x_train, data.y_train, updates=0)


def test_an_interrupted_srivastava_fine_tuning_resumes_on_the_same_ramp(tmp_path):
    """Killed after epoch 2 and rerun: the same parameters as an uninterrupted run — the update count (and so
    the momentum), the velocity and the dropout masks' generator all come back from the checkpoint."""
    data = load_mnist(n_train=200, n_valid=1, n_test=1)

    def net():
        return MLP([784, 12, 10], rng=4, dropout_input=0.2, dropout_hidden=0.5)

    kw = dict(updates=8, batch_size=50, momentum_steps=5)
    whole, opt_a = fine_tune_srivastava(mlp_a := net(), data.x_train, data.y_train, rng=4, **kw)

    def stop_after_2(trainer, epoch):
        if epoch == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        fine_tune_srivastava(net(), data.x_train, data.y_train, rng=4, checkpoint=tmp_path / "s.npz",
                             callbacks=[stop_after_2], **kw)
    resumed, opt_c = fine_tune_srivastava(mlp_c := net(), data.x_train, data.y_train, rng=4,
                                          checkpoint=tmp_path / "s.npz", **kw)
    assert opt_c.updates == opt_a.updates == 8 and resumed["loss"] == whole["loss"]
    for k in mlp_a.params:
        np.testing.assert_array_equal(mlp_c.params[k], mlp_a.params[k])


# ------------------------------------------------------------------------------------------ the experiment
@pytest.mark.slow
def test_published_arms_run_alone_record_their_protocol_and_resume(tmp_path):
    arms = ["dbn-hs", "dbn-dropout-srivastava"]
    results = pretraining.run("quick", tmp_path, verbose=False, arms=arms, threads_per_job=1)
    by_arm = {r["arm"]: r for r in results["runs"]}
    assert sorted(by_arm) == sorted(arms)  # today's arms did not run, nor their stacks
    assert not list(tmp_path.glob("stack-dbn-seed*")) and len(list(tmp_path.glob("stack-dbn-hs-seed0-*"))) == 2
    pub = pretraining.PUBLISHED["quick"]
    hs, sr = by_arm["dbn-hs"], by_arm["dbn-dropout-srivastava"]
    assert "test_error" not in hs and 0 <= hs["test_error_retrain"] < 0.9  # trained on train + validation only
    assert hs["retrain_epochs"] == len(hs["test_curve_retrain"]) == pub["hs_epochs"]
    assert sr["updates"] >= pub["srivastava_updates"] and sr["updates_retrain"] >= pub["srivastava_updates"]
    assert len(sr["valid_curve"]) == sr["epochs"] and 0 < sr["train_seconds"] <= sr["seconds"]
    stored = json.loads((tmp_path / "run.json").read_text())
    assert stored["options"]["published"] == pub
    assert stored["environments"][0]["thread_pools"] and stored["environments"][0]["threads_per_job"] == 1
    assert (tmp_path / "published_curves.png").stat().st_size > 0
    assert not list((tmp_path / "units").glob("*.npz"))
    again = pretraining.run("quick", tmp_path, verbose=False, arms=arms, threads_per_job=1)
    assert again["runs"] == results["runs"]
    with pytest.raises(ValueError, match="arms"):
        pretraining.run("quick", tmp_path, verbose=False, arms=["dbn-hinton"])


def test_environment_names_what_results_depend_on():
    env = environment(threads_per_job=1, jobs=2)
    assert {"numpy", "scipy", "cpu", "cores", "thread_pools", "variables", "jobs", "threads_per_job"} <= set(env)
    assert all("architecture" in p and "num_threads" in p for p in env["thread_pools"])
    json.dumps(env)


# ------------------------------------------------------------------------------------------ reproducibility
def test_same_seed_same_machine_same_threads_gives_identical_stacks():
    """Sampled CD amplifies last-bit differences, so the promise is narrow: the same seed, machine, libraries and
    BLAS thread count give the same stack bit for bit (docs/probes/blas_threads_cd.py measures what changes)."""
    x = load_mnist(n_train=400, n_valid=1, n_test=1).x_train
    settings = LayerSettings(kind="rbm", epochs=2, batch_size=100)
    stacks = []
    for _ in range(2):
        with threadpool_limits(1):
            stacks.append(greedy_pretrain(x, (64, 32), settings, rng=7))
    for a, b in zip(*stacks):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b_hid, b.b_hid)


def test_cli_arms_and_seeds_are_checked_before_anything_is_written(tmp_path, capsys):
    from pretrainlab.runner.cli import main

    assert main(["experiment", "pretraining", "--quick", "--arms", "dbn-hinton", "--out", str(tmp_path / "a")]) == 2
    assert "unknown arm" in capsys.readouterr().err and not (tmp_path / "a").exists()
    assert main(["experiment", "mlp-baseline", "--quick", "--arms", "dbn-hs", "--out", str(tmp_path / "b")]) == 2
    assert "--arms" in capsys.readouterr().err and not (tmp_path / "b").exists()
    with pytest.raises(SystemExit):
        main(["experiment", "pretraining", "--quick", "--seeds", "0,x"])


@pytest.mark.slow
def test_dropout_arm_without_its_validation_run_trains_only_on_all_images(tmp_path, monkeypatch):
    pub = dict(pretraining.PUBLISHED["quick"], dropout_validation=False)
    monkeypatch.setitem(pretraining.PUBLISHED, "quick", pub)
    results = pretraining.run("quick", tmp_path, verbose=False, arms=["dbn-dropout-srivastava"], threads_per_job=1)
    (record,) = results["runs"]
    assert "valid_curve" not in record and "test_error" not in record  # the 50 000-image run did not happen
    assert record["updates_retrain"] >= pub["srivastava_updates"] and 0 <= record["test_error_retrain"] < 0.9
    assert json.loads((tmp_path / "run.json").read_text())["options"]["published"]["dropout_validation"] is False
