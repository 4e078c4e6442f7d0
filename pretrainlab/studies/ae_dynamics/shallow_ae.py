"""Study 4's shallow autoencoder, trained by online SGD (Refinetti & Goldt, ICML 2022; arXiv 2201.02115).

One sample per step, a fresh one each time (time t = steps / D):

    λ = (xW + b)/√D,   h = g(λ),   x̂ = V h,   L = ‖x̂ − x‖² / (2D),

with W, V (D, K) — tied when V is W (the very same array) — and g "linear", "relu" or "erf" (their
sigmoidal unit g(u) = erf(u/√2)). With e = x̂ − x the gradients are

    ∂L/∂V[:, k] = e h_k / D,    ∂L/∂h_k = V[:, k]·e / D,    ∂L/∂λ = ∂L/∂h ⊙ g'(λ),
    ∂L/∂W = x ⊗ ∂L/∂λ / √D,     ∂L/∂b = ∂L/∂λ / √D.

The *truncated* variant (Sanger 1989's generalised Hebbian rule in the linear case) replaces the K×K Gram
matrices in these gradients by their lower triangles: unit k sees only the partial reconstruction error
e⁽ᵏ⁾ = Σ_{a≤k} h_a V[:, a] − x of the units before it and itself, so unit k learns principal component k
itself rather than a rotation of the leading subspace. For non-linear g there are two conventions for the
encoder's derivative factor, chosen by ``truncated_derivative``:

    "k" (default, the form of the authors' ODEs and of ``ode.py``):
        ∂L/∂λ_k = g′(λ_k) [Σ_{a≤k} (v_k·v_a) h_a − v_k·x] / D;
    "a" (the authors' simulation code, mariaref/NonLinearShallowAE):
        ∂L/∂λ_k = [Σ_{a≤k} (v_k·v_a) h_a g′(λ_a) − g′(λ_k) v_k·x] / D.

They coincide for linear g, and for the first unit whatever g; the untruncated rule has only the first
form. It is offered to reproduce the authors' runs (docs/study4.md: 1.1 % apart for erf after 3 000 steps). The step is W ← W − lr_W ∂L/∂W, V ← V − lr_V ∂L/∂V,
b ← b − lr_b ∂L/∂b (study 4 uses lr_W = η/D); tied, both gradients land on the one array (lr_V = 0 keeps only
the encoder path, the "detached" variant of the authors' code). ``ae_learning_rates`` returns study 4's
rates for each of these cases.

Which path runs: ``online_ae_grads`` is the NumPy reference of one step; ``online_ae_sgd`` runs the Numba
kernel (``kernel.py``) unless the backend is "numpy" (``kernels.set_backend("numpy")``), in which
case each step is ``online_ae_grads`` followed by the three NumPy updates.
"""
import math

import numpy as np

from ... import kernels
from ...base import FLOAT_DTYPES
from ...validation import check_array, check_number

AE_ACTIVATIONS = ("linear", "relu", "erf")
_erf = np.frompyfunc(math.erf, 1, 1)


def check_activation(activation):
    """The index of ``activation`` in ``AE_ACTIVATIONS`` (the kernels' unit code), or a ValueError."""
    if activation not in AE_ACTIVATIONS:
        raise ValueError(f"activation must be one of {AE_ACTIVATIONS}, got {activation!r}")
    return AE_ACTIVATIONS.index(activation)


def check_truncated_derivative(truncated_derivative):
    """``truncated_derivative`` must be "k" (the ODEs' form, default) or "a" (the authors' simulation code)."""
    if truncated_derivative not in ("k", "a"):
        raise ValueError(f'truncated_derivative must be "k" or "a", got {truncated_derivative!r}')
    return truncated_derivative == "a"


def check_ae_weights(W, V, b, one_dtype=True):
    """Raise a TypeError/ValueError naming the argument unless W (D, K), V (D, K) and b (K,) are finite float32 or
    float64 ndarrays (of one dtype with ``one_dtype``: ``online_ae_sgd`` updates them in place, so they are
    checked, never converted; a tied model passes V is W)."""
    for name, a, ndim in (("W", W, 2), ("V", V, 2), ("b", b, 1)):
        if not isinstance(a, np.ndarray) or a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must be a float32 or float64 ndarray, got "
                            f"{getattr(a, 'dtype', type(a).__name__)}")
        if a.ndim != ndim or (one_dtype and a.dtype != W.dtype):
            raise ValueError(f"{name} must be a {ndim}-D array of W's dtype {W.dtype}, got shape {a.shape}, "
                             f"dtype {a.dtype}")
    if V.shape != W.shape or b.shape != (W.shape[1],):
        raise ValueError(f"V must have W's shape {W.shape} and b shape ({W.shape[1]},), got {V.shape} and {b.shape}")
    for name, a in (("W", W), ("V", V), ("b", b)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")


def ae_learning_rates(eta, D, tied=False, detached=False, train_bias=False):
    """Study 4's step sizes ``(lr_W, lr_V, lr_b)`` for the SGD step W −= lr_W ∂L/∂W, V −= lr_V ∂L/∂V, b −= lr_b ∂L/∂b.

    Untied (Refinetti & Goldt 2022): lr_W = η/D (the encoder learns on the slow time t = steps/D of the
    decoder), lr_V = η, lr_b = η if the bias is trained else 0. Tied (V is W): the full gradient keeps
    both paths at those rates, lr_W = η/D on the encoder path and lr_V = η on the decoder path;
    ``detached`` (the authors' tied code, the decoder path cut off) sets lr_V = 0.
    """
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 0:
        raise ValueError(f"eta must be a positive number, got {eta!r}")
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ValueError(f"D must be a positive integer, got {D!r}")
    if detached and not tied:
        raise ValueError("detached: only a tied model (V is W) has a decoder path to detach")
    return eta / D, 0.0 if detached else float(eta), float(eta) if train_bias else 0.0


def online_ae_grads(x, W, V, b, activation="relu", truncated=False, truncated_derivative="k"):
    """Loss and gradients of the study-4 autoencoder for one sample x (D,): ``(L, {"W", "V", "b"})``.

    The NumPy reference of ``online_ae_sgd``; for a tied model (V is W) the gradient of W is
    ``grads["W"] + grads["V"]``. ``truncated_derivative`` ("k" or "a", see the module docstring) only
    matters when ``truncated`` and g is not linear.
    """
    check_activation(activation)
    check_truncated_derivative(truncated_derivative)
    check_ae_weights(W, V, b, one_dtype=False)
    x = check_array(np.asarray(x)[None, :] if np.ndim(x) == 1 else x, "x", n_cols=W.shape[0], dtype=W.dtype)
    if len(x) != 1:
        raise ValueError(f"x must be one sample, a 1-D array of length {W.shape[0]}, got shape {x.shape}")
    return _online_ae_grads(x[0], W, V, b, activation, truncated, truncated_derivative == "a")


def _online_ae_grads(x, W, V, b, activation, truncated, deriv_a):
    """``online_ae_grads`` on checked arguments (``online_ae_sgd``'s NumPy loop checks once, not per sample)."""
    D = len(x)
    sqrt_d = math.sqrt(D)  # Python floats keep float32 arrays float32
    lam = (x @ W + b) / sqrt_d
    if activation == "linear":
        h, dh = lam, np.ones_like(lam)
    elif activation == "relu":
        h, dh = np.maximum(lam, 0), (lam > 0).astype(lam.dtype)
    else:
        h = _erf(lam / math.sqrt(2)).astype(lam.dtype)
        dh = math.sqrt(2 / math.pi) * np.exp(-lam ** 2 / 2)
    if truncated:
        x_hat_partial = np.cumsum(V * h, axis=1)  # column k: Σ_{a≤k} h_a V[:, a]
        error = x_hat_partial[:, -1] - x
        E = x_hat_partial - x[:, None]  # column k: e⁽ᵏ⁾
        if deriv_a:  # column k: Σ_{a≤k} h_a g′(λ_a) V[:, a] − g′(λ_k) x
            F = np.cumsum(V * (h * dh), axis=1) - np.outer(x, dh)
            dlam = (V * F).sum(axis=0) / D
        else:
            dlam = (V * E).sum(axis=0) / D * dh
        dV = E * h / D
    else:
        error = V @ h - x
        dlam = (error @ V) / D * dh
        dV = np.outer(error, h) / D
    grads = {"W": np.outer(x, dlam) / sqrt_d, "V": dV, "b": dlam / sqrt_d}
    return float(error @ error) / (2 * D), grads


def online_ae_sgd(X, W, V, b, lr_W, lr_V, lr_b, activation="relu", truncated=False, truncated_derivative="k"):
    """Online SGD over the rows of X (n, D), one step per row, updating W, V, b in place.

    Returns the loss before each step, (n,). Arguments as in ``online_ae_grads``; rates from
    ``ae_learning_rates``.
    """
    act = check_activation(activation)
    deriv_a = check_truncated_derivative(truncated_derivative)
    check_ae_weights(W, V, b)
    lr_W, lr_V, lr_b = (check_number(r, name, low=0.0) for r, name in ((lr_W, "lr_W"), (lr_V, "lr_V"), (lr_b, "lr_b")))
    X = check_array(X, "X", n_cols=W.shape[0], dtype=W.dtype)
    if kernels.use_kernel():
        from .kernel import online_sgd
        return online_sgd(X, W, V, b, lr_W, lr_V, lr_b, act, truncated, deriv_a and act != 0)
    losses = np.empty(len(X), X.dtype)
    for n, x in enumerate(X):
        losses[n], g = _online_ae_grads(x, W, V, b, activation, truncated, deriv_a)
        W -= lr_W * g["W"]
        V -= lr_V * g["V"]  # tied (V is W): both gradients reach the shared array
        b -= lr_b * g["b"]
    return losses
