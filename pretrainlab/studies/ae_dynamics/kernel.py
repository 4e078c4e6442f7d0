"""Numba kernel of study 4's online autoencoder step (batch 1), and its adapter.

NumPy reference: ``shallow_ae.online_ae_grads`` followed by the three updates (``shallow_ae.online_ae_sgd``
under the "numpy" backend). The equations are in ``shallow_ae``'s docstring.
"""
import math

import numpy as np
from numba import njit

from ...kernels.backend import JIT_OPTIONS, require


def online_sgd(X, W, V, b, lr_W, lr_V, lr_b, act, truncated, deriv_a=False):
    """Check the arrays, then run ``online_ae_kernel`` over the rows of X; returns the loss before each step."""
    dtype = W.dtype
    require(W, "W", dtype, ndim=2, writeable=True)
    require(V, "V", dtype, shape=W.shape, writeable=True)
    require(b, "b", dtype, shape=(W.shape[1],), writeable=True)
    X = require(np.ascontiguousarray(X), "X", dtype, ndim=2)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X must have {W.shape[0]} columns, got {X.shape[1]}")
    losses = np.empty(len(X), dtype)
    t = dtype.type
    online_ae_kernel(X, W, V, b, t(lr_W), t(lr_V), t(lr_b), act, bool(truncated), V is W, losses,
                      bool(deriv_a and truncated))
    return losses


@njit(**JIT_OPTIONS)
def online_ae_kernel(X, W, V, b, lr_W, lr_V, lr_b, act, truncated, tied, losses, deriv_a=False):
    """The loop of ``shallow_ae.online_ae_sgd``: two passes over the weights per sample.

    ``deriv_a`` (truncated only): the authors' simulation convention, g′(λ_a) inside the lower-triangle sum
    (``ae_errors_truncated_a``) instead of one factor g′(λ_k) on the whole (``shallow_ae`` docstring).

    Pass 1 (``ae_errors`` / ``ae_errors_truncated``) computes each row's reconstruction error and
    accumulates ∂L/∂h; pass 2 (``ae_encoder_step``, preceded by ``ae_decoder_step`` unless the decoder's
    share can ride along) updates row i of the weights and at once adds row i's share of the *next* sample's
    λ, so each row is read while it is in cache. Every variant (tied or not, truncated or not) picks its
    passes *outside* the loops over rows: a branch inside them would keep LLVM from vectorising the short
    loops over k, which costs ~1.7× in speed.
    """
    n, D = X.shape
    K = W.shape[1]
    sqrt_d, inv_d = np.float32(math.sqrt(D)), np.float32(1.0 / D)
    lam, h, dh, dlam = np.zeros(K, W.dtype), np.empty(K, W.dtype), np.empty(K, W.dtype), np.empty(K, W.dtype)
    hd = np.empty(K, W.dtype)  # h_k g′(λ_k) (deriv_a)
    e = np.zeros(D, W.dtype)  # e_i, the reconstruction error (plain); zeros: the truncated path reads 0·e_i, and
    # an uninitialised entry holding NaN would turn 0·e_i into NaN (seen: W non-finite in one run out of a few)
    E = np.empty((D, K if truncated else 0), W.dtype)  # e⁽ᵏ⁾_i (truncated)
    merge_decoder = tied and not truncated  # the decoder's share of the shared row goes into pass 2
    c = lr_V * inv_d
    for i in range(D):  # λ of the first sample (later ones come out of pass 2): Σ_i x_i W[i]
        xi = X[0, i]
        for k in range(K):
            lam[k] += xi * W[i, k]
    for t in range(n):
        x = X[t]
        for k in range(K):
            u = (lam[k] + b[k]) / sqrt_d
            if act == 0:
                h[k], dh[k] = u, 1.0
            elif act == 1:
                h[k], dh[k] = max(u, 0.0), 1.0 if u > 0.0 else 0.0
            else:
                h[k], dh[k] = math.erf(u / math.sqrt(2.0)), math.sqrt(2.0 / math.pi) * math.exp(-0.5 * u * u)
            dlam[k] = 0.0
        if deriv_a:
            for k in range(K):
                hd[k] = h[k] * dh[k]
            loss = ae_errors_truncated_a(x, V, h, hd, dh, E, dlam)
        elif truncated:
            loss = ae_errors_truncated(x, V, h, E, dlam)
        else:
            loss = ae_errors(x, V, h, e, dlam)
        losses[t] = loss / (2 * D)
        for k in range(K):
            dlam[k] = dlam[k] * inv_d * (np.float32(1.0) if deriv_a else dh[k]) / sqrt_d  # now ∂L/∂λ/√D = ∂L/∂b
            lam[k] = 0.0
        if not merge_decoder and c != 0.0:
            ae_decoder_step(V, E if truncated else e.reshape(D, 1), h, c)
        # (np.float32(0.0), not 0.0: a float64 literal would turn the whole update into float64 arithmetic)
        ae_encoder_step(W, x, X[min(t + 1, n - 1)], lr_W, dlam, e, c if merge_decoder else np.float32(0.0), h, lam)
        for k in range(K):
            b[k] -= lr_b * dlam[k]


@njit(**JIT_OPTIONS)
def ae_errors(x, V, h, e, dlam):
    """Pass 1: e_i = Σ_k V[i, k] h_k − x_i and dlam_k += V[i, k] e_i (= D·∂L/∂h_k); returns Σ_i e_i²."""
    loss = 0.0
    for i in range(V.shape[0]):
        Vi = V[i]
        r = -x[i]
        for k in range(Vi.shape[0]):
            r += Vi[k] * h[k]
        e[i] = r
        for k in range(Vi.shape[0]):
            dlam[k] += Vi[k] * r
        loss += r * r
    return loss


@njit(**JIT_OPTIONS)
def ae_errors_truncated(x, V, h, E, dlam):
    """Pass 1, truncated: E[i, k] = e⁽ᵏ⁾_i = Σ_{a≤k} V[i, a] h_a − x_i and dlam_k += V[i, k] e⁽ᵏ⁾_i;
    returns Σ_i e_i² of the full reconstruction (the last column)."""
    loss = 0.0
    K = V.shape[1]
    for i in range(V.shape[0]):
        r = -x[i]
        for k in range(K):
            r += V[i, k] * h[k]
            E[i, k] = r
        for k in range(K):
            dlam[k] += V[i, k] * E[i, k]
        loss += r * r
    return loss


@njit(**JIT_OPTIONS)
def ae_errors_truncated_a(x, V, h, hd, dh, E, dlam):
    """Pass 1, truncated, the authors' convention: E as in ``ae_errors_truncated`` and
    dlam_k += V[i, k] (Σ_{a≤k} V[i, a] h_a g′(λ_a) − x_i g′(λ_k)) (the derivative already inside)."""
    loss = 0.0
    K = V.shape[1]
    for i in range(V.shape[0]):
        r = -x[i]
        f = np.float32(0.0) * r
        for k in range(K):
            r += V[i, k] * h[k]
            E[i, k] = r
            f += V[i, k] * hd[k]
            dlam[k] += V[i, k] * (f - x[i] * dh[k])
        loss += r * r
    return loss


@njit(**JIT_OPTIONS)
def ae_decoder_step(V, E, h, c):
    """V[i, k] −= c · e_i h_k with c = lr_V / D (E[i, k] = e⁽ᵏ⁾_i when truncated, E[i, 0] = e_i otherwise)."""
    truncated = E.shape[1] > 1
    for i in range(V.shape[0]):
        Vi = V[i]
        if truncated:
            for k in range(Vi.shape[0]):
                Vi[k] -= c * E[i, k] * h[k]
        else:
            ce = c * E[i, 0]
            for k in range(Vi.shape[0]):
                Vi[k] -= ce * h[k]


@njit(**JIT_OPTIONS)
def ae_encoder_step(W, x, x_next, lr_W, dlam, e, c, h, lam):
    """Pass 2: W[i] −= lr_W x_i ∂L/∂λ/√D + c e_i h (c = lr_V / D carries a tied decoder's share, else 0),
    then λ_next += x'_i W[i] for the next sample x'."""
    for i in range(W.shape[0]):
        Wi = W[i]
        a, ce, xi = lr_W * x[i], c * e[i], x_next[i]
        for k in range(Wi.shape[0]):
            w = Wi[k] - (a * dlam[k] + ce * h[k])
            Wi[k] = w
            lam[k] += xi * w
