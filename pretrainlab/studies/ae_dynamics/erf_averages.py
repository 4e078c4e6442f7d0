r"""Closed-form Gaussian averages of the erf unit g(u) = erf(u/√2), for study 4's ODEs (``ode.py``).

Refinetti & Goldt, ICML 2022 (arXiv 2201.02115) use the "sigmoidal" unit g(u) = erf(u/√2); its averages
over jointly Gaussian pre-activations are in closed form, which is what makes the erf ODEs closed.

Closed-form Gaussian averages for g(u) = erf(u/√2)
--------------------------------------------------
For (u, v) ~ N(0, C) (Saad & Solla, Phys. Rev. E 52, 4225 (1995); Goldt et al., NeurIPS 2019), with
g′(u) = √(2/π) e^{−u²/2}, g″ = −u g′, g‴ = (u² − 1) g′:

    ⟨g(u) g(v)⟩  = (2/π) arcsin( C_uv / √((1+C_uu)(1+C_vv)) )
    ⟨g′(u)⟩       = √(2/π) / √(1+C_uu)              ⟨g‴(u)⟩ = −√(2/π) / (1+C_uu)^{3/2}
    ⟨g′(u) g′(v)⟩ = (2/π) / √((1+C_uu)(1+C_vv) − C_uv²)
    ⟨g″(u) g(v)⟩  = −C_uv/(1+C_uu) · ⟨g′(u) g′(v)⟩
    ⟨g′(u) w g(v)⟩ = (2/π) (C_wv(1+C_uu) − C_uw C_uv) / ((1+C_uu) √((1+C_uu)(1+C_vv) − C_uv²))   (I3)

(the last, Saad & Solla's I3, equals C_wu⟨g″_u g_v⟩ + C_wv⟨g′_u g′_v⟩ by Stein's lemma: the form the
ODE (2) uses; ⟨g′(u) w⟩ = C_uw⟨g″(u)⟩ = 0 for zero-mean fields.)
"""
import math

import numpy as np

from ...validation import is_real_kind

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _as_matrix(x, name, shape=None):
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 2-D numeric array, got {type(x).__name__}")
    x = np.asarray(x)
    if not is_real_kind(x.dtype):  # complex: the imaginary part would be dropped
        raise TypeError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {x.shape}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def _check_covariance(Q, name="Q"):
    Q = _as_matrix(Q, name)
    if Q.shape[0] != Q.shape[1]:
        raise ValueError(f"{name} must be square, got shape {Q.shape}")
    if not np.allclose(Q, Q.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(Q).max())):
        raise ValueError(f"{name} must be symmetric")
    return Q


def _erf_pair_averages(Q):
    """⟨g g⟩, ⟨g′⟩, ⟨g‴⟩, ⟨g′g′⟩, ⟨g″g⟩ for a checked Q, in one pass (the ODE calls this 4× per RK4 step)."""
    d = 1.0 + np.diag(Q)
    dd = np.outer(d, d)
    gg = (2 / math.pi) * np.arcsin(np.clip(Q / np.sqrt(dd), -1.0, 1.0))
    dgdg = (2 / math.pi) / np.sqrt(dd - Q ** 2)
    return {"gg": gg, "dg": _SQRT_2_OVER_PI / np.sqrt(d), "dddg": -_SQRT_2_OVER_PI / d ** 1.5,
            "dgdg": dgdg, "ddg_g": -(Q / d[:, None]) * dgdg}


def erf_avg_gg(Q):
    """⟨g(λ_k) g(λ_l)⟩ = (2/π) arcsin(Q_kl / √((1+Q_kk)(1+Q_ll))), g(u) = erf(u/√2), λ ~ N(0, Q) (Saad & Solla I2).

    Returns (K, K). The erf analogue of Q in the decoder equation (3).
    """
    return _erf_pair_averages(_check_covariance(Q))["gg"]


def erf_avg_dg(Q):
    """⟨g′(λ_k)⟩ = √(2/π)/√(1+Q_kk) for g(u) = erf(u/√2), λ ~ N(0, Q). Returns (K,)."""
    return _erf_pair_averages(_check_covariance(Q))["dg"]


def erf_avg_dddg(Q):
    """⟨g‴(λ_k)⟩ = −√(2/π)/(1+Q_kk)^{3/2} (g‴(u) = (u² − 1) g′(u)). Returns (K,)."""
    return _erf_pair_averages(_check_covariance(Q))["dddg"]


def erf_avg_dgdg(Q):
    """⟨g′(λ_k) g′(λ_l)⟩ = (2/π)/√((1+Q_kk)(1+Q_ll) − Q_kl²); the diagonal is ⟨g′(λ_k)²⟩. Returns (K, K)."""
    return _erf_pair_averages(_check_covariance(Q))["dgdg"]


def erf_avg_ddg_g(Q):
    """⟨g″(λ_k) g(λ_l)⟩ = −Q_kl/(1+Q_kk) · ⟨g′(λ_k)g′(λ_l)⟩ (g″ = −u g′; Stein's lemma). Returns (K, K), [k, l]."""
    return _erf_pair_averages(_check_covariance(Q))["ddg_g"]


def erf_avg_dg_lambda_g(Q):
    """⟨g′(λ_k) λ_m g(λ_l)⟩ for all k, m, l: Saad & Solla's I3 in closed form. Returns (K, K, K), [k, m, l].

    (2/π)(Q_ml(1+Q_kk) − Q_km Q_kl) / ((1+Q_kk)√((1+Q_kk)(1+Q_ll) − Q_kl²)); for k = l the two fields
    are one and the formula stays valid (it is the C_uv = C_uu limit).
    """
    Q = _check_covariance(Q)
    d = 1.0 + np.diag(Q)
    root = np.sqrt(np.outer(d, d) - Q ** 2)  # [k, l]
    num = Q[None, :, :] * d[:, None, None] - Q[:, :, None] * Q[:, None, :]  # [k, m, l]
    return (2 / math.pi) * num / (d[:, None, None] * root[:, None, :])


def erf_avg_dg_zz(q, c_uz1, c_uz2, c_z1z2):
    """⟨g′(u) z₁ z₂⟩ for jointly Gaussian zero-mean (u, z₁, z₂), Var u = q: the encoder's −v_k·x term in (2).

    Wick/Stein: Cov(z₁,z₂)⟨g′(u)⟩ + Cov(u,z₁)Cov(u,z₂)⟨g‴(u)⟩ = √(2/π)[c_z1z2/√(1+q) − c_uz1 c_uz2/(1+q)^{3/2}].
    Arguments broadcast.
    """
    q = np.asarray(q, dtype=np.float64)
    if np.any(q < 0):
        raise ValueError("q must be a variance (≥ 0)")
    return _SQRT_2_OVER_PI * (np.asarray(c_z1z2) / np.sqrt(1 + q) - np.asarray(c_uz1) * c_uz2 / (1 + q) ** 1.5)
