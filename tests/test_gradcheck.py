"""The gradient checker itself: it passes correct gradients, catches wrong ones, and the CLI reports both."""
import json

import numpy as np
import pytest

from pretrainlab import TiedAutoencoder, gradcheck
from pretrainlab.runner import cli, gradcheck_table
from pretrainlab.gradcheck import check_gradients, numerical_gradient, rel_error


class Quadratic:
    """L(θ) = ½ θᵀAθ + bᵀθ·mean(x), with a switch that breaks its gradient."""

    def __init__(self, broken=False, dtype=np.float64):
        rng = np.random.default_rng(0)
        M = rng.normal(size=(4, 4))
        self.A, self.b, self.broken = M @ M.T, rng.normal(size=4), broken
        self.params = {"theta": rng.normal(size=4).astype(dtype)}
        self.rng = np.random.default_rng(1)

    def astype(self, dtype):
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        return self

    def loss_and_grads(self, x, y=None):
        t = self.params["theta"]
        scale = x.mean()
        grad = self.A @ t + self.b * scale
        if self.broken:
            grad = grad.copy()
            grad[2] *= 1.01  # a 1 % error in one entry
        return float(0.5 * t @ self.A @ t + self.b @ t * scale), {"theta": grad}


def test_rel_error():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([0.0], [0.0]) == 0.0
    assert rel_error([1.0, 0.0], [1.1, 0.0]) == pytest.approx(0.1 / 2.1)


def test_numerical_gradient_restores_the_array():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    g = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)


def test_check_passes_correct_and_catches_broken_gradients():
    x = np.ones((2, 3))
    assert check_gradients(Quadratic(), x)["theta"] < 1e-9
    assert check_gradients(Quadratic(broken=True), x)["theta"] > 1e-4


def test_float32_models_are_checked_in_float64_without_being_changed():
    model = Quadratic(dtype=np.float32)
    errors = check_gradients(model, np.ones((2, 3)))
    assert errors["theta"] < 1e-9  # float32 differences would give ~1e-3
    assert model.params["theta"].dtype == np.float32


class CountingAutoencoder(TiedAutoencoder):
    calls = 0

    def loss_and_grads(self, x, y=None):
        CountingAutoencoder.calls += 1
        return super().loss_and_grads(x, y)


def test_large_parameters_are_sampled():
    model = CountingAutoencoder(60, 40, rng=0, noise="mask", noise_level=0.2)
    errors = check_gradients(model, np.random.default_rng(0).uniform(size=(5, 60)), max_entries=25)
    assert max(errors.values()) < 1e-6
    # W (2400 entries) sampled at 25, b_vis (60) at 25, b_hid (40) at 25 → 1 + 2·75 evaluations
    assert CountingAutoencoder.calls == 1 + 2 * 75


def test_table_covers_every_model_and_option_and_all_pass():
    rows = gradcheck_table.run_gradcheck_table()
    models = {r["model"] for r in rows}
    assert models == {"TiedAutoencoder", "Autoencoder", "MLP", "DrSAE"}
    options = {r["option"] for r in rows}
    for needed in ("mask noise 0.3", "gaussian noise 0.2", "kl sparsity", "l1 sparsity", "weight decay",
                   "frozen biases", "relu/sigmoid, cross_entropy", "linear/linear, squared_error",
                   "T=11, unsupervised", "T=11, discriminative"):
        assert needed in options
    assert all(r["passed"] for r in rows), [r for r in rows if not r["passed"]]
    text = gradcheck_table.format_table(rows)
    assert f"{len(rows)}/{len(rows)} passed" in text


def test_cli_gradcheck_exit_status_and_json(capsys, monkeypatch):
    assert cli.main(["gradcheck", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(set(r) == {"model", "option", "parameter", "rel_error", "passed"} for r in rows)
    failing = [{"model": "M", "option": "o", "parameter": "W", "rel_error": 0.5, "passed": False}]
    monkeypatch.setattr(gradcheck_table, "run_gradcheck_table", lambda seed=0: failing)
    assert cli.main(["gradcheck"]) == 1
    assert "FAIL" in capsys.readouterr().out
