"""Robustness (issue 14): nothing runs from a file, nothing trains on half-checked data, resume is exact for
every estimator, divergence never leaves inf behind, refused calls change nothing."""
import json

import numpy as np
import pytest

from pretrainlab import MLP, SGD, BernoulliRBM, ContrastiveDivergence, TiedAutoencoder, Trainer, TrainingDiverged
from pretrainlab import load_model, save_model
from pretrainlab.checkpoint import read_npz
from pretrainlab.data import bars_and_stripes, load_mnist
from pretrainlab.gradcheck import check_gradients
from pretrainlab.likelihood import ais_log_partition, exact_log_partition
from pretrainlab.plotting import plot_images


def snapshot(model):
    return {k: v.copy() for k, v in model.params.items()}


def assert_unchanged(model, before):
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v, err_msg=k)


def test_a_checkpoint_naming_another_class_is_refused_and_runs_nothing(tmp_path):
    """A crafted __meta__ naming os.system must not be imported or called."""
    marker = tmp_path / "pwned"
    for cls in ("os.system", "builtins.eval", "subprocess.Popen", "system"):
        path = tmp_path / "evil.npz"
        meta = {"class": cls, "config": {"command": f"touch {marker}"}}
        np.savez(path, __meta__=np.array(json.dumps(meta)))
        with pytest.raises(ValueError, match="not one of pretrainlab's models"):
            load_model(path)
        assert not marker.exists()


def test_pcd_resume_equals_the_uninterrupted_run(tmp_path):
    """The fantasy particles are estimator state: they travel in the trainer checkpoint."""
    data = bars_and_stripes(3)

    def make(path):
        rbm = BernoulliRBM(9, 4, rng=0)
        cd = ContrastiveDivergence(rbm, k=1, persistent=True, n_chains=6)
        return rbm, cd, Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=cd, batch_size=5, rng=0,
                                checkpoint=path, verbose=False)

    rbm_a, cd_a, trainer_a = make(tmp_path / "a.npz")
    trainer_a.fit(data, epochs=6)
    _, _, trainer_b = make(tmp_path / "b.npz")
    trainer_b.fit(data, epochs=3)
    rbm_c, cd_c, trainer_c = make(tmp_path / "b.npz")  # a fresh process: rebuild, then resume
    trainer_c.fit(data, epochs=6, resume=True)
    np.testing.assert_array_equal(rbm_c.W, rbm_a.W)
    np.testing.assert_array_equal(cd_c.chains, cd_a.chains)


def test_divergence_in_the_last_step_of_an_epoch_is_caught_and_never_saved(tmp_path):
    """One batch per epoch and a rate so large that epoch 2's step overflows the weights (a finite gradient):
    the trainer must stop in epoch 2, not return normally, keep epoch 1's weights and never save inf."""
    rbm = BernoulliRBM(9, 4, rng=0)
    trainer = Trainer(rbm, SGD(rbm.params, lr=1e38), step=ContrastiveDivergence(rbm, k=1), batch_size=14,
                      rng=0, checkpoint=tmp_path / "ck.npz", verbose=False)
    with pytest.raises(TrainingDiverged, match="epoch 2"):
        with np.errstate(over="ignore", invalid="ignore"):
            trainer.fit(bars_and_stripes(3), epochs=3)
    saved = read_npz(tmp_path / "ck.npz")
    assert all(np.all(np.isfinite(v)) for v in saved.values() if v.dtype.kind == "f")
    for k, v in rbm.params.items():  # the last finite parameters: those at the start of the failing epoch
        assert np.all(np.isfinite(v))
        np.testing.assert_array_equal(v, saved[f"param/{k}"])
    with pytest.raises(ValueError, match="NaN or infinite"):
        rbm.params["W"][0, 0] = np.inf
        save_model(rbm, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("bad", ["nan_row", "label"])
def test_the_whole_training_set_is_checked_before_the_first_update(bad):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 6)), rng.integers(0, 3, 40)
    if bad == "nan_row":
        x[25, 2] = np.nan
    else:
        y[33] = 7
    mlp = MLP([6, 4, 3], rng=0)
    before = snapshot(mlp)
    with pytest.raises(ValueError, match="x contains NaN" if bad == "nan_row" else "y must be in 0..2"):
        Trainer(mlp, SGD(mlp.params, lr=0.1), batch_size=5, verbose=False).fit(x, y, epochs=1)
    assert_unchanged(mlp, before)


def test_loading_checks_everything_before_writing(tmp_path):
    data = bars_and_stripes(3)
    other = BernoulliRBM(9, 5, rng=1)  # another shape
    Trainer(other, SGD(other.params, lr=0.1), step=ContrastiveDivergence(other), rng=0,
            checkpoint=tmp_path / "other.npz", verbose=False).fit(data, epochs=1)
    save_model(BernoulliRBM(9, 4, rng=2), tmp_path / "plain.npz")  # a model file, not a trainer checkpoint
    good = BernoulliRBM(9, 4, rng=3)
    Trainer(good, SGD(good.params, lr=0.1), step=ContrastiveDivergence(good), rng=0,
            checkpoint=tmp_path / "good.npz", verbose=False).fit(data, epochs=1)
    arrays = read_npz(tmp_path / "good.npz")
    state = json.loads(str(arrays["__trainer__"]))
    for name, rngs in (("foreign", {"trainer": {"bit_generator": "MT19937", "state": {}}}), ("none", {})):
        edited = dict(arrays, __trainer__=np.array(json.dumps(dict(state, rng=rngs))))
        np.savez(tmp_path / f"rng-{name}.npz", **edited)  # a good checkpoint but for its generator state
    for path, message in ((tmp_path / "other.npz", "another configuration"), (tmp_path / "plain.npz", "velocity"),
                          (tmp_path / "rng-foreign.npz", "generator state"),
                          (tmp_path / "rng-none.npz", "generator state")):
        rbm = BernoulliRBM(9, 4, rng=0)
        trainer = Trainer(rbm, SGD(rbm.params, lr=0.1), step=ContrastiveDivergence(rbm), rng=0, verbose=False)
        before, rng_state = snapshot(rbm), trainer.rng.bit_generator.state
        with pytest.raises(ValueError, match=message):
            trainer.load_checkpoint(path)
        assert_unchanged(rbm, before)
        assert trainer.rng.bit_generator.state == rng_state and trainer.epoch == 0


@pytest.mark.parametrize("x", [np.ones((3, 9)) + 1j, np.array([["2020-01-01"] * 9] * 3, dtype="datetime64[D]")])
def test_complex_and_datetime_data_are_refused(x):
    with pytest.raises(TypeError, match="v must be a real numeric array"):
        BernoulliRBM(9, 4).free_energy(x)


@pytest.mark.parametrize("dtype", [np.int32, np.float16, "int64"])
def test_integer_and_half_precision_models_are_refused(dtype):
    with pytest.raises(TypeError, match="dtype"):
        BernoulliRBM(9, 4, dtype=dtype)
    with pytest.raises(TypeError, match="dtype"):
        MLP([4, 3, 2], dtype=dtype)


@pytest.mark.parametrize("make, name", [
    (lambda: SGD({"W": np.zeros(2)}, lr=float("nan")), "lr"),
    (lambda: SGD({"W": np.zeros(2)}, lr=-1), "lr"),
    (lambda: SGD({"W": np.zeros(2)}, lr=None), "lr"),
    (lambda: ContrastiveDivergence(BernoulliRBM(4, 2), weight_decay=-1), "weight_decay"),
    (lambda: ContrastiveDivergence(BernoulliRBM(4, 2), sparsity_weight=float("inf")), "sparsity_weight"),
    (lambda: TiedAutoencoder(4, 2, noise="mask", noise_level=float("nan")), "noise_level"),
    (lambda: BernoulliRBM(4, 2, init_scale=-0.1), "init_scale"),
    (lambda: MLP([4, 3, 2], weight_decay=float("nan")), "weight_decay"),
])
def test_bad_hyper_parameters_are_refused_by_name(make, name):
    with pytest.raises((TypeError, ValueError), match=name):
        make()


def test_fine_tune_refuses_bad_rate_decay_and_patience():
    from pretrainlab.pretrain import fine_tune

    mlp, x, y = MLP([4, 3, 2], rng=0), np.zeros((4, 4)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="lr_decay"):
        fine_tune(mlp, x, y, x, y, lr_decay=float("nan"))
    with pytest.raises(ValueError, match="patience"):
        fine_tune(mlp, x, y, x, y, patience=0)


def test_ais_refuses_a_schedule_with_nan():
    with pytest.raises(ValueError, match="betas must be finite"):
        ais_log_partition(BernoulliRBM(4, 2), n_runs=2, betas=[0.0, np.nan, 1.0])


def test_malformed_mnist_archives_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    base = {f"x_{s}": rng.integers(0, 256, (5, 784)).astype(np.uint8) for s in ("train", "valid", "test")}
    base.update({f"y_{s}": rng.integers(0, 10, 5) for s in ("train", "valid", "test")})
    cases = {"shape": dict(x_train=base["x_train"].reshape(5, 28, 28)), "pixels": dict(x_valid=base["x_valid"] * 2.0),
             "nan": dict(x_test=np.full((5, 784), np.nan)), "labels": dict(y_train=np.full(5, 10)),
             "short": dict(y_test=np.zeros(4, int)), "columns": dict(x_train=np.zeros((5, 783)))}
    np.savez(tmp_path / "ok.npz", **base)
    assert load_mnist(tmp_path / "ok.npz").x_train.shape == (5, 784)
    for name, change in cases.items():
        arrays = dict(base, **change)
        if name == "pixels":
            arrays["x_valid"][0, 0] = 300
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(ValueError, match="path"):
            load_mnist(tmp_path / f"{name}.npz")


def test_crashes_became_clear_errors():
    rbm = BernoulliRBM(9, 4)
    with pytest.raises(ValueError, match="at least one row"):
        Trainer(rbm, SGD(rbm.params), step=ContrastiveDivergence(rbm), verbose=False).fit(np.zeros((0, 9)))
    assert load_mnist(dtype="float32", n_train=3, n_valid=3, n_test=3).x_train.dtype == np.float32
    ae, x = TiedAutoencoder(4, 3, rng=0), np.random.default_rng(0).random((3, 4))
    with pytest.raises(ValueError, match="eps"):
        check_gradients(ae, x, eps=0)
    with pytest.raises(ValueError, match="max_entries"):
        check_gradients(ae, x, max_entries=0)
    with pytest.raises(TypeError, match="model"):
        check_gradients(object(), x)
    with pytest.raises(TypeError, match="rbm"):
        exact_log_partition(ae)
    with pytest.raises(ValueError, match="images"):
        plot_images(np.zeros((0, 784)))


def test_messages_name_the_right_argument():
    rbm = BernoulliRBM(9, 4)
    with pytest.raises(ValueError, match="v_valid"):
        rbm.free_energy_gap(np.zeros((2, 9)), np.zeros((2, 8)))
    with pytest.raises(ValueError, match="n_steps"):
        rbm.sample(2, n_steps=-1)
    from pretrainlab.pretrain import to_mlp
    with pytest.raises(ValueError, match="n_classes"):
        to_mlp([rbm], n_classes=1)
    with pytest.raises(ValueError, match="x must be a rectangular"):
        MLP([3, 2, 2]).predict([[1, 2, 3], [1, 2]])
    with pytest.raises(TypeError, match="lr"):
        SGD(rbm.params, lr=None)
