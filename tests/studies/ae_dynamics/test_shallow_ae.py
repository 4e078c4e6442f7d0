"""Study 4's online autoencoder step: its hand-written gradients against finite differences, and its Numba
kernel against the NumPy steps (float32 tolerance), edge sizes and the kernel's scratch memory included."""
import math

import numpy as np
import pytest

from pretrainlab import kernels
from pretrainlab.studies.ae_dynamics.shallow_ae import AE_ACTIVATIONS, ae_learning_rates, online_ae_grads, online_ae_sgd


def ae_problem(n_hidden, dtype, seed=0, n_visible=9):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n_visible).astype(dtype)
    W, V = rng.standard_normal((2, n_visible, n_hidden)).astype(dtype)
    b = (0.3 * rng.standard_normal(n_hidden)).astype(dtype)
    return x, W, V, b


@pytest.mark.parametrize("activation", AE_ACTIVATIONS)
@pytest.mark.parametrize("tied", [False, True])
def test_online_ae_gradients_match_finite_differences(activation, tied):
    """The NumPy reference's backward pass against central differences of its own loss (float64)."""
    x, W, V, b = ae_problem(3, np.float64)
    V = W if tied else V
    loss, grads = online_ae_grads(x, W, V, b, activation)
    analytic = {"W": grads["W"] + grads["V"] if tied else grads["W"], "b": grads["b"]}
    if not tied:
        analytic["V"] = grads["V"]
    params = {"W": W, "b": b} if tied else {"W": W, "V": V, "b": b}
    for name, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up = online_ae_grads(x, W, W if tied else V, b, activation)[0]
            p[idx] = old - 1e-6
            down = online_ae_grads(x, W, W if tied else V, b, activation)[0]
            p[idx] = old
            numeric[idx] = (up - down) / 2e-6
        rel = np.abs(numeric - analytic[name]).max() / max(np.abs(numeric).max(), 1e-12)
        assert rel < 1e-6, (name, rel)


def test_truncated_equals_full_gradient_for_one_unit():
    """With K = 1 the lower triangle of the 1×1 Gram matrix is all of it."""
    x, W, V, b = ae_problem(1, np.float64)
    full = online_ae_grads(x, W, V, b, "erf", truncated=False)[1]
    trunc = online_ae_grads(x, W, V, b, "erf", truncated=True)[1]
    for name in full:
        np.testing.assert_allclose(trunc[name], full[name], rtol=1e-12)


@pytest.mark.parametrize("activation", AE_ACTIVATIONS)
@pytest.mark.parametrize("tied, truncated, n_hidden, deriv", [
    (False, False, 4, "k"), (True, False, 4, "k"), (False, True, 4, "k"), (True, True, 4, "k"), (True, False, 1, "k"),
    (False, True, 1, "k"), (False, True, 4, "a"), (True, True, 4, "a"), (False, True, 1, "a"),
])
def test_online_ae_kernel_equals_numpy_steps(activation, tied, truncated, n_hidden, deriv):
    n_visible = 23
    X = np.random.default_rng(3).standard_normal((12, n_visible)).astype(np.float32)
    _, W0, V0, b0 = ae_problem(n_hidden, np.float32, n_visible=n_visible)
    out = {}
    for backend in ("numpy", "numba"):
        W, V, b = W0.copy(), V0.copy(), b0.copy()
        V = W if tied else V
        with kernels.backend(backend):
            losses = online_ae_sgd(X, W, V, b, 0.5 / n_visible, 0.05, 0.05, activation, truncated, deriv)
        out[backend] = losses, W, V, b
    assert np.ptp(out["numpy"][0]) > 0  # the steps did change the model
    for ref, got in zip(out["numpy"], out["numba"]):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_truncated_derivative_conventions_differ_only_for_nonlinear_units():
    """"a" puts g′(λ_a) inside the lower-triangle sum: the same as "k" for linear g, the same for the
    first unit (its triangle is itself), different for later erf units; the decoder step is shared."""
    x, W, V, b = ae_problem(3, np.float64)
    for activation in ("linear", "erf"):
        gk = online_ae_grads(x, W, V, b, activation, True, "k")[1]
        ga = online_ae_grads(x, W, V, b, activation, True, "a")[1]
        np.testing.assert_allclose(ga["V"], gk["V"], rtol=1e-12)
        np.testing.assert_allclose(ga["b"][0], gk["b"][0], rtol=1e-12)
        if activation == "linear":
            np.testing.assert_allclose(ga["b"], gk["b"], rtol=1e-12)
        else:
            assert np.abs(ga["b"][1:] - gk["b"][1:]).min() > 1e-6
    # by hand for unit 2 (0-based k = 1), erf
    lam = (x @ W + b) / 3.0
    h, dh = np.array([math.erf(u / math.sqrt(2)) for u in lam]), math.sqrt(2 / math.pi) * np.exp(-lam ** 2 / 2)
    k = 1
    want = (sum(V[:, k] @ V[:, a] * h[a] * dh[a] for a in range(k + 1)) - dh[k] * V[:, k] @ x) / 9 / 3.0
    assert online_ae_grads(x, W, V, b, "erf", True, "a")[1]["b"][k] == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="truncated_derivative"):
        online_ae_grads(x, W, V, b, "erf", True, "j")


def test_ae_learning_rates():
    assert ae_learning_rates(2.0, 500) == (2.0 / 500, 2.0, 0.0)
    assert ae_learning_rates(2.0, 500, tied=True, detached=True, train_bias=True) == (2.0 / 500, 0.0, 2.0)
    with pytest.raises(ValueError, match="detached"):
        ae_learning_rates(1.0, 10, detached=True)
    with pytest.raises(ValueError, match="eta"):
        ae_learning_rates(-1.0, 10)


def test_online_ae_bad_input_names_the_argument():
    _, W, V, b = ae_problem(3, np.float32)
    with pytest.raises(ValueError, match="X must have 9 columns"):
        online_ae_sgd(np.zeros((2, 8), np.float32), W, V, b, 0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match="activation"):
        online_ae_sgd(np.zeros((2, 9), np.float32), W, V, b, 0.1, 0.1, 0.1, activation="tanh")


def test_online_ae_kernel_reads_no_uninitialised_memory(monkeypatch):
    """Every scratch array the kernel allocates with np.empty is filled with NaN: the result must stay finite
    and equal the NumPy steps (an unwritten entry multiplied by 0 would still give NaN)."""
    from types import SimpleNamespace

    from pretrainlab.studies.ae_dynamics import kernel as kernel_module

    nan_np = SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("__")})
    nan_np.empty = lambda shape, dtype=float: np.full(shape, np.nan, dtype)
    n_visible = 17
    X = np.random.default_rng(3).standard_normal((6, n_visible)).astype(np.float32)
    for truncated, tied in ((True, False), (False, True), (False, False), (True, True)):
        _, W0, V0, b0 = ae_problem(3, np.float32, n_visible=n_visible)
        W, V, b = W0.copy(), V0.copy(), b0.copy()
        V = W if tied else V
        with kernels.backend("numpy"):
            ref = online_ae_sgd(X, W, V, b, 0.5 / n_visible, 0.05, 0.05, "linear", truncated)
        W2, V2, b2 = W0.copy(), V0.copy(), b0.copy()
        V2 = W2 if tied else V2
        losses = np.empty(len(X), np.float32)
        monkeypatch.setattr(kernel_module, "np", nan_np)
        kernel_module.online_ae_kernel.py_func(X, W2, V2, b2, np.float32(0.5 / n_visible), np.float32(0.05),
                                               np.float32(0.05), 0, truncated, tied, losses,
                                               *_extra_kernel_args(kernel_module))
        monkeypatch.setattr(kernel_module, "np", np)
        assert np.all(np.isfinite(W2)), (truncated, tied)
        np.testing.assert_allclose(W2, W, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(losses, ref, rtol=1e-4, atol=1e-6)


def _extra_kernel_args(kernel_module):
    """Arguments the kernel takes after ``losses`` (the truncated-derivative convention, if present)."""
    import inspect

    params = list(inspect.signature(kernel_module.online_ae_kernel.py_func).parameters)
    return [0] * (len(params) - params.index("losses") - 1)
