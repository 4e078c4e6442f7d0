"""The pieces of DrSAE's unrolled encoder as forward/backward pairs (Rolfe & LeCun, ICLR 2013, arXiv 1301.3775).

``model.py`` composes them into the model; each pair is gradient-checked on its own in ``tests/studies/drsae/test_drsae.py``.

    step:          z^t = max(0, a^t),   a^t = E x + S z^{t−1} − b          (paper, eq. 1)
    normalisation: ẑ = z^T / √(‖z^T‖² + ε²)                               (the classifier's input, paper §2)

``unrolled_forward`` / ``unrolled_backward`` chain T steps, and
``normalize_rows`` is the paper's preprocessing (each image scaled to unit L2 norm).
"""
import numpy as np

from ...validation import check_array

#: ε of the normalisation ẑ = z / √(‖z‖² + ε²): ε² = 1e-8 as in the author's Torch7 ``NormalizeTensor``.
NORM_EPS = 1e-4


def normalize_rows(x):
    """x_n / ‖x_n‖₂ for every row: the paper's preprocessing (each MNIST image scaled to unit L2 norm).

    x : (n, d) array.  Returns a new float array of x's float dtype (float64 for integer input).  An all-zero row
    has no direction and is returned as zeros (dividing by max(‖x_n‖, tiny) instead of 0).
    """
    x = check_array(x, "x")
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    return x / np.maximum(norms, np.finfo(x.dtype).tiny)


# ==================================================================================================
# Forward/backward pairs (cs231n style, as in ``layers.py``): forward returns (out, cache), backward takes
# ∂L/∂out and the cache and returns the gradients with respect to the forward's inputs.  Nothing is
# modified in place, so each pair can be checked against ``gradcheck.numerical_gradient_array``.
# ==================================================================================================

def drsae_step_forward(x_proj, z_prev, S, b):
    """One step of the unrolled encoder: z = max(0, E x + S z_prev − b)   (Rolfe & LeCun 2013, eq. 1).

    x_proj : (n, n_hidden), the input term x Eᵀ (the same at every step, so computed once by the caller).
    z_prev : (n, n_hidden), the previous iterate z^{t−1} (zeros at the first step).
    S : (n_hidden, n_hidden), the explaining-away matrix.   b : (n_hidden,), the thresholds.
    Returns z (n, n_hidden) and the cache (z_prev, S, mask) with mask = [a > 0] the step's ReLU mask.
    """
    a = z_prev @ S.T
    a += x_proj
    a -= b
    mask = a > 0
    return np.maximum(a, 0, out=a), (z_prev, S, mask)


def drsae_step_backward(dz, cache):
    """Gradients of one encoder step, with g = ∂L/∂a = dz ⊙ [a > 0]:

        dz_prev = g S,    dS = gᵀ z_prev,    db = −Σ_n g_n,    dx_proj = g.

    dz : (n, n_hidden), ∂L/∂z of this step.  Returns ``(dz_prev, dS, db, dx_proj)`` with the shapes of
    z_prev, S, b, x_proj.  At a = 0 the ReLU's subgradient 0 is used (gradient checks keep a away from 0).
    """
    z_prev, S, mask = cache
    g = dz * mask
    return g @ S, g.T @ z_prev, -g.sum(axis=0), g


def normalize_forward(z, eps=NORM_EPS):
    """ẑ_n = z_n / r_n with r_n = √(‖z_n‖² + ε²): the code fed to the classifier, z^T/‖z^T‖ (paper, §2).

    The ε (1e-4, i.e. ε² = 1e-8 as in the author's code) keeps an all-zero code at ẑ = 0 instead of 0/0; for
    any code with ‖z‖ ≫ ε it changes nothing measurable.  z : (n, k).  Returns ẑ (n, k) and cache (ẑ, r).
    """
    r = np.sqrt(np.einsum("ij,ij->i", z, z) + eps * eps)[:, None]
    z_hat = z / r
    return z_hat, (z_hat, r)


def normalize_backward(dz_hat, cache):
    """Gradient of ẑ = z / r, r = √(‖z‖² + ε²):  ∂ẑ_i/∂z_j = (δ_ij − ẑ_i ẑ_j)/r, so per row

        dz = (dẑ − ẑ (ẑ · dẑ)) / r.

    Scaling z barely moves ẑ, so dz is orthogonal to z up to the ε term: z·dz = (ẑ·dẑ) ε²/r².  This is the exact
    gradient of the ε-smoothed map, so the gradient check needs no special care.  Returns dz, the shape of dẑ.
    """
    z_hat, r = cache
    dz = dz_hat - z_hat * np.einsum("ij,ij->i", z_hat, dz_hat)[:, None]
    dz /= r
    return dz


def unrolled_forward(x_proj, S, b, n_steps):
    """T = n_steps encoder steps from z⁰ = 0 (``drsae_step_forward``): returns z^T and the list of step caches.

    x_proj : (n, n_hidden), E x.
    """
    z = np.zeros_like(x_proj)  # z⁰ = 0
    caches = []
    for _ in range(n_steps):
        z, cache = drsae_step_forward(x_proj, z, S, b)
        caches.append(cache)
    return z, caches


def unrolled_backward(dz, caches):
    """Back-propagation through time from δ^T = dz: for t = T..1, g^t = δ^t ⊙ [a^t > 0], δ^{t−1} = g^t S, and

        ∂L/∂S = Σ_t (g^t)ᵀ z^{t−1},   ∂L/∂b = −Σ_t Σ_n g^t_n,   ∂L/∂(E x) = Σ_t g^t.

    Returns ``(dS, db, dx_proj)``.
    """
    S = caches[0][1]
    dS, db, dx_proj = np.zeros_like(S), np.zeros(S.shape[0], S.dtype), np.zeros_like(dz)
    for cache in reversed(caches):
        dz, dS_t, db_t, dx_proj_t = drsae_step_backward(dz, cache)
        dS += dS_t
        db += db_t
        dx_proj += dx_proj_t
    return dS, db, dx_proj
