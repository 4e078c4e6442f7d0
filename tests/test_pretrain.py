"""Greedy stacking, the copy into an MLP, and the study-2 experiment's code path."""
import json

import numpy as np
import pytest

from pretrainlab.checkpoint import restore_generator
from pretrainlab.data import load_mnist
from pretrainlab.runner.experiments import get_experiment
from pretrainlab.mlp import MLP
from pretrainlab.pretrain import LayerSettings, fine_tune, greedy_pretrain, retrain_epochs, to_mlp


@pytest.fixture(scope="module")
def x():
    return load_mnist(n_train=300, n_valid=1, n_test=1).x_train


@pytest.mark.parametrize("kind", ["rbm", "dae"])
def test_to_mlp_reproduces_the_stacks_representation(x, kind):
    stack = greedy_pretrain(x, (20, 7), LayerSettings(kind=kind, epochs=2, batch_size=50), rng=0)
    mlp = to_mlp(stack, n_classes=10, rng=1)
    assert mlp.layer_sizes == [784, 20, 7, 10]
    # first-layer pre-activations: x W1 + b1 of the MLP equal x W + b_hid of the first layer
    np.testing.assert_allclose(x @ mlp.params["W1"] + mlp.params["b1"], x @ stack[0].W + stack[0].b_hid, rtol=1e-6)
    # and every hidden layer's output equals the stack's transform
    h = x
    for layer, h_mlp in zip(stack, mlp.hidden_activations(x)):
        h = layer.transform(h)
        np.testing.assert_allclose(h_mlp, h, rtol=1e-5, atol=1e-6)


def test_greedy_pretraining_learns_each_layer(x):
    """Every layer of the stack moves away from its initial weights (each layer really trains)."""
    untrained = greedy_pretrain(x, (15, 5), LayerSettings(kind="rbm", epochs=1, lr=1e-12), rng=0)
    trained = greedy_pretrain(x, (15, 5), LayerSettings(kind="rbm", epochs=3), rng=0)
    for a, b in zip(untrained, trained):
        assert np.abs(a.W - b.W).max() > 1e-3


def test_layer_schedules_raise_momentum_and_set_the_rate_after_epoch_5():
    cut = LayerSettings(lr=0.1, momentum=0.5, final_momentum=0.9).schedules()
    assert (cut["momentum"](4), cut["momentum"](5)) == (0.5, 0.9)
    assert cut["lr"](4) == 0.1 and cut["lr"](5) == pytest.approx(0.02)  # lr / (1 − momentum) kept at 0.2
    kept = LayerSettings(lr=0.1, momentum=0.5, final_momentum=0.9, final_lr=0.1).schedules()  # Hinton's recipe
    assert kept["lr"](4) == kept["lr"](50) == 0.1
    with pytest.raises(ValueError, match="final_lr"):
        LayerSettings(final_lr=0.0)


def test_to_mlp_rejects_bad_stacks(x):
    with pytest.raises(ValueError, match="stack"):
        to_mlp([], n_classes=10)
    with pytest.raises(ValueError, match="kind"):
        LayerSettings(kind="vae")


@pytest.mark.slow
def test_quick_pretraining_experiment_runs_and_resumes(tmp_path):
    run = get_experiment("pretraining")
    published_arms = ("dbn-hs", "dbn-dropout-srivastava")
    results = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    arms = {(r["arm"], r["n_labels"]) for r in results["runs"]}
    plain = {(a, n) for a in ("random", "dbn", "sda") for n in (100, 2000)}
    published = {("dbn-hs", 2000), ("dbn-dropout-srivastava", 2000)}  # all arms by default (test_published.py)
    assert arms == plain | {(f"{a}+dropout", 2000) for a in ("random", "dbn", "sda")} | published
    for r in results["runs"]:
        if r["arm"] in published_arms:
            continue
        assert 0.0 <= r["test_error"] < 0.9  # better than chance (90 % error) even in the quick run
        # the epochs' update time, from the history: inside the unit's wall time (which adds validation passes)
        assert 0.0 < r["train_seconds"] <= r["seconds"]
        # with all (2 000) labels each arm is also retrained on training + validation images for its best epoch
        assert ("test_error_retrain" in r) == (r["n_labels"] == 2000)
        if r["n_labels"] == 2000:
            assert r["retrain_epochs"] == int(np.argmin(r["valid_curve"])) + 1 and 0.0 <= r["test_error_retrain"] < 0.9
            assert 0.0 < r["train_seconds_retrain"] <= r["seconds_retrain"]
    assert set(results["summary_retrain"]) == {a for a, _ in arms}
    for name in ("results.json", "learning_curves.png", "error_vs_labels.png"):
        assert (tmp_path / name).stat().st_size > 0
    # the fine-tunings' per-epoch checkpoints are gone once their records are in results.json; the stacks'
    # layers stay, each with the generator state a resumed pretraining needs
    assert not list((tmp_path / "units").glob("*.npz"))
    layers = sorted(tmp_path.glob("stack-*-layer*.npz"))
    assert len(layers) == 6 and all(restore_generator(p, np.random.default_rng()) for p in layers)  # dbn, sda, dbn-hs
    # a second run with the same output folder finds everything done and recomputes nothing
    again = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    assert again["runs"] == results["runs"]
    # (dbn-hs trains on training + validation images only: it is in the retrained summary alone)
    assert json.loads((tmp_path / "results.json").read_text())["summary"].keys() == {a for a, _ in arms} - {"dbn-hs"}


def test_fine_tune_without_validation_runs_exactly_the_epochs_and_keeps_max_norm():
    """x_valid = y_valid = None: Hinton's retraining — no early stopping, exactly ``epochs`` epochs; an MLP with
    a max-norm bound has it enforced after every step."""
    data = load_mnist(n_train=300, n_valid=100, n_test=1)
    mlp = MLP([784, 30, 10], rng=0, dropout_input=0.2, dropout_hidden=0.5, max_norm=0.5)
    norms = []
    history = fine_tune(mlp, data.x_train, data.y_train, None, None, epochs=3, lr=0.5, rng=0,
                        after_step=[lambda m: norms.append(max(np.linalg.norm(m.params[f"W{l}"], axis=0).max()
                                                               for l in (1, 2)))])
    assert len(history) == 3 and "valid_error" not in history
    # the user's probe runs before the projection: it sees norms above the bound, the model ends inside it
    assert max(norms) > 0.5
    for l in (1, 2):
        assert np.linalg.norm(mlp.params[f"W{l}"], axis=0).max() <= 0.5 + 1e-6
    with pytest.raises(ValueError, match="x_valid and y_valid"):
        fine_tune(mlp, data.x_train, data.y_train, data.x_valid, None, epochs=1)
    assert retrain_epochs([0.5, 0.3, 0.3, 0.4]) == 2  # the first lowest epoch, 1-based
    with pytest.raises(ValueError, match="valid_curve"):
        retrain_epochs([])


@pytest.mark.slow
def test_greedy_pretrain_hands_labels_to_label_aware_penalties():
    """y reaches every layer's step: a diversifying prior with labels makes different classes' codes less
    alike; with every row unlabelled (−1) there are no pairs and the stack equals one trained without y."""
    from pretrainlab.studies.diversify.regularizers import BhattacharyyaDR

    data = load_mnist(n_train=400, n_valid=1, n_test=1)
    xs, ys = data.x_train, data.y_train

    def stack(alpha, y):
        extra = dict(penalties=[BhattacharyyaDR(alpha)]) if alpha else {}
        return greedy_pretrain(xs, (30, 20), LayerSettings(kind="rbm", epochs=3, batch_size=50, extra=extra),
                               rng=0, y=y)

    plain = stack(0, None)
    unlabelled = stack(50.0, np.full(len(xs), -1))
    for a, b in zip(plain, unlabelled):
        np.testing.assert_array_equal(a.W, b.W)
    diversified = stack(50.0, ys)
    term = BhattacharyyaDR(1.0)
    p, q = np.nonzero(ys[:, None] != ys[None, :])
    h_plain, h_dr = plain[0].transform(xs), diversified[0].transform(xs)
    assert term.penalty(h_dr, p, q)[0] < term.penalty(h_plain, p, q)[0]
    with pytest.raises(ValueError, match="y"):
        greedy_pretrain(xs, (5,), LayerSettings(epochs=1), rng=0, y=ys[:10])


def test_fine_tune_runs_callbacks_and_after_step_hooks():
    from pretrainlab.mlp import MLP
    from pretrainlab.pretrain import fine_tune

    data = load_mnist(n_train=200, n_valid=50, n_test=1)
    epochs, steps = [], []
    mlp = MLP([784, 8, 10], rng=0)
    fine_tune(mlp, data.x_train, data.y_train, data.x_valid, data.y_valid, epochs=3, batch_size=50, patience=5,
              rng=0, callbacks=[lambda trainer, epoch: epochs.append(epoch)],
              after_step=[lambda model: steps.append(model is mlp)])
    assert epochs == [1, 2, 3]
    assert steps == [True] * 12  # 200 rows / 50 per batch × 3 epochs


class _Interrupt(Exception):
    """Raised by a callback to stand for a process killed after an epoch's checkpoint was written."""


def test_an_interrupted_fine_tuning_resumes_from_its_checkpoint_to_the_same_result(tmp_path):
    """fine_tune(checkpoint=…) killed after epoch 2 and rerun ends with the parameters, validation curve and
    best epoch of an uninterrupted run — dropout masks included (the model's generator is in the checkpoint);
    a rerun on the checkpoint of a run that early stopping had ended trains no further."""
    data = load_mnist(n_train=300, n_valid=100, n_test=1)
    args = (data.x_train, data.y_train, data.x_valid, data.y_valid)
    kw = dict(epochs=30, lr=0.5, batch_size=50, patience=2, lr_decay=0.9)

    def net():
        rng = np.random.default_rng(3)
        return MLP([784, 20, 10], rng=rng, dropout_input=0.2, dropout_hidden=0.5), rng

    mlp_a, rng = net()
    whole = fine_tune(mlp_a, *args, rng=rng, **kw)
    assert 2 < len(whole) < 30  # early stopping ends it

    def stop_after_2(trainer, epoch):
        if epoch == 2:
            raise _Interrupt

    mlp_b, rng = net()
    with pytest.raises(_Interrupt):
        fine_tune(mlp_b, *args, rng=rng, checkpoint=tmp_path / "ft.npz", callbacks=[stop_after_2], **kw)
    mlp_c, rng = net()  # a new process rebuilds the start, then resumes
    resumed = fine_tune(mlp_c, *args, rng=rng, checkpoint=tmp_path / "ft.npz", **kw)
    assert resumed["valid_error"] == whole["valid_error"]
    for k in mlp_a.params:
        np.testing.assert_array_equal(mlp_c.params[k], mlp_a.params[k])
    # the checkpoint now holds the finished run: a rerun returns its history without another epoch
    mlp_d, rng = net()
    again = fine_tune(mlp_d, *args, rng=rng, checkpoint=tmp_path / "ft.npz", **kw)
    assert again["valid_error"] == whole["valid_error"]
    for k in mlp_a.params:
        np.testing.assert_array_equal(mlp_d.params[k], mlp_a.params[k])


def test_greedy_pretrain_reads_saved_layers_back_and_trains_only_the_rest(x, tmp_path):
    """With ``checkpoints`` every layer is saved with the generator's state after it; after losing the top
    layers a rerun reads the bottom ones back and ends with the uninterrupted stack, bit for bit."""
    settings = LayerSettings(kind="rbm", epochs=2, batch_size=50)
    whole = greedy_pretrain(x, (20, 10, 5), settings, rng=0)
    paths = [tmp_path / f"layer{i}.npz" for i in (1, 2, 3)]
    first = greedy_pretrain(x, (20, 10, 5), settings, rng=0, checkpoints=paths)
    assert all(p.is_file() for p in paths)
    paths[1].unlink()  # layer 2 lost: layer 3 (learnt from it) must be retrained, not read back
    paths[2].write_bytes(b"")  # … even though a file is there
    stamp = paths[0].stat().st_mtime_ns
    resumed = greedy_pretrain(x, (20, 10, 5), settings, rng=0, checkpoints=paths)
    assert paths[0].stat().st_mtime_ns == stamp  # layer 1 was read, not retrained and rewritten
    for a, b, c in zip(whole, first, resumed):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.W, c.W)
        np.testing.assert_array_equal(a.b_hid, c.b_hid)
    with pytest.raises(ValueError, match="checkpoints: .* BernoulliRBM of shape"):
        greedy_pretrain(x, (10, 5), settings, rng=0, checkpoints=paths[1:])  # layer2.npz is 20 → 10, not 784 → 10
    with pytest.raises(ValueError, match="one path per layer"):
        greedy_pretrain(x, (20, 10), settings, rng=0, checkpoints=paths)
