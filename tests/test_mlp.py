"""MLP: gradients for every activation/init/penalty, predictions, learning a separable problem, bad input."""
import numpy as np
import pytest

from pretrainlab import MLP, SGD, Trainer, load_model, save_model
from pretrainlab.gradcheck import TOLERANCE, check_gradients

OPTIONS = [
    {"activation": "sigmoid"},
    {"activation": "tanh"},
    {"activation": "relu", "init": "he"},
    {"activation": "sigmoid", "init": "glorot", "weight_decay": 0.1},
    {"activation": ("relu", "tanh", "sigmoid"), "init": "glorot", "layer_sizes": (6, 5, 4, 4, 3)},
    {"layer_sizes": (6, 3)},
]


@pytest.mark.parametrize("kwargs", OPTIONS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_gradients_match_finite_differences(kwargs):
    kwargs = dict(kwargs)
    model = MLP(kwargs.pop("layer_sizes", (6, 5, 3)), rng=0, **kwargs)
    rng = np.random.default_rng(1)
    for l in range(1, model.n_layers + 1):  # random biases keep ReLU pre-activations off the kink
        model.params[f"b{l}"][...] = rng.normal(0, 0.5, model.params[f"b{l}"].shape)
    x, y = rng.normal(size=(7, 6)), rng.integers(0, 3, 7)
    errors = check_gradients(model, x, y)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOLERANCE, errors


def test_params_shapes_and_init():
    model = MLP([784, 500, 10], rng=0)
    assert list(model.params) == ["W1", "b1", "W2", "b2"]
    assert model.params["W1"].shape == (784, 500) and model.params["b2"].shape == (10,)
    assert model.params["W1"].dtype == np.float32
    r = 4 * np.sqrt(6 / 1284)  # Theano tutorials: ×4 for sigmoid layers
    assert r * 0.99 < np.abs(model.params["W1"]).max() <= r
    assert np.abs(model.params["W2"]).max() <= np.sqrt(6 / 510)  # softmax layer: no ×4


def test_float32_model_computes_in_float32():
    model = MLP([5, 4, 3], rng=0, activation="relu", weight_decay=1e-3)
    rng = np.random.default_rng(0)
    loss, grads = model.loss_and_grads(rng.normal(size=(6, 5)), rng.integers(0, 3, 6))  # float64 x is converted
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 and g.shape == model.params[k].shape for k, g in grads.items())


def test_predictions_are_consistent():
    rng = np.random.default_rng(0)
    model = MLP([5, 4, 3], rng=0, activation="tanh")
    x = rng.normal(size=(8, 5))
    p = model.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x), p.argmax(axis=1))
    y = model.predict(x)
    assert model.score(x, y) == 1.0
    assert model.score(x, (y + 1) % 3) == 0.0
    h = model.hidden_activations(x)
    assert len(h) == 1 and h[0].shape == (8, 4)
    np.testing.assert_allclose(h[0], np.tanh(x @ model.params["W1"] + model.params["b1"]), rtol=1e-5)


def test_learns_a_separable_problem_with_the_trainer():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, size=(3, 4))
    y = rng.integers(0, 3, 300)
    x = centers[y] + rng.normal(size=(300, 4))
    model = MLP([4, 16, 3], rng=0, activation="relu", init="he")
    before = model.score(x, y)
    Trainer(model, SGD(model.params, lr=0.1, momentum=0.9), batch_size=30, rng=0, verbose=False).fit(x, y, epochs=20)
    assert model.score(x, y) > max(0.95, before)


def test_weight_decay_is_in_the_loss():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 5)), rng.integers(0, 3, 4)
    plain = MLP([5, 4, 3], rng=0, dtype=np.float64)
    decayed = MLP([5, 4, 3], rng=0, weight_decay=0.01, dtype=np.float64)
    penalty = 0.005 * sum(np.sum(plain.params[k] ** 2) for k in ("W1", "W2"))
    assert decayed.loss_and_grads(x, y)[0] == pytest.approx(plain.loss_and_grads(x, y)[0] + penalty)


def test_save_and_load_round_trip(tmp_path):
    model = MLP([5, 4, 4, 3], rng=0, activation=["relu", "tanh"], init="he", weight_decay=1e-3)
    save_model(model, tmp_path / "mlp.npz")
    loaded = load_model(tmp_path / "mlp.npz")
    x = np.random.default_rng(0).normal(size=(3, 5))
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_bad_input_names_the_argument():
    model = MLP([5, 4, 3], rng=0)
    x, y = np.zeros((4, 5)), np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match="x must have 5 columns, got 6"):
        model.loss_and_grads(np.zeros((4, 6)), y)
    with pytest.raises(ValueError, match=r"y must be in 0\.\.2"):
        model.loss_and_grads(x, np.array([0, 1, 3, 1]))
    with pytest.raises(ValueError, match=r"y must be in 0\.\.2"):
        model.score(x, np.array([0, -1, 2, 1]))
    with pytest.raises(ValueError, match="y must have 4 entries"):
        model.loss_and_grads(x, y[:3])
    with pytest.raises(ValueError, match="y is required"):
        model.loss_and_grads(x)
    x_nan = x.copy()
    x_nan[2, 1] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        model.predict(x_nan)


@pytest.mark.parametrize("kwargs, name", [
    ({"layer_sizes": [5]}, "layer_sizes"),
    ({"layer_sizes": [5, 0, 3]}, "layer_sizes"),
    ({"layer_sizes": [5, 4, 3], "activation": "softplus"}, "activation"),
    ({"layer_sizes": [5, 4, 3], "activation": ["relu", "tanh"]}, "activation"),
    ({"layer_sizes": [5, 4, 3], "init": "ones"}, "init"),
    ({"layer_sizes": [5, 4, 3], "weight_decay": -0.1}, "weight_decay"),
])
def test_bad_options_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MLP(rng=0, **kwargs)


@pytest.mark.slow
def test_mlp_baseline_experiment_quick(tmp_path):
    from pretrainlab.runner.experiments import get_experiment

    results = get_experiment("mlp-baseline")(mode="quick", out=tmp_path, verbose=False)
    assert (tmp_path / "learning_curves.png").is_file() and (tmp_path / "results.json").is_file()
    assert results["test_error"] < 0.2  # 5000 images, 5 epochs: far better than chance (0.9)


def test_dropout_masks_scale_kept_units_and_the_gradient_checks_with_fixed_masks():
    """Inverted dropout: E[mask] = 1, prediction unchanged, backward through the same masks (rng rewound)."""
    mlp = MLP([6, 5, 4, 3], rng=0, dropout_input=0.2, dropout_hidden=0.5, dtype=np.float64)
    x, y = np.random.default_rng(1).random((7, 6)), np.array([0, 1, 2, 0, 1, 2, 0])
    errors = check_gradients(mlp, x, y)
    assert max(errors.values()) <= TOLERANCE, errors
    m = mlp._dropout_mask((20000,), 0.5)
    assert set(np.unique(m)) == {0.0, 2.0} and abs(m.mean() - 1) < 0.03
    plain = MLP([6, 5, 4, 3], rng=0, dtype=np.float64)
    np.testing.assert_array_equal(mlp.predict_proba(x), plain.predict_proba(x))  # no dropout at prediction
    a, b = mlp.loss_and_grads(x, y)[0], mlp.loss_and_grads(x, y)[0]
    assert a != b  # fresh masks each training step


def test_dropout_mask_is_the_kept_uniforms_scaled():
    # m = [u ≥ p] / (1 − p) from the model's generator: the masks (and so a seeded run) are those of the
    # formula, whatever buffers the code reuses
    import copy
    for dtype, p in ((np.float32, 0.2), (np.float32, 0.5), (np.float64, 0.3)):
        mlp = MLP([6, 5, 3], rng=3, dropout_input=p, dtype=dtype)
        twin = copy.deepcopy(mlp.rng)
        m = mlp._dropout_mask((40, 7), p)
        expected = (twin.random((40, 7), dtype=dtype) >= p).astype(dtype) / np.dtype(dtype).type(1.0 - p)
        assert m.dtype == dtype
        np.testing.assert_array_equal(m, expected)


def test_max_norm_scales_only_the_units_outside_the_ball():
    mlp = MLP([6, 5, 3], rng=0, max_norm=1.0, init="glorot")
    W = mlp.params["W1"]
    W[:, :2] *= 10 / np.linalg.norm(W[:, :2], axis=0)  # two units outside the ball, three inside
    W[:, 2:] *= 0.5 / np.linalg.norm(W[:, 2:], axis=0)
    before = W.copy()
    mlp.project_max_norm()
    np.testing.assert_array_equal(W[:, 2:], before[:, 2:])  # inside: not touched, bit for bit
    np.testing.assert_allclose(np.linalg.norm(W[:, :2], axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(W[:, :2], before[:, :2] / 10, rtol=1e-6)  # outside: scaled back onto the sphere
    mlp.params["W2"] *= 0.1 / np.linalg.norm(mlp.params["W2"], axis=0)
    W2 = mlp.params["W2"].copy()
    mlp.project_max_norm()
    np.testing.assert_array_equal(mlp.params["W2"], W2)  # every unit inside: nothing written


def test_max_norm_bounds_every_units_incoming_weights():
    mlp = MLP([6, 5, 3], rng=0, max_norm=0.5, init="glorot")
    mlp.params["W1"] *= 10
    mlp.project_max_norm()
    for l in (1, 2):
        assert np.linalg.norm(mlp.params[f"W{l}"], axis=0).max() <= 0.5 + 1e-6
    with pytest.raises(ValueError, match="dropout_hidden"):
        MLP([6, 5, 3], dropout_hidden=1.0)
