"""Study 4's data streams: online SGD sees a fresh sample at every step (Refinetti & Goldt, ICML 2022).

The spiked-covariance data set itself is the library's ``pretrainlab.data.spiked_covariance``; this module turns a
model of the inputs into a sampler ``sample(n)`` that draws n new rows per call, and standardises MNIST the
"global" way the study compares against its ODEs.
"""
import numpy as np

from ...validation import as_generator


def spiked_sampler(spiked, rng=None, scale=1.0, dtype=np.float32):
    """``sample(n)`` → n fresh rows x = scale · (Σ_m c_m a_m + ξ) from a ``SpikedCovariance``'s model.

    The directions a_m are fixed (those of ``spiked``); c_m ~ N(0, s_m²) and unit noise ξ are drawn anew at
    every call, so online SGD sees a fresh sample each step (Refinetti & Goldt 2022). Covariance
    scale² · ``spiked.covariance``; pass scale = (tr Ω / D)^{-1/2} to standardise it globally (tr Ω/D = 1).
    Noise variance is taken from the covariance's bulk, i.e. the ``noise`` the data were made with.
    """
    rng = as_generator(rng)
    dirs = spiked.directions.astype(dtype)
    s = spiked.scales.astype(dtype)
    D = dirs.shape[1]
    noise = float(np.sqrt(max(np.trace(spiked.covariance) - np.sum(spiked.scales ** 2 * np.sum(
        spiked.directions ** 2, axis=1)), 0.0) / D))

    def sample(n):
        c = rng.standard_normal((n, len(s)), dtype=dtype) * s
        return (scale * (c @ dirs + dtype(noise) * rng.standard_normal((n, D), dtype=dtype))).astype(dtype)
    return sample


def gaussian_sampler(covariance, rng=None, dtype=np.float32):
    """``sample(n)`` → n fresh rows x ~ N(0, Ω): x = Ψ diag(√ρ) z with Ω = Ψ diag(ρ) Ψᵀ, z ~ N(0, I)."""
    rng = as_generator(rng)
    rho, Psi = np.linalg.eigh(np.asarray(covariance, dtype=np.float64))
    L = (Psi * np.sqrt(np.clip(rho, 0.0, None))).T.astype(dtype)  # x = z L

    def sample(n):
        return rng.standard_normal((n, L.shape[0]), dtype=dtype) @ L
    return sample


def resampler(x, rng=None):
    """``sample(n)`` → n rows of x drawn uniformly *with replacement* (online SGD on a finite data set)."""
    rng = as_generator(rng)
    return lambda n: x[rng.integers(0, len(x), n)]


def center_and_scale_globally(x):
    """(x − mean image) / s with the one number s that makes tr Ω/D = 1; returns (z, Ω) with Ω = zᵀz/n.

    "Globally standardised" as in study 4: each feature centred (the ODEs assume zero-mean inputs), all
    features divided by the same s = √(mean per-feature variance), so the spectrum's shape is MNIST's.
    """
    x = np.asarray(x, dtype=np.float64)
    z = x - x.mean(axis=0)
    z /= np.sqrt(np.mean(z ** 2))
    return z.astype(np.float32), z.T @ z / len(z)
