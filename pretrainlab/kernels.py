"""Numba kernels for the hot loops, and the switch that decides when they run.

Each kernel is a faster path to numbers the NumPy code already computes; the NumPy code stays the
reference a student reads first, and ``tests/test_kernels.py`` checks every kernel against it:

=====================  ====================================================  ===========================
kernel                 computes                                              NumPy reference
=====================  ====================================================  ===========================
``sample_hiddens``     ph = σ(vW + b_hid), h = [u < ph]                      ``BernoulliRBM.sample_h_given_v``
``gibbs_chain``        k block-Gibbs steps h → v → h → … → v_k, ph_k          ``BernoulliRBM.gibbs_vhv``
``cd_gradient``        v_kᵀph_k/n_k − v₀ᵀph₀/n₀ and the bias terms            ``ContrastiveDivergence.__call__``
``sgd_step``           u ← μu − η(g + λθ), θ ← θ + u, in one pass             ``train.SGD.step``
``ais_step``           AIS weight update and Gibbs transition at β             ``likelihood.ais_step``
``dense_forward``      h = f(h_in W + b), one MLP layer                        ``layers.affine_forward`` + f
``dense_backward``     δ, h_inᵀδ, Σδ and δWᵀ in one pass over W               ``layers.affine_backward`` + f'
``_online_ae_kernel``  online SGD of study 4's autoencoder (tied/untied,       ``online_ae_grads``
                       ReLU/erf/linear, optionally truncated), batch 1
=====================  ====================================================  ===========================

Why kernels help. At batch 100 a CD step is a handful of matrix products and NumPy hands them to BLAS,
which is as fast as the machine allows: the NumPy path is used. At batch 1–20 each NumPy call costs a few
microseconds of overhead and every intermediate array is written to memory and read back; a kernel does
the whole step in a few loops over W, skips the zero entries of binary states (most pixels and samples
are 0), and allocates nothing.

Randomness. A kernel never draws random numbers: the caller draws the uniforms with the model's
``numpy.random.Generator`` in exactly the order the NumPy path draws them (``rng.random(shape,
dtype)``, one array per layer and step, see ``layers.bernoulli_sample``) and passes them in. Same seed,
same samples, whichever path runs.

The switch. ``set_backend("numpy")`` (or ``with backend("numpy"):``, or the environment variable
``PRETRAINLAB_BACKEND=numpy``) forces the NumPy path everywhere, ``"numba"`` forces the kernels, and
``"auto"`` (the default) runs a kernel only for the batch sizes where ``pretrainlab bench`` measured it
faster. Numba itself is imported, and the kernels compiled, on the first call of a kernel, never at
``import pretrainlab``; the machine code is cached on disk (``cache=True``), so later runs load it
instead of compiling.
"""
import functools
import math
import os
from contextlib import contextmanager

import numpy as np

from .validation import check_array

BACKENDS = ("auto", "numpy", "numba")
_backend = os.environ.get("PRETRAINLAB_BACKEND", "auto")
if _backend not in BACKENDS:
    raise ValueError(f"PRETRAINLAB_BACKEND must be one of {BACKENDS}, got {_backend!r}")

#: Largest batch for which the CD kernels run under the "auto" backend. Measured for a 784→500 RBM on
#: MNIST, one BLAS thread: the kernel step is 1.6× faster than NumPy at batch 10, 1.2× at 20, even at
#: ~30, slower beyond; BLAS on two threads moves the crossover down, so 20 is kept (a CD-1 step at
#: batch 100 is five matrix products that BLAS runs as fast as the machine allows).
CD_KERNEL_MAX_BATCH = 20

#: Largest batch for which ``MLP.loss_and_grads`` runs the dense-layer kernels under "auto". Measured for a
#: 784-500-500-10 sigmoid network, one BLAS thread, gradient + SGD step: 3× faster at batch 1, even at 10,
#: slower at 20 and beyond.
MLP_KERNEL_MAX_BATCH = 10

#: Largest number of runs for which ``likelihood.ais_log_partition`` uses ``ais_step`` under "auto". Measured on
#: a 784×500 RBM, one BLAS thread: 1.8× faster than NumPy at 2 runs, 1.15× at 5, slower from 10 (the
#: σ, expm1 and log1p of every hidden unit, which NumPy vectorises, then dominate the kernel).
AIS_KERNEL_MAX_RUNS = 5


def set_backend(name):
    """Choose where the hot loops run: "auto" (measured choice), "numpy" (always) or "numba" (always)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"name must be one of {BACKENDS}, got {name!r}")
    _backend = name


def get_backend():
    return _backend


@contextmanager
def backend(name):
    """``with backend("numpy"): ...`` runs a block on the chosen backend, then restores the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def use_kernel(n_rows=0, fastest_up_to=math.inf):
    """Whether a batch of ``n_rows`` should go to a kernel measured faster up to ``fastest_up_to`` rows."""
    return _backend == "numba" or (_backend == "auto" and n_rows <= fastest_up_to)


# ---------------------------------------------------------------------------------------------- lazy JIT
_KERNEL_NAMES = []


def kernel(fn):
    """Mark ``fn`` as a Numba kernel, compiled with ``numba.njit(cache=True)`` when first called.

    Until then the module-level name holds this thin wrapper; the first call of any kernel imports
    Numba and replaces every kernel's name by its compiled dispatcher (kernels may call each other, and
    Numba resolves those calls through the module's globals). ``fn.py_func`` is the plain Python loop.
    fastmath "reassoc"/"contract" lets LLVM vectorise the sums (float32 rounding may differ from BLAS
    in the last bits, which the tests allow for).
    """
    _KERNEL_NAMES.append(fn.__name__)

    @functools.wraps(fn)
    def first_call(*args):
        _compile_all()
        return globals()[fn.__name__](*args)

    first_call.py_func = fn
    return first_call


def _compile_all():
    import numba

    for name in _KERNEL_NAMES:
        fn = globals()[name]
        if not isinstance(fn, numba.core.registry.CPUDispatcher):
            globals()[name] = numba.njit(cache=True, fastmath={"reassoc", "contract"})(fn.py_func)


# ---------------------------------------------------------------------------------------------- optimiser
@kernel
def sgd_step(param, velocity, grad, lr, momentum, weight_decay):
    """Momentum SGD with L2 decay, in place, in one pass over the arrays (flattened, C-contiguous):

        velocity ← momentum · velocity − lr · (grad + weight_decay · param),   param ← param + velocity.

    NumPy reference: ``train.SGD.step``, which makes four passes over memory (scale, scale-and-subtract,
    add) where this makes one — the update of a 784×500 matrix is bandwidth-bound, so this is ~3× faster.
    """
    for i in range(param.size):
        u = momentum * velocity[i] - lr * (grad[i] + weight_decay * param[i])
        velocity[i] = u
        param[i] += u


# ---------------------------------------------------------------------------------------------- RBM
@kernel
def _sigmoid(x):
    # 1 / (1 + e^{-x}): exp overflows to inf for x < -88, giving exactly 0, never NaN. The float32 literals
    # keep a float32 x in float32 (float64 ones would promote the exp and the division: ~5× slower).
    return np.float32(1.0) / (np.float32(1.0) + math.exp(-x))


@kernel
def _affine_rows(v, W, b, out):
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


@kernel
def _propup(v, W, b_hid, ph):
    """ph = σ(vW + b_hid) (Hinton 2010, eq. 7), written into ``ph`` (n, n_hidden)."""
    _affine_rows(v, W, b_hid, ph)
    for r in range(ph.shape[0]):
        for j in range(ph.shape[1]):
            ph[r, j] = _sigmoid(ph[r, j])


@kernel
def _propdown(h, W, scale, bias, pv):
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
            pv[r, i] = _sigmoid(scale * s0 + bias[i])
            pv[r + 1, i] = _sigmoid(scale * s1 + bias[i])
        if n % 2:
            s = Wi[0] * h[n - 1, 0]
            for j in range(1, Wi.shape[0]):
                s += Wi[j] * h[n - 1, j]
            pv[n - 1, i] = _sigmoid(scale * s + bias[i])


@kernel
def _sample(p, u, out):
    """out = [u < p]: a Bernoulli sample of p from the given uniforms (``layers.bernoulli_sample``)."""
    n, m = p.shape
    for b in range(n):
        for j in range(m):
            out[b, j] = 1.0 if u[b, j] < p[b, j] else 0.0


@kernel
def sample_hiddens(v, W, b_hid, u, ph, h):
    """ph = p(h = 1 | v) = σ(vW + b_hid) and the sample h = [u < ph], into ``ph`` and ``h``.

    v (n, n_visible); W (n_visible, n_hidden); u, ph, h (n, n_hidden).
    NumPy reference: ``BernoulliRBM.sample_h_given_v`` (its uniforms are ``rng.random(ph.shape)``).
    """
    _propup(v, W, b_hid, ph)
    _sample(ph, u, h)


@kernel
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
        _propdown(h, W, np.float32(1.0), b_vis, pv_first if s == 0 else v)  # keeps float32 models in float32
        _sample(pv_first if s == 0 else v, u_v[s], v)
        _propup(v, W, b_hid, ph)
        if s < k - 1:
            _sample(ph, u_h[s], h)


@kernel
def cd_gradient(v0, ph0, vk, phk, gW, gb_vis, gb_hid):
    """The CD estimate of −∂ log p / ∂θ (Hinton 2002), written into gW, gb_vis, gb_hid:

        gW = v_kᵀph_k / n_k − v₀ᵀph₀ / n₀,   gb_vis = mean(v_k) − mean(v₀),   gb_hid = mean(ph_k) − mean(ph₀).

    NumPy reference: the gradient in ``ContrastiveDivergence.__call__``.
    """
    gW[:, :] = 0.0
    gb_vis[:] = 0.0
    gb_hid[:] = 0.0
    _add_correlations(vk, phk, np.float32(1.0 / vk.shape[0]), gW, gb_vis, gb_hid)
    _add_correlations(v0, ph0, np.float32(-1.0 / v0.shape[0]), gW, gb_vis, gb_hid)


@kernel
def _add_correlations(v, ph, scale, gW, gb_vis, gb_hid):
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


# ---------------------------------------------------------------------------------------------- AIS
@kernel
def ais_step(v, log_w, beta_prev, beta, W, b_vis, b_hid, a, u_h, r_v, transition, x, h, v_out):
    """One step of annealed importance sampling for all runs, binary visible units (Salakhutdinov & Murray 2008):

        log_w += (β − β') v·(b_vis − a) + Σ_j log1p(σ(β' x_j) · expm1((β − β') x_j)),   x = vW + b_hid,

    then, if ``transition``, one Gibbs step at β: h = [u_h < σ(β x)], v_out = [r_v < σ(β hWᵀ + (1−β) a + β b_vis)].
    v, v_out, r_v (n_runs, n_visible); x, h, u_h (n_runs, n_hidden); log_w (n_runs,) float64; b_vis, a float64.
    The log weights are accumulated in float64. NumPy reference: ``likelihood.ais_step``.
    """
    _affine_rows(v, W, b_hid, x)
    d_beta = beta - beta_prev
    for r in range(v.shape[0]):
        vis = 0.0
        for i in range(v.shape[1]):
            vis += v[r, i] * (b_vis[i] - a[i])
        sp = 0.0
        for j in range(x.shape[1]):  # softplus(βx) − softplus(β'x), in the cancellation-free form
            xj = np.float64(x[r, j])
            sp += math.log1p(_sigmoid(beta_prev * xj) * math.expm1(d_beta * xj))
        log_w[r] += d_beta * vis + sp
    if transition:
        for r in range(x.shape[0]):
            for j in range(x.shape[1]):
                h[r, j] = 1.0 if u_h[r, j] < _sigmoid(beta * x[r, j]) else 0.0
        _propdown(h, W, beta, (1.0 - beta) * a + beta * b_vis, v_out)
        _sample(v_out, r_v, v_out)


# ---------------------------------------------------------------------------------------------- MLP
#: unit codes of ``dense_forward`` / ``dense_backward``; the output layer of an MLP is "linear" (logits)
DENSE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


@kernel
def dense_forward(h_in, W, b, act, h_out):
    """h_out = f(h_in W + b), one layer of an MLP, with f = DENSE_ACTIVATIONS[act].

    h_in (n, n_in), W (n_in, n_out), b (n_out,), h_out (n, n_out). Zero inputs (pixels, ReLU units) are skipped.
    NumPy reference: ``layers.affine_forward`` followed by the activation's forward (``mlp.MLP._forward``).
    """
    n, n_in = h_in.shape
    n_out = W.shape[1]
    for r in range(n):
        for j in range(n_out):
            h_out[r, j] = b[j]
    for i in range(n_in):
        for r in range(n):
            x = h_in[r, i]
            if x != 0.0:
                for j in range(n_out):
                    h_out[r, j] += x * W[i, j]
    for r in range(n):
        for j in range(n_out):
            a = h_out[r, j]
            if act == 0:
                h_out[r, j] = _sigmoid(a)
            elif act == 1:
                h_out[r, j] = math.tanh(a)
            elif act == 2:
                h_out[r, j] = max(a, 0.0)


@kernel
def dense_backward(dh_out, h_out, act, h_in, W, need_dx, dh_in, gW, gb):
    """Backpropagation through h_out = f(h_in W + b), in one pass over the rows of W:

        δ = dh_out ⊙ f'(·)  (written over dh_out),   gW = h_inᵀ δ,   gb = Σ_r δ_r,   dh_in = δ Wᵀ (if need_dx).

    f' is computed from the output: σ' = h(1 − h), tanh' = 1 − h², relu' = [h > 0], linear' = 1.
    Row i of W is read, and row i of gW written, once for the whole batch; zero inputs are skipped.
    NumPy reference: the activation's backward and ``layers.affine_backward`` (``mlp.MLP.loss_and_grads``).
    """
    n, n_out = dh_out.shape
    n_in = W.shape[0]
    for r in range(n):
        for j in range(n_out):
            h = h_out[r, j]
            if act == 0:
                dh_out[r, j] *= h * (1.0 - h)
            elif act == 1:
                dh_out[r, j] *= 1.0 - h * h
            elif act == 2 and h <= 0.0:
                dh_out[r, j] = 0.0
    for j in range(n_out):
        gb[j] = 0.0
    for r in range(n):
        for j in range(n_out):
            gb[j] += dh_out[r, j]
    for i in range(n_in):
        for j in range(n_out):
            gW[i, j] = 0.0
        for r in range(n):
            x = h_in[r, i]
            if x != 0.0:
                for j in range(n_out):
                    gW[i, j] += x * dh_out[r, j]
        if need_dx:
            for r in range(n):
                s = W[i, 0] * dh_out[r, 0]  # (not 0.0: a float64 literal would make the sum float64)
                for j in range(1, n_out):
                    s += W[i, j] * dh_out[r, j]
                dh_in[r, i] = s


# ---------------------------------------------------------------------------------------------- study 4
# Online SGD (batch 1) of the shallow autoencoder of Refinetti & Goldt (ICML 2022):
#
#     λ = (xW + b)/√D,   h = g(λ),   x̂ = V h,   L = ‖x̂ − x‖² / (2D),
#
# W, V (D, K); tied when V is W (the very same array). g is "linear", "relu" or "erf" (their sigmoidal unit
# g(u) = erf(u/√2)). With e = x̂ − x the gradients are
#
#     ∂L/∂V[:, k] = e h_k / D,    ∂L/∂h_k = V[:, k]·e / D,    ∂L/∂λ = ∂L/∂h ⊙ g'(λ),
#     ∂L/∂W = x ⊗ ∂L/∂λ / √D,     ∂L/∂b = ∂L/∂λ / √D.
#
# The *truncated* variant (Sanger 1989's generalised Hebbian rule in the linear case) replaces the K×K Gram
# matrices in these gradients by their lower triangles: unit k sees only the partial reconstruction error
# e⁽ᵏ⁾ = Σ_{a≤k} h_a V[:, a] − x of the units before it and itself, so unit k learns principal component k
# itself rather than a rotation of the leading subspace. The step is
# W ← W − lr_W ∂L/∂W, V ← V − lr_V ∂L/∂V, b ← b − lr_b ∂L/∂b (study 4 uses lr_W = η/D); tied, both
# gradients land on the one array (lr_V = 0 keeps only the encoder path, the "detached" variant).
AE_ACTIVATIONS = ("linear", "relu", "erf")
_erf = np.frompyfunc(math.erf, 1, 1)


def _check_activation(activation):
    if activation not in AE_ACTIVATIONS:
        raise ValueError(f"activation must be one of {AE_ACTIVATIONS}, got {activation!r}")
    return AE_ACTIVATIONS.index(activation)


def online_ae_grads(x, W, V, b, activation="relu", truncated=False):
    """Loss and gradients of the study-4 autoencoder for one sample x (D,): ``(L, {"W", "V", "b"})``.

    The NumPy reference of ``online_ae_sgd``; for a tied model (V is W) the gradient of W is
    ``grads["W"] + grads["V"]``.
    """
    _check_activation(activation)
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

    Returns the loss before each step, (n,). Runs ``_online_ae_kernel`` unless the backend is "numpy",
    in which case each step is ``online_ae_grads`` followed by the three NumPy updates.
    """
    act = _check_activation(activation)
    W = check_array(W, "W")
    if V.shape != W.shape or b.shape != (W.shape[1],):
        raise ValueError(f"V must have W's shape {W.shape} and b shape ({W.shape[1]},), got {V.shape} and {b.shape}")
    X = check_array(X, "X", n_cols=W.shape[0], dtype=W.dtype)
    losses = np.empty(len(X), X.dtype)
    if use_kernel():
        t = W.dtype.type
        _online_ae_kernel(X, W, V, b, t(lr_W), t(lr_V), t(lr_b), act, bool(truncated), V is W, losses)
        return losses
    for n, x in enumerate(X):
        losses[n], g = online_ae_grads(x, W, V, b, activation, truncated)
        W -= lr_W * g["W"]
        V -= lr_V * g["V"]  # tied (V is W): both gradients reach the shared array
        b -= lr_b * g["b"]
    return losses


@kernel
def _online_ae_kernel(X, W, V, b, lr_W, lr_V, lr_b, act, truncated, tied, losses):
    """The loop of ``online_ae_sgd``: two passes over the weights per sample.

    Pass 1 (``_ae_errors`` / ``_ae_errors_truncated``) computes each row's reconstruction error and
    accumulates ∂L/∂h; pass 2 (``_ae_encoder_step``, preceded by ``_ae_decoder_step`` unless the decoder's
    share can ride along) updates row i of the weights and at once adds row i's share of the *next* sample's
    λ, so each row is read while it is in cache. Every variant (tied or not, truncated or not) picks its
    passes *outside* the loops over rows: a branch inside them would keep LLVM from vectorising the short
    loops over k, which costs ~1.7× in speed.
    """
    n, D = X.shape
    K = W.shape[1]
    sqrt_d, inv_d = np.float32(math.sqrt(D)), np.float32(1.0 / D)
    lam, h, dh, dlam = np.zeros(K, W.dtype), np.empty(K, W.dtype), np.empty(K, W.dtype), np.empty(K, W.dtype)
    e = np.empty(D, W.dtype)  # e_i, the reconstruction error (plain)
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
        if truncated:
            loss = _ae_errors_truncated(x, V, h, E, dlam)
        else:
            loss = _ae_errors(x, V, h, e, dlam)
        losses[t] = loss / (2 * D)
        for k in range(K):
            dlam[k] = dlam[k] * inv_d * dh[k] / sqrt_d  # now ∂L/∂λ / √D = ∂L/∂b
            lam[k] = 0.0
        if not merge_decoder and c != 0.0:
            _ae_decoder_step(V, E if truncated else e.reshape(D, 1), h, c)
        # (np.float32(0.0), not 0.0: a float64 literal would turn the whole update into float64 arithmetic)
        _ae_encoder_step(W, x, X[min(t + 1, n - 1)], lr_W, dlam, e, c if merge_decoder else np.float32(0.0), h, lam)
        for k in range(K):
            b[k] -= lr_b * dlam[k]


@kernel
def _ae_errors(x, V, h, e, dlam):
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


@kernel
def _ae_errors_truncated(x, V, h, E, dlam):
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


@kernel
def _ae_decoder_step(V, E, h, c):
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


@kernel
def _ae_encoder_step(W, x, x_next, lr_W, dlam, e, c, h, lam):
    """Pass 2: W[i] −= lr_W x_i ∂L/∂λ/√D + c e_i h (c = lr_V / D carries a tied decoder's share, else 0),
    then λ_next += x'_i W[i] for the next sample x'."""
    for i in range(W.shape[0]):
        Wi = W[i]
        a, ce, xi = lr_W * x[i], c * e[i], x_next[i]
        for k in range(Wi.shape[0]):
            w = Wi[k] - (a * dlam[k] + ce * h[k])
            Wi[k] = w
            lam[k] += xi * w
