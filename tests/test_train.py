"""The trainer: optimiser arithmetic, divergence handling, checkpoints and resume, early stopping."""
import json

import numpy as np
import pytest

from pretrainlab import SGD, BernoulliRBM, ContrastiveDivergence, EarlyStopping, Trainer, TrainingDiverged
from pretrainlab import load_model, save_model
from pretrainlab.checkpoint import generator_entry, read_npz, remove_stale_temporaries, restore_generator
from pretrainlab.data import bars_and_stripes
from pretrainlab.optim import exponential_decay, step_change


class Quadratic:
    """loss = ½‖θ − target‖² per sample: a model whose gradient is known, for testing the loop itself."""

    def __init__(self, dim=3, target=1.0):
        self.params = {"W": np.zeros((dim, 1)), "b": np.zeros(1)}
        self.target = target

    def config(self):
        return {"dim": len(self.params["W"]), "target": self.target}

    def loss_and_grads(self, x, y=None):
        diff = {k: v - self.target for k, v in self.params.items()}
        return 0.5 * sum(float((d ** 2).sum()) for d in diff.values()), diff


def test_sgd_momentum_arithmetic():
    params = {"W": np.ones((2, 2)), "b": np.ones(2)}
    opt = SGD(params, lr=0.1, momentum=0.5)
    grads = {"W": np.ones((2, 2)), "b": np.ones(2)}
    opt.step(grads)
    np.testing.assert_allclose(params["W"], 1 - 0.1)
    opt.step(grads)
    np.testing.assert_allclose(params["b"], 0.9 - 0.1 - 0.5 * 0.1)


def test_weight_decay_is_a_penalty_term_on_matrices_only():
    from pretrainlab.penalties import WeightDecay

    params = {"W": np.full((2, 2), 2.0), "b": np.ones(2)}
    value, grads = WeightDecay(0.1)(params)
    assert value == pytest.approx(0.5 * 0.1 * 16) and set(grads) == {"W"}  # never on biases
    np.testing.assert_allclose(grads["W"], 0.2)
    data = bars_and_stripes(3)
    rbm2 = BernoulliRBM(9, 4, rng=0)
    decayed = ContrastiveDivergence(rbm2, k=1, weight_decay=0.1)(data)[1]
    rbm3 = BernoulliRBM(9, 4, rng=0)
    plain = ContrastiveDivergence(rbm3, k=1)(data)[1]
    np.testing.assert_allclose(decayed["W"] - plain["W"], 0.1 * rbm2.W, atol=1e-7)
    np.testing.assert_array_equal(decayed["b_hid"], plain["b_hid"])


def test_trainer_minimises_and_records_history():
    model = Quadratic()
    history = Trainer(model, SGD(model.params, lr=0.2), batch_size=4, verbose=False).fit(np.zeros((8, 1)), epochs=10)
    assert len(history) == 10 and history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(model.params["W"], 1 - 0.8 ** 20)  # 20 steps, each shrinking the error by 1 − lr


def test_rates_given_as_schedules_follow_the_epoch():
    model = Quadratic()
    opt = SGD(model.params, lr=exponential_decay(0.1, 0.5), momentum=step_change(0.0, 0.9, 2))
    trainer = Trainer(model, opt, batch_size=8, verbose=False)
    history = trainer.fit(np.zeros((8, 1)), epochs=3)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025]) and opt.momentum == 0.9
    with pytest.raises(ValueError, match="momentum"):
        SGD(model.params, lr=0.1, momentum=lambda epoch: 1.5)
    with pytest.raises(ValueError, match="lr"):
        SGD(model.params, lr=float("nan"))


class Exploding(Quadratic):
    """Its loss becomes NaN at the 5th call: the trainer must stop and restore the epoch's start."""

    calls = 0

    def loss_and_grads(self, x, y=None):
        self.calls += 1
        loss, grads = super().loss_and_grads(x)
        return (float("nan") if self.calls == 5 else loss), grads


def test_divergence_stops_with_message_and_keeps_last_good_parameters(tmp_path):
    model = Exploding()
    trainer = Trainer(model, SGD(model.params, lr=0.1), batch_size=1, checkpoint=tmp_path / "ck.npz", verbose=False)
    with pytest.raises(TrainingDiverged, match="diverged in epoch 3"):
        trainer.fit(np.zeros((2, 1)), epochs=5)  # 2 steps per epoch: the 5th call is in epoch 3
    after_two_epochs = read_npz(tmp_path / "ck.npz")
    for k in model.params:
        assert np.all(np.isfinite(model.params[k]))
        np.testing.assert_array_equal(model.params[k], after_two_epochs[f"param/{k}"])


def test_checkpoint_resume_reproduces_an_uninterrupted_run(tmp_path):
    data = bars_and_stripes(3)

    def make(seed=0):
        rbm = BernoulliRBM(9, 4, rng=seed)
        trainer = Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=ContrastiveDivergence(rbm, k=1),
                          batch_size=5, rng=seed, checkpoint=tmp_path / f"run{seed}.npz", verbose=False)
        return rbm, trainer

    rbm_a, trainer_a = make()
    trainer_a.fit(data, epochs=6)
    rbm_b, trainer_b = make()
    trainer_b.checkpoint = tmp_path / "interrupted.npz"
    trainer_b.fit(data, epochs=3)
    rbm_c, trainer_c = make(seed=0)  # a fresh process would rebuild the objects, then resume
    trainer_c.checkpoint = tmp_path / "interrupted.npz"
    history = trainer_c.fit(data, epochs=6, resume=True)
    assert len(history) == 6
    np.testing.assert_array_equal(rbm_c.W, rbm_a.W)


def test_save_and_load_model_round_trip(tmp_path):
    rbm = BernoulliRBM(5, 3, rng=1)
    save_model(rbm, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert type(loaded) is BernoulliRBM and loaded.W.dtype == rbm.W.dtype
    for k in rbm.params:
        np.testing.assert_array_equal(loaded.params[k], rbm.params[k])


def test_a_generator_state_stored_in_a_model_file_is_restored_exactly(tmp_path):
    rbm, rng = BernoulliRBM(5, 3, rng=1), np.random.default_rng(7)
    rng.random(10)
    save_model(rbm, tmp_path / "m.npz", generator_entry(rng))
    expected = rng.random(5)
    other = np.random.default_rng(0)
    assert restore_generator(tmp_path / "m.npz", other)
    np.testing.assert_array_equal(other.random(5), expected)
    # a file without the entry, or with a state of another kind of generator: False, the generator untouched
    save_model(rbm, tmp_path / "plain.npz")
    mt = {"__rng__": np.array(json.dumps({"bit_generator": "MT19937", "state": {"key": [1] * 624, "pos": 0}}))}
    save_model(rbm, tmp_path / "mt.npz", mt)
    for name in ("plain.npz", "mt.npz"):
        before = other.bit_generator.state
        assert not restore_generator(tmp_path / name, other)
        assert other.bit_generator.state == before


def test_a_write_removes_only_its_own_stale_temporaries(tmp_path):
    """Processes of a parallel sweep write different files into one folder: saving a.npz deletes what a killed
    write of a.npz left, never another file's temporary that may be in the middle of being written."""
    own, other, longer = (tmp_path / f"{name}.abc123_x.npz.tmp" for name in ("a.npz", "b.npz", "a.npz.b.npz"))
    for tmp in (own, other, longer):
        tmp.write_bytes(b"half")
    save_model(BernoulliRBM(3, 2, rng=0), tmp_path / "a.npz")
    assert not own.exists() and other.exists() and longer.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.npz", other.name, longer.name])
    remove_stale_temporaries(tmp_path)  # a run folder being opened: nobody else writes there, all go
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


def test_unreadable_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip file")
    with pytest.raises(ValueError, match="cannot read .* as an .npz archive"):
        load_model(bad)
    with pytest.raises(ValueError, match="no checkpoint"):
        load_model(tmp_path / "missing.npz")


def test_early_stopping_waits_for_min_epochs_then_restores_the_best():
    """A plateau (no improvement after epoch 1) stops a run after ``patience`` epochs — unless ``min_epochs``
    says to keep going; the best epoch is restored either way, and a bad min_epochs is refused."""
    values = [0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.7, 0.8, 0.9]

    def run(**kw):
        model, it = Quadratic(), iter(values)
        trainer = Trainer(model, SGD(model.params, lr=0.1), batch_size=8, monitors={"valid_error": lambda m: next(it)},
                          early_stopping=EarlyStopping("valid_error", patience=2, **kw), verbose=False)
        history = trainer.fit(np.zeros((8, 1)), epochs=len(values))
        return len(history), trainer.early_stopping.best_epoch

    assert run() == (3, 1)
    assert run(min_epochs=4) == (4, 1)  # may stop at epoch 4, which is 3 past the best
    assert run(min_epochs=5) == (7, 5)  # goes past the plateau, then stops 2 epochs after the best (epoch 5)
    with pytest.raises(ValueError, match="min_epochs"):
        EarlyStopping(min_epochs=-1)


def test_early_stopping_restores_best_parameters():
    model = Quadratic()
    values = iter([3.0, 1.0, 2.0, 2.5, 4.0, 5.0, 6.0])
    snapshot = {}

    def monitor(m):
        value = next(values)
        if value == 1.0:
            snapshot.update({k: v.copy() for k, v in m.params.items()})
        return value

    trainer = Trainer(model, SGD(model.params, lr=0.1), batch_size=8, monitors={"valid_error": monitor},
                      early_stopping=EarlyStopping("valid_error", patience=2), verbose=False)
    history = trainer.fit(np.zeros((8, 1)), epochs=7)
    assert len(history) == 4  # best at epoch 2, two more epochs without improvement
    for k in model.params:
        np.testing.assert_array_equal(model.params[k], snapshot[k])
