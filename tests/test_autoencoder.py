"""Tied and untied autoencoders: gradients for every option, noise, frozen biases, checkpoints, bad input."""
import numpy as np
import pytest

from pretrainlab import Autoencoder, TiedAutoencoder, load_model, save_model
from pretrainlab.gradcheck import TOLERANCE, check_gradients

N_VIS, N_HID = 7, 5

OPTIONS = [
    {"encoder": enc, "decoder": dec, "loss": loss}
    for enc in ("sigmoid", "tanh", "relu", "linear")
    for dec, loss in (("sigmoid", "cross_entropy"), ("sigmoid", "squared_error"), ("linear", "squared_error"))
] + [
    {"noise": "mask", "noise_level": 0.3},
    {"noise": "gaussian", "noise_level": 0.2},
    {"sparsity": "kl", "sparsity_target": 0.1, "sparsity_weight": 0.5},
    {"sparsity": "l1", "sparsity_weight": 0.3, "encoder": "relu"},
    {"weight_decay": 0.1},
    {"train_biases": False},
    {"noise": "mask", "noise_level": 0.3, "sparsity": "kl", "sparsity_weight": 0.5, "weight_decay": 0.1},
]


def _problem(cls, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    model = cls(N_VIS, N_HID, rng=seed, init="glorot", **kwargs)
    for name in ("b_vis", "b_hid"):
        if name in model.params:  # random biases keep ReLU pre-activations off the kink at 0
            model.params[name][...] = rng.normal(0, 0.5, model.params[name].shape)
    return model, rng.uniform(0.05, 0.95, (6, N_VIS))


@pytest.mark.parametrize("cls", [TiedAutoencoder, Autoencoder])
@pytest.mark.parametrize("kwargs", OPTIONS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_gradients_match_finite_differences(cls, kwargs):
    model, x = _problem(cls, **kwargs)
    errors = check_gradients(model, x)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOLERANCE, errors


def test_tied_gradient_needs_both_encoder_and_decoder_terms(monkeypatch):
    """Dropping the decoder's contribution to dL/dW (the classic bug) is caught by the checker."""
    from pretrainlab import autoencoder as module

    model, x = _problem(TiedAutoencoder)
    assert check_gradients(model, x)["W"] <= TOLERANCE
    real = module.affine_transpose_backward
    monkeypatch.setattr(module, "affine_transpose_backward",
                        lambda dout, cache, need_dx=True: (lambda r: (r[0], 0 * r[1], r[2]))(real(dout, cache)))
    assert check_gradients(model, x)["W"] > 1e-3


def test_params_and_shapes():
    tied = TiedAutoencoder(N_VIS, N_HID, rng=0)
    assert set(tied.params) == {"W", "b_vis", "b_hid"}
    assert tied.W.shape == (N_VIS, N_HID) and tied.W_dec is tied.W
    untied = Autoencoder(N_VIS, N_HID, rng=0)
    assert set(untied.params) == {"W", "W_dec", "b_vis", "b_hid"}
    assert untied.W_dec.shape == (N_VIS, N_HID) and not np.shares_memory(untied.W, untied.W_dec)
    x = np.random.default_rng(1).uniform(size=(3, N_VIS))
    assert tied.transform(x).shape == (3, N_HID) and tied.reconstruct(x).shape == (3, N_VIS)
    assert np.all((tied.reconstruct(x) > 0) & (tied.reconstruct(x) < 1))


def test_transform_is_the_encoder_equation():
    model, x = _problem(TiedAutoencoder, encoder="tanh")
    np.testing.assert_allclose(model.transform(x), np.tanh(x @ model.W + model.b_hid), rtol=1e-5)
    expected = 1 / (1 + np.exp(-(model.transform(x) @ model.W.T + model.b_vis)))
    np.testing.assert_allclose(model.reconstruct(x), expected, rtol=1e-5)


def test_frozen_biases_are_left_out_of_params_and_stay_put():
    model, x = _problem(TiedAutoencoder, train_biases=False)
    assert set(model.params) == {"W"}
    loss, grads = model.loss_and_grads(x)
    assert set(grads) == {"W"}
    np.testing.assert_array_equal(model.b_vis, 0) and np.testing.assert_array_equal(model.b_hid, 0)


def test_loss_includes_every_penalty():
    x = np.random.default_rng(0).uniform(size=(5, N_VIS))
    plain = TiedAutoencoder(N_VIS, N_HID, rng=3, dtype=np.float64)
    base = plain.loss_and_grads(x)[0]
    assert base == pytest.approx(plain.reconstruction_loss(x))
    decayed = TiedAutoencoder(N_VIS, N_HID, rng=3, weight_decay=0.1, dtype=np.float64)
    assert decayed.loss_and_grads(x)[0] == pytest.approx(base + 0.05 * np.sum(plain.W ** 2))
    sparse = TiedAutoencoder(N_VIS, N_HID, rng=3, sparsity="l1", sparsity_weight=0.2, dtype=np.float64)
    assert sparse.loss_and_grads(x)[0] == pytest.approx(base + 0.2 * plain.transform(x).sum(axis=1).mean())


def test_denoising_noise_comes_from_the_model_rng_and_target_is_clean():
    x = np.random.default_rng(0).uniform(0.1, 1, size=(50, N_VIS))
    a = TiedAutoencoder(N_VIS, N_HID, rng=5, noise="mask", noise_level=0.5)
    b = TiedAutoencoder(N_VIS, N_HID, rng=5, noise="mask", noise_level=0.5)
    xa, xb = a.corrupt(x.astype(np.float32)), b.corrupt(x.astype(np.float32))
    np.testing.assert_array_equal(xa, xb)                 # same seed → same noise
    zeroed = (xa == 0).mean()
    assert 0.35 < zeroed < 0.65                           # about half the inputs masked
    np.testing.assert_array_equal(xa[xa != 0], x.astype(np.float32)[xa != 0])
    assert not np.array_equal(a.corrupt(x.astype(np.float32)), xa)  # a fresh draw each call
    # two evaluations differ (fresh noise) and both differ from the noise-free loss
    l1, l2 = a.loss_and_grads(x)[0], a.loss_and_grads(x)[0]
    assert l1 != l2
    g = TiedAutoencoder(N_VIS, N_HID, rng=5, noise="gaussian", noise_level=0.3, dtype=np.float64)
    noise = g.corrupt(np.zeros((2000, N_VIS))).ravel()
    assert noise.std() == pytest.approx(0.3, rel=0.05)


def test_checker_does_not_advance_the_model_rng():
    model, x = _problem(TiedAutoencoder, noise="mask", noise_level=0.3)
    state = model.rng.bit_generator.state
    check_gradients(model, x)
    assert model.rng.bit_generator.state == state and model.dtype == np.float32


def test_float32_model_computes_in_float32():
    model = TiedAutoencoder(N_VIS, N_HID, rng=0, noise="gaussian", noise_level=0.1, sparsity="kl",
                            sparsity_weight=0.1, weight_decay=1e-3)
    x = np.random.default_rng(0).uniform(size=(4, N_VIS))  # float64 input is converted
    loss, grads = model.loss_and_grads(x)
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 and g.shape == model.params[k].shape for k, g in grads.items())


@pytest.mark.parametrize("cls", [TiedAutoencoder, Autoencoder])
def test_save_and_load_round_trip(cls, tmp_path):
    model = cls(N_VIS, N_HID, rng=0, encoder="relu", decoder="linear", loss="squared_error",
                noise="gaussian", noise_level=0.1, train_biases=False)
    save_model(model, tmp_path / "ae.npz")
    loaded = load_model(tmp_path / "ae.npz")
    assert type(loaded) is cls and loaded.config() == model.config()
    for k in model.params:
        np.testing.assert_array_equal(loaded.params[k], model.params[k])


def test_bad_input_names_the_argument():
    model = TiedAutoencoder(N_VIS, N_HID, rng=0)
    with pytest.raises(ValueError, match=f"x must have {N_VIS} columns, got {N_VIS - 1}"):
        model.loss_and_grads(np.zeros((2, N_VIS - 1)))
    x = np.full((2, N_VIS), 0.5)
    x[1, 3] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        model.loss_and_grads(x)
    with pytest.raises(ValueError, match=r"x must have values in \[0.0, 1.0\]"):
        model.transform(np.full((2, N_VIS), 2.0))  # cross-entropy needs [0, 1] data
    TiedAutoencoder(N_VIS, N_HID, loss="squared_error", decoder="linear").transform(np.full((2, N_VIS), 2.0))


@pytest.mark.parametrize("kwargs, name", [
    ({"encoder": "softmax"}, "encoder"),
    ({"decoder": "relu"}, "decoder"),
    ({"loss": "hinge"}, "loss"),
    ({"loss": "cross_entropy", "decoder": "linear"}, "decoder"),
    ({"noise": "salt"}, "noise"),
    ({"noise": "mask", "noise_level": 1.0}, "noise_level"),
    ({"sparsity": "kl", "encoder": "relu"}, "encoder"),
    ({"sparsity_target": 1.5}, "sparsity_target"),
    ({"weight_decay": -1.0}, "weight_decay"),
    ({"init": "zeros"}, "init"),
])
def test_bad_options_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TiedAutoencoder(N_VIS, N_HID, **kwargs)


@pytest.mark.slow
def test_autoencoder_filters_experiment_quick(tmp_path):
    from pretrainlab.runner.experiments import get_experiment

    results = get_experiment("autoencoder-filters")(mode="quick", out=tmp_path, verbose=False)
    for name in ("filters.png", "filters_no_noise.png", "reconstructions.png", "learning_curves.png",
                 "results.json", "model.npz"):
        assert (tmp_path / name).is_file(), name
    for run in results["runs"].values():
        curve = run["history"]["recon_valid"]
        assert curve[-1] < curve[0]  # the validation reconstruction error falls
