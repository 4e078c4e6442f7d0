"""DrSAE training (``drsae_train.train_drsae``): both phases through the Trainer, bounds kept, exact resume."""
import numpy as np
import pytest

from pretrainlab.drsae import DrSAE, normalize_rows
from pretrainlab.drsae_train import DrSAEProtocol, train_drsae

PROTOCOL = DrSAEProtocol(unsupervised_epochs=3, discriminative_epochs=5, batch_size=8, lr=0.3, momentum=0.5,
                         lr_decay=0.9, patience=10)


def _data(seed=0, n=48, d=12, k=3):
    """Three noisy prototypes (each lights its own third of the pixels): learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    protos = np.kron(np.eye(k), np.ones(d // k))
    y = rng.integers(0, k, n)
    x = normalize_rows(protos[y] + 0.3 * rng.uniform(0, 1, (n, d))).astype(np.float32)
    return x[:32], y[:32], x[32:], y[32:]


def _model(x):
    return DrSAE(x.shape[1], 6, 3, n_steps=4, rng=1, classification_weight=1.0).init_ista(x, rng=2)


class Interrupt(Exception):
    pass


def _interrupt_at(phase_epochs):
    """A callback raising after the given epoch of the given phase (1: unsupervised, 2: discriminative)."""
    phase, at = phase_epochs
    seen = []

    def callback(trainer, epoch):
        is_disc = trainer.early_stopping is not None
        if (phase == 2) == is_disc and epoch == at and not seen:
            seen.append(epoch)
            raise Interrupt
    return callback


def test_both_phases_train_and_keep_the_bounds():
    x, y, xv, yv = _data()
    model = _model(x)
    result = train_drsae(model, x, y, xv, yv, PROTOCOL, rng=0)
    assert len(result["unsupervised"]) == 3 and len(result["discriminative"]) == 5
    assert result["unsupervised"]["valid_loss"][-1] < result["unsupervised"]["valid_loss"][0]
    assert min(result["discriminative"]["valid_error"]) < 0.5  # chance is 2/3
    assert np.linalg.norm(model.D, axis=0).max() <= 1 + 1e-6
    assert np.linalg.norm(model.E, axis=1).max() <= model.max_norm_E * (1 + 1e-6)
    assert np.linalg.norm(model.C, axis=1).max() <= model.max_norm_C * (1 + 1e-6)


@pytest.mark.parametrize("where", [(1, 2), (2, 2)])
def test_an_interrupted_run_resumed_equals_the_uninterrupted_one(tmp_path, where):
    x, y, xv, yv = _data()
    straight = _model(x)
    ref = train_drsae(straight, x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path / "a")
    model = _model(x)
    with pytest.raises(Interrupt):
        train_drsae(model, x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path / "b",
                    callbacks=[_interrupt_at(where)])
    resumed_model = _model(x)  # a fresh process: a new model, the checkpoints on disk
    got = train_drsae(resumed_model, x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path / "b")
    for k in straight.params:
        np.testing.assert_array_equal(resumed_model.params[k], straight.params[k], err_msg=k)
    for phase in ("unsupervised", "discriminative"):
        for key in ("loss", "valid_loss" if phase == "unsupervised" else "valid_error"):
            assert got[phase][key] == ref[phase][key], (phase, key)
    assert got["best_epoch"] == ref["best_epoch"]
    # finished: a third call trains nothing and gives the same model and histories back
    again = _model(x)
    third = train_drsae(again, x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path / "b")
    assert all(np.array_equal(again.params[k], straight.params[k]) for k in straight.params)
    assert third["discriminative"]["valid_error"] == ref["discriminative"]["valid_error"]


def test_bad_arguments_are_named():
    x, y, xv, yv = _data()
    with pytest.raises(ValueError, match="lr"):
        DrSAEProtocol(lr=0.0)
    with pytest.raises(TypeError, match="batch_size"):
        DrSAEProtocol(batch_size=2.5)
    with pytest.raises(ValueError, match="min_epochs"):
        DrSAEProtocol(min_epochs=-1)
    with pytest.raises(TypeError, match="protocol"):
        train_drsae(_model(x), x, y, xv, yv, protocol={"lr": 1})
    with pytest.raises(ValueError, match="y_valid"):
        train_drsae(_model(x), x, y, xv, yv[:-1], PROTOCOL)


def test_quick_experiment_runs_and_a_rerun_skips_finished_models(tmp_path, capsys):
    from pretrainlab.experiments import get_experiment

    run = get_experiment("drsae")
    results = run(mode="quick", out=tmp_path, verbose=False)
    assert "mean nothing" in capsys.readouterr().out
    assert results["status"] == "finished"
    assert [m["model"] for m in results["models"]] == ["h32-T5", "h16-T5", "h16-T2"]
    for m in results["models"]:
        assert 0 <= m["test_error"] <= 1
        assert sum(m["units"]["counts"].values()) == m["n_hidden"]
        assert sum(m["units"]["categorical_per_class"]) == m["units"]["counts"]["categorical"]
        for kind in ("decoders", "units", "iterations"):
            assert (tmp_path / f"drsae_{m['model']}_{kind}.png").is_file()
    assert (tmp_path / "drsae_valid_curves.png").stat().st_size > 0
    again = run(mode="quick", out=tmp_path, verbose=False)  # every model finished: nothing retrained
    assert [m["test_error"] for m in again["models"]] == [m["test_error"] for m in results["models"]]
    assert again["seconds_this_session"] < 0.5 * results["seconds"]


def test_time_budget_stops_between_epochs_with_the_checkpoint_written(tmp_path):
    from pretrainlab.train import BudgetExhausted, TimeBudget

    x, y, xv, yv = _data()
    with pytest.raises(BudgetExhausted, match="rerun to resume"):
        train_drsae(_model(x), x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path, callbacks=[TimeBudget(1e-9)])
    assert (tmp_path / "unsupervised.npz").is_file() and not (tmp_path / "model.npz").exists()
    with pytest.raises(ValueError, match="seconds"):
        TimeBudget(0)
