"""DrSAE (Rolfe & LeCun 2013): gradients through time, ISTA correspondence, norm bounds, unit analysis, bad input."""
import json

import numpy as np
import pytest

from pretrainlab.studies.drsae import model as module
from pretrainlab.studies.drsae import steps as drsae_steps
from pretrainlab.studies.drsae.model import (DrSAE, drsae_step_backward, drsae_step_forward, normalize_backward,
                               normalize_forward, normalize_rows)
from pretrainlab.gradcheck import TOLERANCE, check_gradients, numerical_gradient_array, rel_error

N_VIS, N_HID, N_CLS, T = 6, 5, 3, 4
MARGIN = 1e-3  # no pre-activation within this distance of the ReLU kink (the FD step is 1e-5)


def _pre_activations(model, x):
    """a^t = x Eᵀ + z^{t−1} Sᵀ − b for t = 1..T, recomputed from the iterates: (T, n, n_hidden)."""
    zs = model.encode(x, return_all=True)
    return np.stack([x @ model.E.T + zs[t] @ model.S.T - model.b for t in range(model.n_steps)])


def _problem(seed=0, n=5, n_steps=T):
    """A float64 DrSAE with random parameters and a batch whose pre-activations all keep clear of 0.

    Random draws are rejected until every |a^t| ≥ MARGIN and the batch has both active and inactive units at the
    last step (so the masks matter) and no all-zero code (so z/‖z‖ is the real normalisation, not the ε guard).
    """
    rng = np.random.default_rng(seed)
    for _ in range(200):
        model = DrSAE(N_VIS, N_HID, N_CLS, n_steps=n_steps, rng=rng.integers(2**31), dtype=np.float64)
        P = model.params
        P["E"][...] = rng.normal(0, 0.6, P["E"].shape)
        P["S"][...] = 0.5 * np.eye(N_HID) + rng.normal(0, 0.25, P["S"].shape)  # bounded iterates
        P["b"][...] = rng.normal(0, 0.2, P["b"].shape)
        P["D"][...] = rng.normal(0, 0.5, P["D"].shape)
        P["C"][...] = rng.normal(0, 1.0, P["C"].shape)
        P["c"][...] = rng.normal(0, 0.5, P["c"].shape)
        x = normalize_rows(rng.normal(0, 1, (n, N_VIS)))
        a = _pre_activations(model, x)
        z = model.encode(x)
        if np.abs(a).min() >= MARGIN and (z > 0).any() and (z == 0).any() and (z > 0).any(axis=1).all():
            return model, x, rng.integers(0, N_CLS, n)
    raise AssertionError("no random draw kept the pre-activations off the kink")


# ---------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("seed,n_steps", [(0, T), (1, T), (2, T), (3, 11), (4, 1)])  # 11: the paper's depth
@pytest.mark.parametrize("phase", ["unsupervised", "discriminative"])
def test_gradients_match_finite_differences(seed, n_steps, phase):
    model, x, y = _problem(seed, n_steps=n_steps)
    errors = check_gradients(model, x, y if phase == "discriminative" else None)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOLERANCE, errors


def test_float32_model_is_checked_in_float64_and_unchanged():
    model, x, y = _problem(3)
    model.astype(np.float32)
    before = {k: v.copy() for k, v in model.params.items()}
    errors = check_gradients(model, x, y)
    assert max(errors.values()) <= TOLERANCE, errors
    assert all(model.params[k].dtype == np.float32 and np.array_equal(model.params[k], before[k]) for k in before)


def test_truncated_backpropagation_through_time_is_caught(monkeypatch):
    """Stopping the error at each step (δ^{t−1} = 0, as some re-implementations do) gives wrong E, S, b gradients."""
    model, x, y = _problem(0)
    real = drsae_steps.drsae_step_backward
    monkeypatch.setattr(drsae_steps, "drsae_step_backward",
                        lambda dz, cache: (lambda r: (0 * r[0], r[1], r[2], r[3]))(real(dz, cache)))
    errors = check_gradients(model, x, y)
    assert min(errors["E"], errors["S"], errors["b"]) > 1e-3, errors
    assert errors["D"] <= TOLERANCE  # D sits after the recurrence: unaffected


def test_dropping_the_normalisation_jacobian_is_caught(monkeypatch):
    """Treating z/‖z‖ as a constant rescaling (dz = dẑ/r, without −ẑ(ẑ·dẑ)/r) breaks the encoder's gradients."""
    model, x, y = _problem(0)
    monkeypatch.setattr(module, "normalize_backward", lambda dz_hat, cache: dz_hat / cache[1])
    errors = check_gradients(model, x, y)
    assert errors["E"] > 1e-3, errors
    assert errors["C"] <= TOLERANCE and errors["D"] <= TOLERANCE  # the classifier's own gradient is unaffected


def test_step_pair_matches_numerical_gradient():
    rng = np.random.default_rng(0)
    n, k = 4, 5
    for _ in range(100):
        x_proj, z_prev = rng.normal(0, 1, (n, k)), np.abs(rng.normal(0, 1, (n, k)))
        S, b = rng.normal(0, 0.5, (k, k)), rng.normal(0, 0.3, k)
        a = x_proj + z_prev @ S.T - b
        if np.abs(a).min() >= MARGIN and (a > 0).any() and (a < 0).any():
            break
    dz = rng.normal(0, 1, (n, k))
    z, cache = drsae_step_forward(x_proj, z_prev, S, b)
    np.testing.assert_allclose(z, np.maximum(a, 0), rtol=1e-12)
    assert np.array_equal(cache[2], a > 0)  # the ReLU mask is kept
    dz_prev, dS, db, dx_proj = drsae_step_backward(dz, cache)
    numeric = {
        "z_prev": numerical_gradient_array(lambda v: drsae_step_forward(x_proj, v, S, b)[0], z_prev.copy(), dz),
        "S": numerical_gradient_array(lambda v: drsae_step_forward(x_proj, z_prev, v, b)[0], S.copy(), dz),
        "b": numerical_gradient_array(lambda v: drsae_step_forward(x_proj, z_prev, S, v)[0], b.copy(), dz),
        "x_proj": numerical_gradient_array(lambda v: drsae_step_forward(v, z_prev, S, b)[0], x_proj.copy(), dz),
    }
    for name, analytic in (("z_prev", dz_prev), ("S", dS), ("b", db), ("x_proj", dx_proj)):
        assert analytic.shape == numeric[name].shape
        assert rel_error(analytic, numeric[name]) <= 1e-8, name


def test_normalisation_pair_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    z = np.abs(rng.normal(0, 1, (4, 6)))
    z[1, :3] = 0.0  # a sparse code
    dz_hat = rng.normal(0, 1, z.shape)
    z_hat, cache = normalize_forward(z)
    np.testing.assert_allclose(np.linalg.norm(z_hat, axis=1), 1.0, rtol=1e-7)  # ε = 1e-4 ≪ ‖z‖
    numeric = numerical_gradient_array(lambda v: normalize_forward(v)[0], z.copy(), dz_hat)
    dz = normalize_backward(dz_hat, cache)
    assert rel_error(dz, numeric) <= 1e-8
    # scaling z barely moves ẑ: z·dz = (ẑ·dẑ) ε²/r², which is 0 for ε = 0 (dz ⟂ z) and ~1e-8 here
    r = cache[1][:, 0]
    expected = np.einsum("ij,ij->i", z_hat, dz_hat) * module.NORM_EPS**2 / r**2
    np.testing.assert_allclose(np.einsum("ij,ij->i", dz, z), expected, rtol=1e-6, atol=1e-15)


def test_normalisation_of_an_all_zero_code_is_guarded():
    z_hat, cache = normalize_forward(np.zeros((2, 3)))
    assert np.array_equal(z_hat, np.zeros((2, 3)))
    dz = normalize_backward(np.ones((2, 3)), cache)
    assert np.all(np.isfinite(dz))


def test_unsupervised_phase_returns_zero_classifier_gradients():
    model, x, y = _problem(0)
    loss_u, grads_u = model.loss_and_grads(x)
    assert set(grads_u) == set(model.params)
    assert not grads_u["C"].any() and not grads_u["c"].any()
    assert all(grads_u[k].shape == v.shape for k, v in model.params.items())
    loss_s, grads_s = model.loss_and_grads(x, y)
    assert loss_s > loss_u  # w · NLL > 0 is added
    np.testing.assert_allclose(grads_s["D"], grads_u["D"])  # D only sees the reconstruction
    assert np.abs(grads_s["C"]).max() > 0
    model.classification_weight = 0.0
    assert model.loss_and_grads(x, y)[0] == pytest.approx(loss_u, rel=1e-12)


def test_loss_is_the_sparse_coding_objective_of_the_last_iterate():
    model, x, _ = _problem(0)
    z = model.encode(x)
    expected = np.mean(0.5 * np.sum((x - z @ model.D.T) ** 2, axis=1) + model.sparsity_weight * z.sum(axis=1))
    assert model.loss_and_grads(x)[0] == pytest.approx(expected, rel=1e-12)
    assert model.sparse_coding_loss(x) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(model.reconstruct(x), z @ model.D.T)


# ---------------------------------------------------------------------------------------------- ISTA
def _lasso(x, D, lam, z):
    """Per-sample F(z) = ½‖x − D z‖² + λ‖z‖₁."""
    return 0.5 * np.sum((x - z @ D.T) ** 2, axis=1) + lam * np.abs(z).sum(axis=1)


@pytest.mark.parametrize("n_visible,n_hidden", [(8, 5), (6, 10)])  # under- and overcomplete dictionaries
def test_ista_initialisation_runs_ista(n_visible, n_hidden):
    rng = np.random.default_rng(0)
    lam, n_steps = 0.1, 30
    D = rng.normal(0, 1, (n_visible, n_hidden))
    D /= np.linalg.norm(D, axis=0)
    alpha = 1.0 / np.linalg.norm(D, 2) ** 2  # 1/L: ISTA's guaranteed-descent step
    model = DrSAE(n_visible, n_hidden, 2, n_steps=n_steps, sparsity_weight=lam, rng=0, dtype=np.float64)
    model.params["D"][...] = D
    model.set_ista(alpha)
    np.testing.assert_allclose(model.E, alpha * D.T)
    np.testing.assert_allclose(model.S, np.eye(n_hidden) - alpha * D.T @ D)
    np.testing.assert_allclose(model.b, alpha * lam)

    x = normalize_rows(rng.normal(0, 1, (7, n_visible)))
    zs = model.encode(x, return_all=True)
    z = np.zeros((7, n_hidden))  # ISTA written the textbook way: gradient step on ½‖x − Dz‖², then shrink
    objective = [_lasso(x, D, lam, z)]
    for t in range(1, n_steps + 1):
        z = np.maximum(z - alpha * ((z @ D.T - x) @ D) - alpha * lam, 0.0)
        np.testing.assert_allclose(zs[t], z, rtol=1e-10, atol=1e-12)
        objective.append(_lasso(x, D, lam, z))
    objective = np.array(objective)
    assert np.all(np.diff(objective, axis=0) <= 1e-12)  # monotone descent for α ≤ 1/L
    assert np.all(objective[-1] < objective[0])
    np.testing.assert_allclose(model.sparse_coding_loss(x, zs[-1]), objective[-1].mean(), rtol=1e-12)


def test_many_ista_steps_reach_the_nonnegative_lasso_solution():
    """After enough steps the code satisfies the KKT conditions of min_{z ≥ 0} ½‖x − Dz‖² + λ Σ z:
    Dᵀ(x − Dz) = λ on the active units and ≤ λ on the inactive ones."""
    rng = np.random.default_rng(1)
    lam = 0.05
    D = rng.normal(0, 1, (8, 5))
    D /= np.linalg.norm(D, axis=0)
    model = DrSAE(8, 5, 2, n_steps=600, sparsity_weight=lam, rng=0, dtype=np.float64)
    model.params["D"][...] = D
    model.set_ista(1.0 / np.linalg.norm(D, 2) ** 2)
    x = normalize_rows(rng.normal(0, 1, (6, 8)))
    z = model.encode(x)
    corr = (x - z @ D.T) @ D
    active = z > 0
    assert active.any() and (~active).any()
    np.testing.assert_allclose(corr[active], lam, atol=1e-8)
    assert np.all(corr[~active] <= lam + 1e-8)


def test_init_ista_builds_the_dictionary_from_training_images():
    rng = np.random.default_rng(2)
    x_train = rng.uniform(0, 1, (50, N_VIS)) * (rng.uniform(size=(50, N_VIS)) < 0.5)
    x_train[:, 0] += 0.5  # no all-zero image (it has no direction to copy)
    model = DrSAE(N_VIS, N_HID, N_CLS, n_steps=11, rng=0, dtype=np.float64).init_ista(x_train, rng=3,
                                                                                       noise_norm=0.02)
    alpha = 1.25 / 11
    np.testing.assert_allclose(np.linalg.norm(model.D, axis=0), 1.0)
    np.testing.assert_allclose(model.E, alpha * model.D.T)
    np.testing.assert_allclose(model.S, np.eye(N_HID) - alpha * model.D.T @ model.D)
    np.testing.assert_allclose(model.b, 1e-5)  # the code's initial threshold
    np.testing.assert_allclose(np.linalg.norm(model.C, axis=1), 1.0)  # unit-norm classifier rows, bias 0
    np.testing.assert_array_equal(model.c, 0.0)
    # each column is close to one (normalised) training image: cosine well above random directions'
    cos = normalize_rows(x_train) @ model.D
    assert np.all(cos.max(axis=0) > 0.7)
    # without noise a column *is* a training image
    exact = DrSAE(N_VIS, N_HID, N_CLS, rng=0, dtype=np.float64).init_ista(x_train, rng=3, noise_norm=0.0)
    assert np.allclose((normalize_rows(x_train) @ exact.D).max(axis=0), 1.0)
    # an ISTA encoder has every unit's encoder parallel to its decoder: all part-units
    np.testing.assert_allclose(model.unit_analysis()["angle"], 0.0, atol=1e-6)
    assert set(model.classify_units()) == {"part"}


# ---------------------------------------------------------------------------------------------- constraints
def test_project_norms_enforces_the_bounds_in_place():
    model = DrSAE(N_VIS, N_HID, N_CLS, n_steps=11, rng=0)
    assert model.max_norm_E == pytest.approx(1.25 / 11)  # the code's 1.25/T
    rng = np.random.default_rng(0)
    for name, v in model.params.items():
        v[...] = rng.normal(0, 3, v.shape)
    model.params["D"][:, 0] *= 0.01  # one column well inside its ball: must not move
    model.params["C"][1] *= 0.01
    before = {k: v.copy() for k, v in model.params.items()}
    arrays = {k: model.params[k] for k in model.params}
    assert model.project_norms() is model
    assert all(model.params[k] is arrays[k] for k in arrays)  # in place
    tol = 1 + 1e-6
    assert np.all(np.linalg.norm(model.D, axis=0) <= model.max_norm_D * tol)
    assert np.all(np.linalg.norm(model.E, axis=1) <= model.max_norm_E * tol)
    assert np.all(np.linalg.norm(model.C, axis=1) <= model.max_norm_C * tol)
    np.testing.assert_array_equal(model.D[:, 0], before["D"][:, 0])
    np.testing.assert_array_equal(model.C[1], before["C"][1])
    for name in ("S", "b", "c"):
        np.testing.assert_array_equal(model.params[name], before[name])
    # projected columns keep their direction and land on the sphere
    d, d0 = model.D[:, 1], before["D"][:, 1]
    np.testing.assert_allclose(d, d0 / np.linalg.norm(d0), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(model.E, axis=1), model.max_norm_E, rtol=1e-5)


def test_code_bound_and_lr_scale():
    paper_bound = DrSAE(N_VIS, N_HID, N_CLS, n_steps=11, rng=0, max_norm_E=1.25 / 10)
    assert paper_bound.max_norm_E == pytest.approx(1.25 / 10)
    # the author's T = 2 runs: c = 1.25/4 sets both the initial ISTA step and the bound
    t2 = DrSAE(N_VIS, N_HID, N_CLS, n_steps=2, rng=0, step_constant=1.25 / 4, dtype=np.float64)
    assert t2.max_norm_E == pytest.approx(1.25 / 8)
    np.testing.assert_allclose(t2.E, (1.25 / 8) * t2.D.T)
    scale = DrSAE(N_VIS, N_HID, N_CLS, n_steps=11, rng=0).lr_scale()
    assert set(scale) == {"E", "S", "b", "D", "C", "c"}
    assert scale["E"] == scale["b"] == 11 and scale["S"] == 10 and scale["D"] == 1
    assert scale["C"] == pytest.approx(5) and scale["c"] == pytest.approx(5)  # the code's 0.2 for the classifier
    assert DrSAE(N_VIS, N_HID, N_CLS, n_steps=1, rng=0).lr_scale()["S"] == 1


# ---------------------------------------------------------------------------------------------- analysis
def test_unit_analysis_measures_the_encoder_decoder_angle():
    model = DrSAE(N_VIS, 3, N_CLS, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    for i, theta in enumerate([0.2, 0.6, 1.2]):
        d = model.D[:, i]
        u = rng.normal(size=N_VIS)
        u -= (u @ d) * d  # orthogonal to D_i
        u /= np.linalg.norm(u)
        model.params["E"][i] = 0.1 * (np.cos(theta) * d + np.sin(theta) * u)
    model.params["S"][...] = np.eye(3)
    model.params["S"][2, 0] = -0.3
    model.params["C"][:, 2] = [3.0, 0.0, 4.0]
    info = model.unit_analysis()
    np.testing.assert_allclose(info["angle"], [0.2, 0.6, 1.2], rtol=1e-10)
    np.testing.assert_allclose(info["recurrent_norm"], [0.0, 0.0, 0.3])
    np.testing.assert_allclose(info["classifier_norm"][2], 5.0)
    assert list(model.classify_units()) == ["part", "between", "categorical"]
    assert list(model.classify_units(angle_part=0.1, angle_cat=0.5)) == ["between", "categorical", "categorical"]


def test_normalize_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 2.0]])
    out = normalize_rows(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [0.0, 1.0]])
    assert np.array_equal(x[0], [3.0, 4.0])  # a new array


def test_predict_and_score():
    model, x, y = _problem(0)
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.predict(x), proba.argmax(axis=1))
    assert model.score(x, y) == pytest.approx(np.mean(model.predict(x) == y))
    assert model.encode(x, return_all=True).shape == (T + 1, len(x), N_HID)


# ---------------------------------------------------------------------------------------------- house keeping
def test_params_views_config_and_astype():
    model = DrSAE(N_VIS, N_HID, N_CLS, rng=0)
    shapes = {"E": (N_HID, N_VIS), "S": (N_HID, N_HID), "b": (N_HID,), "D": (N_VIS, N_HID), "C": (N_CLS, N_HID),
              "c": (N_CLS,)}
    assert {k: v.shape for k, v in model.params.items()} == shapes
    assert all(getattr(model, k) is model.params[k] for k in shapes)
    assert all(v.dtype == np.float32 for v in model.params.values())
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert DrSAE(**cfg).config() == cfg
    assert model.astype(np.float64) is model and model.E.dtype == np.float64 and model.E is model.params["E"]


def test_same_seed_same_params():
    a, b, c = (DrSAE(N_VIS, N_HID, N_CLS, rng=s) for s in (7, 7, 8))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.D, c.D)
    x_train = np.random.default_rng(0).uniform(0, 1, (20, N_VIS))
    a.init_ista(x_train, rng=1)
    b.init_ista(x_train, rng=1)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.parametrize("kwargs,exc,word", [
    ({"n_visible": 0}, ValueError, "n_visible"),
    ({"n_hidden": 2.5}, TypeError, "n_hidden"),
    ({"n_classes": 1}, ValueError, "n_classes"),
    ({"n_steps": 0}, ValueError, "n_steps"),
    ({"sparsity_weight": -0.1}, ValueError, "sparsity_weight"),
    ({"classification_weight": "big"}, TypeError, "classification_weight"),
    ({"max_norm_D": 0.0}, ValueError, "max_norm_D"),
    ({"max_norm_E": -1.0}, ValueError, "max_norm_E"),
    ({"max_norm_C": float("nan")}, ValueError, "max_norm_C"),
    ({"rng": "seed"}, TypeError, "rng"),
    ({"dtype": np.int32}, TypeError, "dtype"),
])
def test_bad_constructor_arguments_are_named(kwargs, exc, word):
    args = {"n_visible": N_VIS, "n_hidden": N_HID, "n_classes": N_CLS, **kwargs}
    with pytest.raises(exc, match=word):
        DrSAE(**args)


def test_bad_inputs_are_named_and_leave_params_unchanged():
    model, x, y = _problem(0)
    before = {k: v.copy() for k, v in model.params.items()}
    calls = [
        (lambda: model.loss_and_grads(x[:, :-1]), ValueError, "x"),
        (lambda: model.loss_and_grads(x, y[:-1]), ValueError, "y"),
        (lambda: model.loss_and_grads(x, y + N_CLS), ValueError, "y"),
        (lambda: model.loss_and_grads("x"), TypeError, "x"),
        (lambda: model.encode(np.full((2, N_VIS), np.nan)), ValueError, "x"),
        (lambda: model.score(x, y.astype(float) + 0.5), TypeError, "y"),
        (lambda: model.init_ista(x[:, :-1]), ValueError, "x_train"),
        (lambda: model.init_ista(x, alpha=-1.0), ValueError, "alpha"),
        (lambda: model.init_ista(x, b=np.zeros(N_HID + 1)), ValueError, "b"),
        (lambda: model.init_ista(x, noise_norm=-1.0), ValueError, "noise_norm"),
        (lambda: model.set_ista(alpha=0.0), ValueError, "alpha"),
        (lambda: model.set_ista(b=np.zeros((2, 2))), ValueError, "b"),
        (lambda: model.sparse_coding_loss(x, np.zeros((len(x) + 1, N_HID))), ValueError, "z"),
        (lambda: model.classify_units(angle_part=0.8, angle_cat=0.7), ValueError, "angle_part"),
    ]
    for call, exc, word in calls:
        with pytest.raises(exc, match=word):
            call()
        for k in before:
            np.testing.assert_array_equal(model.params[k], before[k])


# ---------------------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def mnist():
    from pretrainlab.data import load_mnist

    try:
        return load_mnist(n_train=2000, n_valid=500)
    except ValueError as err:  # the archive is not shipped with this checkout
        pytest.skip(str(err))


def test_author_init_on_mnist_is_a_converging_ista_only_thanks_to_the_noise(mnist):
    """400 units from MNIST images, α = 1.25/T: the mean-zero noise of the author's init keeps α‖D‖₂² < 2 and the
    lasso objective falls at every step; image columns alone overlap so much that the iterates oscillate."""
    x_valid = normalize_rows(mnist.x_valid)
    model = DrSAE(784, 400, 10, rng=0).init_ista(mnist.x_train, rng=0)
    objective = [model.sparse_coding_loss(x_valid, z) for z in model.encode(x_valid, return_all=True)]
    assert np.all(np.diff(objective) < 0), objective
    assert objective[-1] < 0.6 * objective[0]  # z⁰ = 0 scores ½‖x‖² = 0.5
    bare = DrSAE(784, 400, 10, rng=0).init_ista(mnist.x_train, rng=0, noise_norm=0.0)
    assert (1.25 / 11) * np.linalg.norm(bare.D.astype(np.float64), 2) ** 2 > 2  # beyond ISTA's stable steps
    bare_objective = [bare.sparse_coding_loss(x_valid, z) for z in bare.encode(x_valid, return_all=True)]
    assert bare_objective[-1] > objective[0]  # worse than no code at all


def test_a_few_hundred_sgd_steps_on_mnist_reduce_the_loss_and_learn_the_classes(mnist):
    """The paper's recipe in miniature: unit-norm images, the author's init, plain SGD with each learning rate
    divided by ``lr_scale`` and ``project_norms`` after every step; 300 unsupervised steps, then 300 with labels."""
    data = mnist
    x, y = normalize_rows(data.x_train), data.y_train
    x_valid, y_valid = normalize_rows(data.x_valid), data.y_valid
    # 64 units for speed; this small dictionary gets lighter noise than the code's (ν = 1, 0.25 × an image) so
    # that its few columns stay image-like
    model = DrSAE(784, 64, 10, rng=0).init_ista(x, rng=0, noise_norm=0.1)
    rng, scale, lr = np.random.default_rng(0), model.lr_scale(), 5e-2
    loss_before = model.sparse_coding_loss(x_valid)

    def sgd(n_steps, labelled):
        for _ in range(n_steps):
            i = rng.integers(0, len(x), 10)  # the code's minibatch of 10
            _, grads = model.loss_and_grads(x[i], y[i] if labelled else None)
            for name, g in grads.items():
                model.params[name] -= (lr / scale[name]) * g
            model.project_norms()

    sgd(300, labelled=False)
    loss_after = model.sparse_coding_loss(x_valid)
    assert loss_after < 0.9 * loss_before, (loss_before, loss_after)
    assert 0.02 < np.mean(model.encode(x_valid) > 0) < 0.9  # a sparse code, not a dead or a dense one
    sgd(300, labelled=True)
    assert model.score(x_valid, y_valid) > 0.3  # chance is 0.1 (and C = 0 predicts one class)
    assert model.sparse_coding_loss(x_valid) < 0.9 * loss_before  # reconstruction is kept while classifying
    assert np.all(np.linalg.norm(model.D, axis=0) <= 1 + 1e-5)
