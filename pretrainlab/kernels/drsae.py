"""Numba kernels of DrSAE's unrolled encoder (Rolfe & LeCun 2013): the T-step recurrence and its BPTT.

=====================  ======================================================  ================================
kernel                 computes                                                NumPy reference
=====================  ======================================================  ================================
``recurrence_forward`` z^t = max(0, E x + S z^{t−1} − b), t = 1..T, all kept   ``drsae_steps.unrolled_forward``
``recurrence_backward`` g^t = δ^t ⊙ [z^t > 0], δ^{t−1} = g^t S, and the sums   ``drsae_steps.unrolled_backward``
                       ∂S = Σ (g^t)ᵀ z^{t−1}, ∂b = −Σ g^t, ∂(Ex) = Σ g^t
=====================  ======================================================  ================================

At small batch the NumPy path is T small matrix products per direction, each paying call overhead and
multiplying by the many zeros of a sparse code. The kernels visit only the active units: row r of step t adds
z^{t−1}_{r,j} · (column j of S) for the j with z_{r,j} > 0 (S is passed transposed, so that column is
contiguous), and the backward pass touches only the rows i with g_{r,i} ≠ 0 ([z^t > 0] is the ReLU mask, the
same as [a^t > 0]). The adapters ``unrolled_forward`` / ``unrolled_backward`` have the NumPy functions'
signatures and check every array before the loops see it.
"""
import numpy as np
from numba import njit

from .backend import JIT_OPTIONS, require


@njit(**JIT_OPTIONS)
def recurrence_forward(x_proj, S_T, b, zs):
    """zs[t] = max(0, x_proj + zs[t−1] Sᵀ − b) for t = 1..T; zs (T + 1, n, h) with zs[0] = 0 on entry.

    S_T is Sᵀ, C-contiguous: row j of S_T is column j of S, the weights unit j sends to every unit. Each step
    reads S_T once, row by row, and adds row j to every batch row r whose z^{t−1}_{r,j} is non-zero."""
    T1, n, h = zs.shape
    for t in range(1, T1):
        out, prev = zs[t], zs[t - 1]
        for r in range(n):
            for i in range(h):
                out[r, i] = x_proj[r, i] - b[i]
        for j in range(h):
            row = S_T[j]
            for r in range(n):
                zj = prev[r, j]
                if zj != 0.0:
                    o = out[r]
                    for i in range(h):
                        o[i] += zj * row[i]
        for r in range(n):
            for i in range(h):
                if out[r, i] < 0.0:
                    out[r, i] = 0.0


@njit(**JIT_OPTIONS)
def recurrence_backward(dz, zs, S, dS, db, dx_proj):
    """BPTT from δ^T = dz: for t = T..1, g = δ ⊙ [z^t > 0], dx_proj += g, db −= Σ_r g_r, dS += gᵀ z^{t−1},
    δ ← g S.  dz is used as scratch (g is written over it); dS, db, dx_proj are zeroed here. Each step reads S
    and writes dS once, row by row, visiting only the (r, i) with g_{r,i} ≠ 0."""
    T1, n, h = zs.shape
    dS[:] = 0.0
    db[:] = 0.0
    dx_proj[:] = 0.0
    g = dz
    delta = np.empty((n, h), dz.dtype)
    for t in range(T1 - 1, 0, -1):
        z, prev = zs[t], zs[t - 1]
        for r in range(n):
            for i in range(h):
                if z[r, i] <= 0.0:
                    g[r, i] = 0.0
                dx_proj[r, i] += g[r, i]
                db[i] -= g[r, i]
                delta[r, i] = 0.0
        for i in range(h):
            Si, dSi = S[i], dS[i]
            for r in range(n):
                gi = g[r, i]
                if gi != 0.0:
                    d, p = delta[r], prev[r]
                    for j in range(h):
                        d[j] += gi * Si[j]
                        dSi[j] += gi * p[j]
        g, delta = delta, g


# ---------------------------------------------------------------------------------------------- adapters
def unrolled_forward(x_proj, S, b, n_steps):
    """Kernel path of ``drsae_steps.unrolled_forward``: returns z^T and the cache (zs, S), zs (T + 1, n, h)."""
    dtype = S.dtype
    require(S, "S", dtype, ndim=2)
    h = S.shape[0]
    require(S, "S", dtype, shape=(h, h))
    x_proj = require(np.ascontiguousarray(x_proj), "x_proj", dtype, ndim=2)
    if x_proj.shape[1] != h:
        raise ValueError(f"x_proj must have {h} columns, got {x_proj.shape[1]}")
    require(b, "b", dtype, shape=(h,))
    zs = np.zeros((n_steps + 1, len(x_proj), h), dtype)
    recurrence_forward(x_proj, np.ascontiguousarray(S.T), b, zs)
    return zs[-1], (zs, S)


def unrolled_backward(dz, cache):
    """Kernel path of ``drsae_steps.unrolled_backward``: returns ``(dS, db, dx_proj)``."""
    zs, S = cache
    dtype = S.dtype
    require(zs, "zs", dtype, ndim=3)
    _, n, h = zs.shape
    require(S, "S", dtype, shape=(h, h))
    delta = require(dz, "dz", dtype, shape=(n, h)).copy()  # the kernel overwrites its δ
    dS, db, dx_proj = np.empty((h, h), dtype), np.empty(h, dtype), np.empty((n, h), dtype)
    recurrence_backward(delta, zs, S, dS, db, dx_proj)
    return dS, db, dx_proj
