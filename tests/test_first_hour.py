"""Issue 33, a new user's first hour: the scikit-learn pipeline idiom, Ctrl-C, a spent --hours budget, and the
Trainer refusing bad arguments when it is built rather than after an epoch."""
import time
import warnings

import numpy as np
import pytest

from pretrainlab import MLP, SGD, BernoulliRBM, ContrastiveDivergence, Trainer


# ---------------------------------------------------------------------------------------------- sklearn clipping
def test_transform_clips_a_few_values_slightly_out_with_one_warning_and_fit_still_refuses_raw_pixels():
    pytest.importorskip("sklearn")
    from pretrainlab.estimators import DBNClassifier, RBMTransformer
    from pretrainlab.estimators._common import ClippedInputWarning

    rng = np.random.default_rng(0)
    x = rng.random((40, 8))
    rbm = RBMTransformer(n_components=4, n_iter=1, random_state=0).fit(x)
    held_out = x.copy()
    held_out[0, 0], held_out[1, 3] = 1.07, 6.0  # 2 of 320 values: a MinMaxScaler's overshoot on held-out rows
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = rbm.transform(held_out)
    clipped = [w for w in caught if issubclass(w.category, ClippedInputWarning)]
    assert len(clipped) == 1 and "2 of 320 values" in str(clipped[0].message)
    np.testing.assert_array_equal(features, rbm.transform(np.clip(held_out, 0, 1)))
    assert held_out[1, 3] == 6.0  # the caller's array is not clipped in place
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        rbm.transform(x * 16)  # raw 0–16 pixels: most values out, far out
    with pytest.raises(ValueError, match="maximum 6"):
        RBMTransformer(n_components=4, n_iter=1).fit(held_out)  # fit never clips
    clf = DBNClassifier(n_iter=1, pretrain_n_iter=1, random_state=0).fit(x, np.arange(40) % 2)
    with pytest.warns(ClippedInputWarning, match="1 of 320"):
        clf.predict(np.where(np.arange(320).reshape(40, 8) == 5, 1.01, x))


def test_estimators_refuse_string_and_datetime_x_by_name():
    pytest.importorskip("sklearn")
    from pretrainlab.estimators import MLPClassifier, RBMTransformer

    for X in (np.array([["0.5"] * 3] * 4), np.array([["2020-01-01"] * 3] * 4, dtype="datetime64[D]")):
        with pytest.raises(TypeError, match="X must hold real numbers"):
            RBMTransformer(n_components=2).fit(X)
        with pytest.raises(TypeError, match="X must hold real numbers"):
            MLPClassifier().fit(X, [0, 1, 0, 1])


# ---------------------------------------------------------------------------------------------- the command line
def _fake_experiment(monkeypatch, run):
    import pretrainlab.runner.experiments as experiments

    monkeypatch.setattr(experiments, "get_experiment", lambda name: run)


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, tmp_path, capsys):
    from pretrainlab.runner.cli import main

    def run(mode, out, seed, verbose):
        rbm = BernoulliRBM(4, 2, rng=0)
        calls = []

        def step(xb, yb):  # Ctrl-C during the second epoch
            calls.append(1)
            if len(calls) > 2:
                raise KeyboardInterrupt
            return ContrastiveDivergence(rbm)(xb)

        Trainer(rbm, SGD(rbm.params, lr=0.1), step=step, batch_size=2, checkpoint=tmp_path / "ck.npz",
                verbose=False).fit(np.ones((4, 4)), epochs=5)

    _fake_experiment(monkeypatch, run)
    assert main(["demo", "--quick", "--threads", "1"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["interrupted after epoch 1; rerun the same command to resume"]


def test_a_spent_hours_budget_says_what_is_left_and_exits_non_zero(monkeypatch, capsys):
    from pretrainlab.runner.cli import main
    from pretrainlab.runner.sweep import run_units

    def run(mode, out, seed, verbose, jobs=1, scheduler=None, threads_per_job=None, deadline=None):
        run_units(abs, [-1, -2, -3], deadline=time.time() - 1, verbose=False)  # the budget is spent already
        return {"out": "somewhere"}

    _fake_experiment(monkeypatch, run)
    assert main(["experiment", "pretraining", "--quick", "--threads", "1", "--hours", "0.001"]) == 3
    assert "time budget spent: 3 unit(s) left" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the Trainer
def test_the_trainer_refuses_bad_arguments_before_an_epoch(tmp_path):
    mlp = MLP([4, 3, 2], rng=0)
    opt = SGD(mlp.params, lr=0.1)
    (tmp_path / "a-file").write_text("")
    cases = [(dict(callbacks=[5]), TypeError, "callbacks"), (dict(after_step="ab"), TypeError, "after_step"),
             (dict(checkpoint=tmp_path), ValueError, "is a folder"),
             (dict(checkpoint=tmp_path / "a-file" / "ck.npz"), ValueError, "is a file"),
             (dict(checkpoint=5), TypeError, "checkpoint"), (dict(monitors=[1]), TypeError, "monitors"),
             (dict(early_stopping="valid"), TypeError, "early_stopping")]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            Trainer(mlp, opt, verbose=False, **kwargs)
    with pytest.raises(TypeError, match="model must be"):
        Trainer(mlp.params, opt)
    with pytest.raises(TypeError, match="optimizer must be"):
        Trainer(mlp, 0.1)
    with pytest.raises(TypeError, match="step is required"):
        Trainer(BernoulliRBM(4, 2), SGD(BernoulliRBM(4, 2).params, lr=0.1))


def test_experiment_name_help_describes_the_study_and_demo_help_has_no_sweep_flags(capsys):
    from pretrainlab.runner.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["experiment", "drsae", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "experiment drsae:" in out and "Rolfe" in out and "Modes: --quick" in out
    assert "Outputs: results.json" in out and "``" not in out
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "--quick" in out and not any(flag in out for flag in ("--jobs", "--scheduler", "--hours"))


# ---------------------------------------------------------------------------------------------- RBMs, gradcheck
def test_rbms_reconstruct_and_the_gaussian_rbm_samples_by_default():
    from pretrainlab import GaussianBernoulliRBM

    v = (np.random.default_rng(0).random((5, 6)) < 0.5).astype(np.float32)
    rbm = BernoulliRBM(6, 4, rng=0)
    np.testing.assert_allclose(rbm.reconstruct(v), rbm.mean_visibles(rbm.mean_hiddens(v)))
    assert np.all((rbm.reconstruct(v) > 0) & (rbm.reconstruct(v) < 1))
    gb = GaussianBernoulliRBM(6, 4, rng=0)
    np.testing.assert_allclose(gb.reconstruct(v), gb.mean_hiddens(v) @ gb.W.T + gb.b_vis, rtol=1e-6)
    state = gb.rng.bit_generator.state
    means = gb.sample(400, n_steps=2, means=True)
    gb.rng.bit_generator.state = state
    draws = gb.sample(400, n_steps=2)  # the same chain, plus N(0, I) noise
    noise = draws - means
    assert abs(noise.std() - 1.0) < 0.05 and abs(noise.mean()) < 0.05


def test_assert_gradients_states_its_tolerance_and_names_failing_parameters():
    from pretrainlab.gradcheck import TOLERANCE, assert_gradients

    mlp = MLP([4, 3, 2], rng=0)
    x, y = np.random.default_rng(0).random((5, 4)), np.array([0, 1, 0, 1, 1])
    errors = assert_gradients(mlp, x, y)
    assert set(errors) == set(mlp.params) and max(errors.values()) <= TOLERANCE == 1e-6

    class Broken(MLP):
        def loss_and_grads(self, x, y):
            loss, grads = super().loss_and_grads(x, y)
            grads["b1"] = grads["b1"] * 1.01  # a 1 % error in one gradient
            return loss, grads

    with pytest.raises(AssertionError, match="tolerance 1e-06.*b1"):
        assert_gradients(Broken([4, 3, 2], rng=0), x, y)


def test_the_pipeline_idiom_cross_validates_to_finite_scores_on_digits():
    """docs/sklearn_example.md's idiom, shortened (2 epochs, 3 folds): a MinMaxScaler inside the pipeline, RBM
    features, logistic regression — every fold scores (before the clipping rule every fold was NaN)."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from pretrainlab.estimators import RBMTransformer

    X, y = load_digits(return_X_y=True)
    model = make_pipeline(MinMaxScaler(), RBMTransformer(n_components=32, n_iter=2, random_state=0),
                          LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, X, y, cv=5, error_score="raise")
    assert np.all(np.isfinite(scores)) and scores.mean() > 0.5  # (chance: 0.1)
