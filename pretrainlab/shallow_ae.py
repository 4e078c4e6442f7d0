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
itself rather than a rotation of the leading subspace. The step is W ← W − lr_W ∂L/∂W, V ← V − lr_V ∂L/∂V,
b ← b − lr_b ∂L/∂b (study 4 uses lr_W = η/D); tied, both gradients land on the one array (lr_V = 0 keeps only
the encoder path, the "detached" variant of the authors' code).

Which path runs: ``online_ae_grads`` is the NumPy reference of one step; ``online_ae_sgd`` runs the Numba
kernel (``kernels/shallow_ae.py``) unless the backend is "numpy" (``kernels.set_backend("numpy")``), in which
case each step is ``online_ae_grads`` followed by the three NumPy updates.
"""
import math

import numpy as np

from . import kernels
from .validation import check_array

AE_ACTIVATIONS = ("linear", "relu", "erf")
_erf = np.frompyfunc(math.erf, 1, 1)


def check_activation(activation):
    """The index of ``activation`` in ``AE_ACTIVATIONS`` (the kernels' unit code), or a ValueError."""
    if activation not in AE_ACTIVATIONS:
        raise ValueError(f"activation must be one of {AE_ACTIVATIONS}, got {activation!r}")
    return AE_ACTIVATIONS.index(activation)


def online_ae_grads(x, W, V, b, activation="relu", truncated=False):
    """Loss and gradients of the study-4 autoencoder for one sample x (D,): ``(L, {"W", "V", "b"})``.

    The NumPy reference of ``online_ae_sgd``; for a tied model (V is W) the gradient of W is
    ``grads["W"] + grads["V"]``.
    """
    check_activation(activation)
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
        dlam = (V * E).sum(axis=0) / D * dh
        dV = E * h / D
    else:
        error = V @ h - x
        dlam = (error @ V) / D * dh
        dV = np.outer(error, h) / D
    grads = {"W": np.outer(x, dlam) / sqrt_d, "V": dV, "b": dlam / sqrt_d}
    return float(error @ error) / (2 * D), grads


def online_ae_sgd(X, W, V, b, lr_W, lr_V, lr_b, activation="relu", truncated=False):
    """Online SGD over the rows of X (n, D), one step per row, updating W, V, b in place.

    Returns the loss before each step, (n,).
    """
    act = check_activation(activation)
    W = check_array(W, "W")
    if V.shape != W.shape or b.shape != (W.shape[1],):
        raise ValueError(f"V must have W's shape {W.shape} and b shape ({W.shape[1]},), got {V.shape} and {b.shape}")
    X = check_array(X, "X", n_cols=W.shape[0], dtype=W.dtype)
    if kernels.use_kernel():
        from .kernels.shallow_ae import online_sgd
        return online_sgd(X, W, V, b, lr_W, lr_V, lr_b, act, truncated)
    losses = np.empty(len(X), X.dtype)
    for n, x in enumerate(X):
        losses[n], g = online_ae_grads(x, W, V, b, activation, truncated)
        W -= lr_W * g["W"]
        V -= lr_V * g["V"]  # tied (V is W): both gradients reach the shared array
        b -= lr_b * g["b"]
    return losses
