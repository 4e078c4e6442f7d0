"""DrSAE training (``studies/drsae/train.py``'s ``train_drsae``): both phases through the Trainer, bounds kept, exact resume."""
import numpy as np
import pytest

from pretrainlab.studies.drsae.model import DrSAE, normalize_rows
from pretrainlab.studies.drsae.train import DrSAEProtocol, train_drsae

from helpers import drsae_toy_data

PROTOCOL = DrSAEProtocol(unsupervised_epochs=3, discriminative_epochs=5, batch_size=8, lr=0.3, momentum=0.5,
                         lr_decay=0.9, patience=10)


_data = drsae_toy_data


def _model(x):
    return DrSAE(x.shape[1], 6, 3, n_steps=4, rng=1, classification_weight=1.0).init_ista(x, rng=2)


class Interrupt(Exception):
    pass


def _interrupt_at(phase_epochs):
    """A callback raising after the given epoch of the given phase (1: unsupervised, 2: discriminative)."""
    phase, at = phase_epochs
    seen = []

    def callback(trainer, epoch):
        is_disc = "valid_error" in trainer.monitors
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


AUTHOR = DrSAEProtocol(unsupervised_epochs=2, discriminative_epochs=6, batch_size=8, lr=0.3, snapshot_every=2)


def test_the_codes_selection_runs_every_epoch_and_tests_the_best_saved_snapshot(tmp_path):
    """patience=None (the author's code): all epochs run, snapshots after epochs 0, 2, 4 (not 6: the code never
    saves the last), the model ends with the snapshot of lowest validation error, the final parameters beside."""
    from pretrainlab import load_model
    from pretrainlab.studies.drsae.train import error_rate

    x, y, xv, yv = _data()
    model = _model(x)
    result = train_drsae(model, x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path)
    assert len(result["discriminative"]) == 6  # no early stopping
    assert sorted(result["snapshots"]) == [0, 2, 4]
    assert sorted(p.name for p in tmp_path.glob("snapshot-*.npz")) == [
        "snapshot-0000.npz", "snapshot-0002.npz", "snapshot-0004.npz"]
    errors = {e: error_rate(load_model(tmp_path / f"snapshot-{e:04d}.npz"), xv, yv) for e in (0, 2, 4)}
    assert result["snapshots"] == errors
    best = min(errors, key=lambda e: (errors[e], e))
    assert result["best_epoch"] == best
    chosen = load_model(tmp_path / f"snapshot-{best:04d}.npz")
    assert all(np.array_equal(model.params[k], chosen.params[k]) for k in model.params)
    # the snapshot after epoch 2 is the epoch-2 state of the run: the same as stopping the run there
    short = _model(x)
    train_drsae(short, x, y, xv, yv, DrSAEProtocol(**{**AUTHOR.to_dict(), "discriminative_epochs": 2}), rng=0,
                checkpoint_dir=tmp_path / "short")
    final_short = load_model(tmp_path / "short" / "final.npz")
    epoch2 = load_model(tmp_path / "snapshot-0002.npz")
    assert all(np.array_equal(final_short.params[k], epoch2.params[k]) for k in epoch2.params)
    # the finished model reloads with its snapshots' errors; in memory (no folder) the same choice is made
    again = train_drsae(_model(x), x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path)
    assert again["snapshots"] == result["snapshots"] and again["best_epoch"] == best
    in_memory = _model(x)
    mem = train_drsae(in_memory, x, y, xv, yv, AUTHOR, rng=0)
    assert mem["snapshots"] == result["snapshots"]
    assert all(np.array_equal(in_memory.params[k], model.params[k]) for k in model.params)


def test_a_missing_snapshot_is_reported_not_skipped(tmp_path):
    x, y, xv, yv = _data()

    def lose_snapshot_2(trainer, epoch):  # a crash between the epoch's checkpoint and its snapshot
        if epoch == 3 and "valid_error" in trainer.monitors:
            (tmp_path / "snapshot-0002.npz").unlink()
    with pytest.raises(ValueError, match="snapshot after discriminative epoch 2"):
        train_drsae(_model(x), x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path, callbacks=[lose_snapshot_2])


@pytest.mark.parametrize("where", [(1, 2), (2, 1), (2, 4)])
def test_an_interrupted_author_run_resumed_equals_the_uninterrupted_one(tmp_path, where):
    x, y, xv, yv = _data()
    straight = _model(x)
    ref = train_drsae(straight, x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path / "a")
    with pytest.raises(Interrupt):
        train_drsae(_model(x), x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path / "b",
                    callbacks=[_interrupt_at(where)])
    resumed = _model(x)
    got = train_drsae(resumed, x, y, xv, yv, AUTHOR, rng=0, checkpoint_dir=tmp_path / "b")
    assert got["snapshots"] == ref["snapshots"] and got["best_epoch"] == ref["best_epoch"]
    assert all(np.array_equal(resumed.params[k], straight.params[k]) for k in straight.params)


def test_bad_arguments_are_named():
    x, y, xv, yv = _data()
    with pytest.raises(ValueError, match="lr"):
        DrSAEProtocol(lr=0.0)
    with pytest.raises(TypeError, match="batch_size"):
        DrSAEProtocol(batch_size=2.5)
    with pytest.raises(ValueError, match="min_epochs"):
        DrSAEProtocol(min_epochs=-1)
    with pytest.raises(ValueError, match="snapshot_every"):
        DrSAEProtocol(snapshot_every=0)
    with pytest.raises(ValueError, match="patience"):
        DrSAEProtocol(patience=0)
    with pytest.raises(TypeError, match="protocol"):
        train_drsae(_model(x), x, y, xv, yv, protocol={"lr": 1})
    with pytest.raises(ValueError, match="y_valid"):
        train_drsae(_model(x), x, y, xv, yv[:-1], PROTOCOL)


@pytest.mark.slow
def test_quick_experiment_runs_and_a_rerun_skips_finished_models(tmp_path, capsys, monkeypatch):
    from pretrainlab.runner.experiments import get_experiment

    run = get_experiment("drsae")
    results = run(mode="quick", out=tmp_path, verbose=False)
    assert "mean nothing" in capsys.readouterr().out
    assert results["status"] == "finished"
    assert [m["model"] for m in results["models"]] == ["h32-T5", "h16-T5", "h16-T2-c4"]
    for m in results["models"]:
        assert 0 <= m["test_error"] <= 1
        assert sum(m["units"]["counts"].values()) == m["n_hidden"]
        assert sum(m["units"]["categorical_per_class"]) == m["units"]["counts"]["categorical"]
        for kind in ("decoders", "units", "iterations"):
            assert (tmp_path / f"drsae_{m['model']}_{kind}.png").is_file()
    assert (tmp_path / "drsae_valid_curves.png").stat().st_size > 0
    from pretrainlab import train

    def no_training(*args, **kwargs):
        raise AssertionError("a finished model was trained again")
    monkeypatch.setattr(train.Trainer, "fit", no_training)
    again = run(mode="quick", out=tmp_path, verbose=False)  # every model finished: nothing retrained
    assert [m["test_error"] for m in again["models"]] == [m["test_error"] for m in results["models"]]


def test_time_budget_stops_between_epochs_with_the_checkpoint_written(tmp_path):
    from pretrainlab.train import BudgetExhausted, TimeBudget

    x, y, xv, yv = _data()
    with pytest.raises(BudgetExhausted, match="rerun to resume"):
        train_drsae(_model(x), x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path, callbacks=[TimeBudget(1e-9)])
    assert (tmp_path / "unsupervised.npz").is_file() and not (tmp_path / "model.npz").exists()
    with pytest.raises(ValueError, match="seconds"):
        TimeBudget(0)


# ---------------------------------------------------------------------------------------------- the author's units
def test_the_codes_summed_loss_at_5e_3_and_the_batch_mean_at_0_25_give_the_same_update():
    """recpool sums every cost over the minibatch and weights the reconstruction by 5 (L1 0.09, NLL 1): per
    example 5 × (½‖x − Dz‖² + 0.018‖z‖₁ + 0.2·NLL).  Its step −5e-3 · Σ_n 5 ∇ℓ_n (each ∇ℓ_n computed on one image
    alone) must equal the lab's −0.25 · ∇(batch mean) at batch 10, parameter by parameter with the code's factors."""
    from pretrainlab.studies.drsae.train import _optimizer

    rng = np.random.default_rng(0)
    x = normalize_rows(rng.uniform(0, 1, (10, 12)))
    y = rng.integers(0, 3, 10)
    model = DrSAE(12, 6, 3, n_steps=4, rng=1, dtype=np.float64).init_ista(x, rng=2)
    start = {k: v.copy() for k, v in model.params.items()}
    # the code's form, by hand: per-example gradients of 5·ℓ_n, summed, rate 5e-3 times the module's factor
    summed = {k: np.zeros_like(v) for k, v in start.items()}
    for n in range(10):
        _, g = model.loss_and_grads(x[n:n + 1], y[n:n + 1])
        for k in summed:
            summed[k] += 5.0 * g[k]
    factor = {k: 1.0 / d for k, d in model.lr_scale().items()}
    expected = {k: start[k] - 5e-3 * factor[k] * summed[k] for k in start}
    # the lab's form: the protocol's default rate on the batch-mean gradient, through the optimiser
    protocol = DrSAEProtocol()
    assert protocol.lr == pytest.approx(5e-3 * 5 * 10) and protocol.batch_size == 10 and protocol.momentum == 0
    _, grads = model.loss_and_grads(x, y)
    _optimizer(model, protocol).step(grads)
    for k in start:
        np.testing.assert_allclose(model.params[k], expected[k], rtol=1e-10, atol=1e-14, err_msg=k)


def test_the_rate_decays_per_update_across_both_phases_and_the_bounds_every_fifth_update():
    x, y, xv, yv = _data()
    protocol = DrSAEProtocol(unsupervised_epochs=2, discriminative_epochs=3, batch_size=8, lr=0.2,
                             update_decay=0.01, patience=10, min_epochs=0)
    model = _model(x)
    calls = []
    original = model.project_norms
    model.project_norms = lambda names=("D", "E", "C"): calls.append(tuple(names)) or original(names)
    result = train_drsae(model, x, y, xv, yv, protocol, rng=0)
    per_epoch = len(x) // 8  # 4 updates an epoch
    # the rate after each epoch: lr / (1 + n · decay), n the updates made so far, counted on through phase 2
    n_done = per_epoch * np.arange(1, 6)
    lrs = result["unsupervised"]["lr"] + result["discriminative"]["lr"]
    np.testing.assert_allclose(lrs, 0.2 / (1 + n_done * 0.01))
    # D and E projected after updates 1, 6, 11, 16 (the code's repair_interval 5), C after every update
    full = [i + 1 for i, names in enumerate(calls) if "D" in names]
    assert len(calls) == 5 * per_epoch and full == [1, 6, 11, 16]
    assert all("C" in names for names in calls)
