"""Numba kernels of the RBM family — CD-k / PCD steps, Gibbs chains, AIS — and the adapters that call them.

=====================  ====================================================  ===========================
kernel                 computes                                              NumPy reference
=====================  ====================================================  ===========================
``sample_hiddens``     ph = σ(vW + b_hid), h = [u < ph]                      ``BernoulliRBM.sample_h_given_v``
``gibbs_chain``        k block-Gibbs steps h → v → h → … → v_k, ph_k          ``BernoulliRBM.gibbs_vhv``
``cd_gradient``        v_kᵀph_k/n_k − v₀ᵀph₀/n₀ and the bias terms            ``ContrastiveDivergence._step_numpy``
``ais_step``           AIS weight update and Gibbs transition at β             ``likelihood.ais_step``
=====================  ====================================================  ===========================

The adapters ``cd_step`` and ``ais_log_weights`` are what the models call (one dispatch line each): arrays
and the model's ``numpy.random.Generator`` in, arrays out. They check every array once (``backend.require``),
draw the uniforms in exactly the order the NumPy path draws them (``rng.random(shape, dtype)``, one array
per layer and step, see ``layers.bernoulli_sample``) and pass them in — a kernel never draws random numbers,
so the same seed gives the same samples whichever path runs.

Why kernels help here. At batch 100 a CD step is a handful of matrix products and BLAS is as fast as the
machine allows: the NumPy path runs. At batch 1–20 each NumPy call costs a few microseconds of overhead and
every intermediate array goes to memory and back; a kernel does the step in a few loops over W, skips the
zero entries of binary states (most pixels and samples are 0), and allocates nothing.
"""
import math

import numpy as np
from numba import njit

from ..layers import sigmoid as np_sigmoid
from .backend import JIT_OPTIONS, require
from .units import sigmoid


# ---------------------------------------------------------------------------------------------- loops
@njit(**JIT_OPTIONS)
def affine_rows(v, W, b, out):
    """out = vW + b, written into ``out`` (n, n_out).

    Loop order: each row W[i] is read once for the whole batch and added, scaled by v[r, i], to row r of
    the result; zero entries of v (most binary pixels and samples) cost nothing.
    """
    n, n_in = v.shape
    for r in range(n):
        out[r, :] = b
    for i in range(n_in):
        for r in range(n):
            x = v[r, i]
            if x != 0.0:
                for j in range(W.shape[1]):
                    out[r, j] += x * W[i, j]


@njit(**JIT_OPTIONS)
def propup(v, W, b_hid, ph):
    """ph = σ(vW + b_hid) (Hinton 2010, eq. 7), written into ``ph`` (n, n_hidden)."""
    affine_rows(v, W, b_hid, ph)
    for r in range(ph.shape[0]):
        for j in range(ph.shape[1]):
            ph[r, j] = sigmoid(ph[r, j])


@njit(**JIT_OPTIONS)
def propdown(h, W, scale, bias, pv):
    """pv = σ(scale · hWᵀ + bias), written into ``pv`` (n, n_visible); scale = 1, bias = b_vis is p(v | h)
    (Hinton 2010, eq. 8). Dot products of the contiguous row W[i] with h[r] and h[r + 1] together: each
    element of W is loaded once for two rows of h (1.5× faster than one dot product at a time)."""
    n = h.shape[0]
    for i in range(W.shape[0]):
        Wi = W[i]
        for r in range(0, n - 1, 2):
            h0, h1 = h[r], h[r + 1]
            s0, s1 = Wi[0] * h0[0], Wi[0] * h1[0]  # (not 0.0: a float64 literal would make the sums float64)
            for j in range(1, Wi.shape[0]):
                s0 += Wi[j] * h0[j]
                s1 += Wi[j] * h1[j]
            pv[r, i] = sigmoid(scale * s0 + bias[i])
            pv[r + 1, i] = sigmoid(scale * s1 + bias[i])
        if n % 2:
            s = Wi[0] * h[n - 1, 0]
            for j in range(1, Wi.shape[0]):
                s += Wi[j] * h[n - 1, j]
            pv[n - 1, i] = sigmoid(scale * s + bias[i])


@njit(**JIT_OPTIONS)
def sample(p, u, out):
    """out = [u < p]: a Bernoulli sample of p from the given uniforms (``layers.bernoulli_sample``)."""
    n, m = p.shape
    for b in range(n):
        for j in range(m):
            out[b, j] = 1.0 if u[b, j] < p[b, j] else 0.0


@njit(**JIT_OPTIONS)
def sample_hiddens(v, W, b_hid, u, ph, h):
    """ph = p(h = 1 | v) = σ(vW + b_hid) and the sample h = [u < ph], into ``ph`` and ``h``.

    v (n, n_visible); W (n_visible, n_hidden); u, ph, h (n, n_hidden).
    NumPy reference: ``BernoulliRBM.sample_h_given_v`` (its uniforms are ``rng.random(ph.shape)``).
    """
    propup(v, W, b_hid, ph)
    sample(ph, u, h)


@njit(**JIT_OPTIONS)
def gibbs_chain(h, W, b_vis, b_hid, u_v, u_h, pv_first, v, ph):
    """k = len(u_v) block-Gibbs steps from the hidden sample ``h``: h → v₁ → h₁ → … → v_k.

    Step s draws v_s = [u_v[s] < σ(h W ᵀ + b_vis)], then ph_s = σ(v_s W + b_hid), and, except after the
    last step, h_s = [u_h[s] < ph_s]. On return ``v`` holds v_k, ``ph`` holds ph_k = p(h | v_k) and
    ``pv_first`` the first step's p(v | h) (the mean-field reconstruction CD reports). ``h`` is
    overwritten by the intermediate hidden samples.

    h, ph, u_h[s] (n, n_hidden); v, pv_first, u_v[s] (n, n_visible); len(u_h) = len(u_v) − 1.
    NumPy reference: ``BernoulliRBM.gibbs_vhv`` (uniform order h₀, v₁, h₁, …, v_k).
    """
    k = u_v.shape[0]
    for s in range(k):
        propdown(h, W, np.float32(1.0), b_vis, pv_first if s == 0 else v)  # keeps float32 models in float32
        sample(pv_first if s == 0 else v, u_v[s], v)
        propup(v, W, b_hid, ph)
        if s < k - 1:
            sample(ph, u_h[s], h)


@njit(**JIT_OPTIONS)
def add_correlations(v, ph, scale, gW, gb_vis, gb_hid):
    """gW += scale · vᵀph, gb_vis += scale · Σ_b v_b, gb_hid += scale · Σ_b ph_b.

    Each row gW[i] is updated for the whole batch while it sits in cache; zero entries of v are skipped.
    """
    n, n_visible = v.shape
    for b in range(n):
        for j in range(ph.shape[1]):
            gb_hid[j] += scale * ph[b, j]
    for i in range(n_visible):
        for b in range(n):
            x = v[b, i]
            if x != 0.0:
                gb_vis[i] += scale * x
                c = scale * x
                for j in range(ph.shape[1]):
                    gW[i, j] += c * ph[b, j]


@njit(**JIT_OPTIONS)
def cd_gradient(v0, ph0, vk, phk, gW, gb_vis, gb_hid):
    """The CD estimate of −∂ log p / ∂θ (Hinton 2002), written into gW, gb_vis, gb_hid:

        gW = v_kᵀph_k / n_k − v₀ᵀph₀ / n₀,   gb_vis = mean(v_k) − mean(v₀),   gb_hid = mean(ph_k) − mean(ph₀).

    NumPy reference: the gradient in ``ContrastiveDivergence._step_numpy``.
    """
    gW[:, :] = 0.0
    gb_vis[:] = 0.0
    gb_hid[:] = 0.0
    add_correlations(vk, phk, np.float32(1.0 / vk.shape[0]), gW, gb_vis, gb_hid)
    add_correlations(v0, ph0, np.float32(-1.0 / v0.shape[0]), gW, gb_vis, gb_hid)


@njit(**JIT_OPTIONS)
def ais_step(v, log_w, beta_prev, beta, W, b_vis, b_hid, a, u_h, r_v, transition, x, h, v_out):
    """One step of annealed importance sampling for all runs, binary visible units (Salakhutdinov & Murray 2008):

        log_w += (β − β') v·(b_vis − a) + Σ_j log1p(σ(β' x_j) · expm1((β − β') x_j)),   x = vW + b_hid,

    then, if ``transition``, one Gibbs step at β: h = [u_h < σ(β x)], v_out = [r_v < σ(β hWᵀ + (1−β) a + β b_vis)].
    v, v_out, r_v (n_runs, n_visible); x, h, u_h (n_runs, n_hidden); log_w (n_runs,) float64; b_vis, a float64.
    The log weights are accumulated in float64. NumPy reference: ``likelihood.ais_step``.
    """
    affine_rows(v, W, b_hid, x)
    d_beta = beta - beta_prev
    for r in range(v.shape[0]):
        vis = 0.0
        for i in range(v.shape[1]):
            vis += v[r, i] * (b_vis[i] - a[i])
        sp = 0.0
        for j in range(x.shape[1]):  # softplus(βx) − softplus(β'x), in the cancellation-free form
            xj = np.float64(x[r, j])
            sp += math.log1p(sigmoid(beta_prev * xj) * math.expm1(d_beta * xj))
        log_w[r] += d_beta * vis + sp
    if transition:
        for r in range(x.shape[0]):
            for j in range(x.shape[1]):
                h[r, j] = 1.0 if u_h[r, j] < sigmoid(beta * x[r, j]) else 0.0
        propdown(h, W, beta, (1.0 - beta) * a + beta * b_vis, v_out)
        sample(v_out, r_v, v_out)


# ---------------------------------------------------------------------------------------------- adapters
def _check_rbm_arrays(W, b_vis, b_hid):
    dtype = W.dtype
    require(W, "W", dtype, ndim=2)
    require(b_vis, "b_vis", dtype, shape=(W.shape[0],))
    require(b_hid, "b_hid", dtype, shape=(W.shape[1],))
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"W must be float32 or float64 for the kernels, got {dtype.name}")
    return dtype


def cd_step(v0, W, b_vis, b_hid, rng, k, persistent=False, chains=None, n_chains=None):
    """The kernel path of one CD-k or PCD step (``persistent``; ``chains``: the fantasy particles' states, None
    on the first call, when ``n_chains`` (default: the batch size) uniform random states are drawn).

    Returns ``(ph0, h0, vk, phk, recon, (gW, gb_vis, gb_hid))`` exactly as ``ContrastiveDivergence._step_numpy``
    (the same uniforms in the same order: h₀ of the data, then for PCD the first chains and h of the chains,
    then v₁, h₁, …, v_k). ``recon`` is p(v | h₀), the monitor's mean-field reconstruction; for PCD ``vk`` is
    the chains' next state.
    """
    dtype = _check_rbm_arrays(W, b_vis, b_hid)
    n_visible, n_hidden = W.shape
    v0 = require(np.ascontiguousarray(v0), "v", dtype, ndim=2)
    if v0.shape[1] != n_visible:
        raise ValueError(f"v must have {n_visible} columns, got {v0.shape[1]}")
    ph0, h0 = np.empty((2, len(v0), n_hidden), dtype)
    sample_hiddens(v0, W, b_hid, rng.random(ph0.shape, dtype=dtype), ph0, h0)
    if persistent:
        if chains is None:
            chains = np.less(rng.random((n_chains or len(v0), n_visible), dtype=dtype), dtype.type(0.5))
            chains = chains.astype(dtype)
        start = require(np.ascontiguousarray(chains), "chains", dtype, ndim=2)
        if start.shape[1] != n_visible:
            raise ValueError(f"chains must have {n_visible} columns, got {start.shape[1]}")
        h, ph = np.empty((2, len(start), n_hidden), dtype)
        sample_hiddens(start, W, b_hid, rng.random(h.shape, dtype=dtype), ph, h)
    else:
        h, start = h0.copy(), v0
    n = len(start)
    u_v, u_h = np.empty((k, n, n_visible), dtype), np.empty((k - 1, n, n_hidden), dtype)
    for s in range(k):  # interleaved exactly as the NumPy chain draws them
        rng.random(dtype=dtype, out=u_v[s])
        if s < k - 1:
            rng.random(dtype=dtype, out=u_h[s])
    pv_first, vk = np.empty((2, n, n_visible), dtype)
    phk = np.empty((n, n_hidden), dtype)
    gibbs_chain(h, W, b_vis, b_hid, u_v, u_h, pv_first, vk, phk)
    if persistent:  # the monitor's p(v | h₀) is not a step of the persistent chain
        recon = h0 @ W.T
        recon += b_vis
        np_sigmoid(recon, out=recon)
    else:
        recon = pv_first
    grads = np.empty_like(W), np.empty_like(b_vis), np.empty_like(b_hid)
    cd_gradient(v0, ph0, vk, phk, *grads)
    return ph0, h0, vk, phk, recon, grads


def ais_log_weights(v, betas, W, b_vis, b_hid, a, rng):
    """The kernel path of ``likelihood.ais_log_partition`` for binary visibles: all steps of all runs.

    v : (n_runs, n_visible) the first states, drawn from the base model; betas : increasing, 0 … 1;
    b_vis, a : float64.  Returns the log importance weights (n_runs,) float64. The uniforms are drawn per
    step as the NumPy loop draws them (u_h (n_runs, n_hidden), then r_v (n_runs, n_visible)).
    """
    dtype = W.dtype
    require(W, "W", dtype, ndim=2)
    n_visible, n_hidden = W.shape
    require(b_hid, "b_hid", dtype, shape=(n_hidden,))
    require(b_vis, "b_vis", np.float64, shape=(n_visible,))
    require(a, "a", np.float64, shape=(n_visible,))
    v = require(np.ascontiguousarray(v), "v", dtype, ndim=2).copy()
    if v.shape[1] != n_visible:
        raise ValueError(f"v must have {n_visible} columns, got {v.shape[1]}")
    n_runs = len(v)
    log_w = np.zeros(n_runs)
    x, h, v_next = np.empty((n_runs, n_hidden), dtype), np.empty((n_runs, n_hidden), dtype), np.empty_like(v)
    no_noise = np.empty((0, 0), dtype)
    for k in range(1, len(betas)):
        last = k == len(betas) - 1
        u_h = no_noise if last else rng.random((n_runs, n_hidden), dtype=dtype)
        r_v = no_noise if last else rng.random((n_runs, n_visible), dtype=dtype)
        ais_step(v, log_w, betas[k - 1], betas[k], W, b_vis, b_hid, a, u_h, r_v, not last, x, h, v_next)
        if not last:
            v, v_next = v_next, v  # the transition wrote the new states into v_next
    return log_w
