"""Every forward/backward pair of layers.py against central finite differences in float64."""
import numpy as np
import pytest

from pretrainlab import layers
from pretrainlab.gradcheck import numerical_gradient, numerical_gradient_array, rel_error

TOL = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_affine_backward_matches_finite_differences(rng):
    x, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    out, cache = layers.affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dout = rng.normal(size=out.shape)
    dx, dW, db = layers.affine_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda x_: layers.affine_forward(x_, W, b)[0], x, dout)) < TOL
    assert rel_error(dW, numerical_gradient_array(lambda W_: layers.affine_forward(x, W_, b)[0], W, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(lambda b_: layers.affine_forward(x, W, b_)[0], b, dout)) < TOL
    assert layers.affine_backward(dout, cache, need_dx=False)[0] is None


def test_affine_transpose_backward_matches_finite_differences(rng):
    h, W, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=5)
    out, cache = layers.affine_transpose_forward(h, W, b)
    np.testing.assert_allclose(out, h @ W.T + b)
    dout = rng.normal(size=out.shape)
    dh, dW, db = layers.affine_transpose_backward(dout, cache)
    assert dW.shape == W.shape
    assert rel_error(dh, numerical_gradient_array(lambda h_: layers.affine_transpose_forward(h_, W, b)[0], h, dout)) < TOL
    assert rel_error(dW, numerical_gradient_array(lambda W_: layers.affine_transpose_forward(h, W_, b)[0], W, dout)) < TOL
    assert rel_error(db, numerical_gradient_array(lambda b_: layers.affine_transpose_forward(h, W, b_)[0], b, dout)) < TOL


@pytest.mark.parametrize("name", sorted(layers.ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name, rng):
    forward, backward = layers.ACTIVATIONS[name]
    x = rng.normal(size=(6, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU's kink out of the finite differences
    x_before = x.copy()
    out, cache = forward(x)
    dout = rng.normal(size=x.shape)
    dx = backward(dout, cache)
    np.testing.assert_array_equal(x, x_before)  # pure: the input is not modified
    assert rel_error(dx, numerical_gradient_array(lambda x_: forward(x_)[0], x, dout)) < TOL


def test_activation_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(layers.tanh_forward(x)[0], np.tanh(x))
    np.testing.assert_allclose(layers.relu_forward(x)[0], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.softplus_forward(x)[0], np.log1p(np.exp(x)))


def test_softplus_is_stable_and_matches_logaddexp():
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
    np.testing.assert_allclose(layers.softplus(x), np.logaddexp(0.0, x), rtol=1e-15, atol=0)
    assert layers.softplus(x.astype(np.float32)).dtype == np.float32


def test_get_activation_rejects_unknown_names_with_the_argument_name():
    with pytest.raises(ValueError, match="encoder"):
        layers.get_activation("swish", "encoder")
    with pytest.raises(ValueError, match="decoder"):
        layers.get_activation("tanh", "decoder", allowed=("sigmoid", "linear"))


def test_softmax_cross_entropy_value_and_gradient(rng):
    logits, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), y]).mean(), rel=1e-12)
    np.testing.assert_allclose(layers.softmax(logits), p)
    numeric = numerical_gradient(lambda: layers.softmax_cross_entropy(logits, y)[0], logits)
    assert rel_error(dlogits, numeric) < TOL


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, dlogits = layers.softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([1, 1]))
    assert np.isfinite(loss) and loss == pytest.approx(1000.0 / 2 + 1000.0 / 2)
    assert np.all(np.isfinite(dlogits))


def test_squared_error_value_and_gradient(rng):
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss, dpred = layers.squared_error(pred, target)
    assert loss == pytest.approx(0.5 * ((pred - target) ** 2).sum() / 4)
    assert rel_error(dpred, numerical_gradient(lambda: layers.squared_error(pred, target)[0], pred)) < TOL


def test_binary_cross_entropy_with_logits_value_gradient_and_stability(rng):
    logits, target = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    loss, dlogits = layers.binary_cross_entropy_with_logits(logits, target)
    p = 1 / (1 + np.exp(-logits))
    assert loss == pytest.approx(-(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / 4)
    numeric = numerical_gradient(lambda: layers.binary_cross_entropy_with_logits(logits, target)[0], logits)
    assert rel_error(dlogits, numeric) < TOL
    # saturated logits: the naive log σ form gives inf/nan, the softplus form stays finite and exact
    big = np.array([[800.0, -800.0]], dtype=np.float32)
    loss, d = layers.binary_cross_entropy_with_logits(big, np.array([[0.0, 1.0]], dtype=np.float32))
    assert loss == pytest.approx(1600.0) and np.all(np.isfinite(d))


def test_penalties_match_finite_differences(rng):
    h = rng.uniform(0.05, 0.95, size=(6, 4))
    for penalty in (lambda h_: layers.kl_sparsity(h_, 0.1), layers.l1_activity, layers.l2_penalty):
        value, dh = penalty(h)
        assert rel_error(dh, numerical_gradient(lambda: penalty(h)[0], h)) < TOL
    rho_hat = h.mean(axis=0)
    expected = np.sum(0.1 * np.log(0.1 / rho_hat) + 0.9 * np.log(0.9 / (1 - rho_hat)))
    assert layers.kl_sparsity(h, 0.1)[0] == pytest.approx(expected)
    # zero exactly when every unit's mean rate equals the target
    assert layers.kl_sparsity(np.full((3, 2), 0.1), 0.1)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32(dtype, rng):
    x = rng.normal(size=(4, 5)).astype(dtype)
    W, b = rng.normal(size=(5, 3)).astype(dtype), np.zeros(3, dtype)
    out, cache = layers.affine_forward(x, W, b)
    for name, (forward, backward) in layers.ACTIVATIONS.items():
        a, c = forward(out)
        assert a.dtype == dtype and backward(a, c).dtype == dtype, name
    assert all(g.dtype == dtype for g in layers.affine_backward(out, cache))
    assert layers.binary_cross_entropy_with_logits(out, np.zeros_like(out))[1].dtype == dtype
    assert layers.softmax_cross_entropy(out, np.array([0, 1, 2, 0]))[1].dtype == dtype


@pytest.mark.parametrize("scheme", layers.INIT_SCHEMES)
def test_init_weights_scale(scheme, rng):
    W = layers.init_weights(400, 300, scheme, rng, activation="tanh", dtype=np.float64)
    assert W.shape == (400, 300)
    expected_var = {"uniform": 6.0 / 700 / 3, "glorot": 2.0 / 700, "he": 2.0 / 400}[scheme]
    assert W.var() == pytest.approx(expected_var, rel=0.05)
    if scheme == "uniform":
        W4 = layers.init_weights(400, 300, scheme, rng, activation="sigmoid", dtype=np.float64)
        assert np.abs(W4).max() <= 4 * np.sqrt(6 / 700) and W4.var() == pytest.approx(16 * expected_var, rel=0.05)


def test_init_weights_rejects_unknown_scheme(rng):
    with pytest.raises(ValueError, match="init"):
        layers.init_weights(3, 2, "xavier-ish", rng)
