"""Data: the shipped MNIST, the synthetic sets the lab makes itself, and a minibatch iterator.

Nothing is downloaded: MNIST ships as ``data/mnist.npz`` (50k/10k/10k split, uint8 pixels; see
``data/README.md`` for source and licence).
"""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoint import read_npz
from .validation import as_generator, check_array, check_number, check_positive_int, is_real_kind

MNIST_KEYS = ("x_train", "y_train", "x_valid", "y_valid", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)


@dataclass
class Dataset:
    """A labelled train/validation/test split. x: (n, n_features) float, y: (n,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self):
        return self.x_train.shape[1]

    @property
    def n_classes(self):
        return int(self.y_train.max()) + 1


def default_mnist_path():
    """``$PRETRAINLAB_DATA/mnist.npz`` if that variable is set, else the repository's ``data/mnist.npz``."""
    if os.environ.get("PRETRAINLAB_DATA"):
        return Path(os.environ["PRETRAINLAB_DATA"]) / "mnist.npz"
    return Path(__file__).resolve().parent.parent / "data" / "mnist.npz"


def _read_npz(path):
    """The MNIST archive's arrays, each checked: images (n, 784) of integers 0…255, labels 0…9, one per image."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"path: MNIST file not found at {path}. The repository ships it as data/mnist.npz; "
            "set PRETRAINLAB_DATA to the folder holding mnist.npz if you moved it.")
    arrays = read_npz(path, "MNIST archive")
    missing = [k for k in MNIST_KEYS if k not in arrays]
    if missing:
        raise ValueError(f"path: {path} is not an MNIST archive, it lacks {missing}")
    for split in ("train", "valid", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 2 or x.shape[1] != 784:
            raise ValueError(f"path: {path}: x_{split} must have shape (n, 784), got {x.shape}")
        if not is_real_kind(x.dtype) or not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 255:
            raise ValueError(f"path: {path}: x_{split} must hold pixel values 0…255")
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
            raise ValueError(f"path: {path}: y_{split} must hold one label 0…9 per image ({len(x)})")
    return arrays


def load_mnist(path=None, *, binarize=None, threshold=0.5, rng=None, n_train=None, n_valid=None,
               n_test=None, dtype=np.float32):
    """Load the shipped MNIST as floats in [0, 1] (pixels / 255) with int64 labels.

    Parameters
    ----------
    path : str or Path, optional
        An .npz with keys x_train, y_train, x_valid, y_valid, x_test, y_test (default: the shipped file).
    binarize : {None, "threshold", "sample"}
        None keeps grey levels; "threshold" sets pixels > ``threshold`` to 1; "sample" draws each pixel
        once as a Bernoulli variable with its grey level as probability (the stochastic binarisation of
        Salakhutdinov & Murray 2008), using ``rng``.
    n_train, n_valid, n_test : int, optional
        Keep only the first n images of each split (a fixed, reproducible subset).
    dtype : float dtype of x (float32 by default: the fast paths use it).

    Returns
    -------
    Dataset with x_train (50000, 784), y_train, x_valid (10000, 784), y_valid, x_test, y_test.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float dtype (float32 or float64), got {dtype.name}")
    threshold = check_number(threshold, "threshold", low=0.0, high=1.0)  # pixels are in [0, 1]
    raw = _read_npz(default_mnist_path() if path is None else path)
    sizes = {"train": n_train, "valid": n_valid, "test": n_test}
    arrays = {}
    for split, n in sizes.items():
        x, y = raw[f"x_{split}"], raw[f"y_{split}"]
        if n is not None:
            n = check_positive_int(n, f"n_{split}")
            if n > len(x):
                raise ValueError(f"n_{split} must be ≤ {len(x)}, got {n}")
            x, y = x[:n], y[:n]
        arrays[f"x_{split}"] = x.astype(dtype) / dtype.type(255.0)
        arrays[f"y_{split}"] = y.astype(np.int64)
    if binarize is not None:
        if binarize == "threshold":
            for split in sizes:
                arrays[f"x_{split}"] = (arrays[f"x_{split}"] > threshold).astype(dtype)
        elif binarize == "sample":
            rng = as_generator(rng)
            for split in sizes:
                x = arrays[f"x_{split}"]
                arrays[f"x_{split}"] = (rng.random(x.shape, dtype=x.dtype) < x).astype(dtype)
        else:
            raise ValueError(f"binarize must be None, 'threshold' or 'sample', got {binarize!r}")
    return Dataset(**arrays)


def bars_and_stripes(size=3, dtype=np.float64):
    """Every bars-and-stripes pattern of a size×size grid (MacKay 2003), one per row.

    A pattern switches whole rows on (stripes) or whole columns on (bars); the all-off and all-on
    patterns arise both ways and are kept once, so there are 2·2^size − 2 patterns of size² pixels.
    Small enough (size ≤ 4) that an RBM's likelihood can be computed exactly.
    """
    size = check_positive_int(size, "size")
    codes = (np.arange(2 ** size)[:, None] >> np.arange(size)) & 1         # (2^size, size) bit patterns
    stripes = np.repeat(codes, size, axis=1)                              # rows on: pixel (r, c) = code[r]
    bars = np.tile(codes, (1, size))                                      # columns on: pixel (r, c) = code[c]
    patterns = np.unique(np.vstack([stripes, bars]), axis=0)
    return patterns.astype(dtype)


@dataclass
class SpikedCovariance:
    """Samples of x = Σ_m c_m a_m + noise·ξ and the population quantities that generated them.

    x : (n_samples, dim) samples.  directions : (n_spikes, dim) the a_m.  scales : (n_spikes,) the
    standard deviations of c_m.  covariance : (dim, dim) Ω = Σ_m scales_m² a_m a_mᵀ + noise² I.
    """

    x: np.ndarray
    directions: np.ndarray
    scales: np.ndarray
    covariance: np.ndarray


def spiked_covariance(n_samples, dim=500, n_spikes=4, scales=None, noise=1.0, rng=None,
                      normalize_directions=False):
    """Gaussian inputs with a few strong directions over an isotropic bulk (study 4's data).

    x = Σ_m c_m a_m + noise · ξ,  c_m ~ N(0, s_m²),  a_m ~ N(0, I_dim),  ξ ~ N(0, I_dim)

    Refinetti & Goldt (ICML 2022) use s_m = 2^m + 1 for m = 1, 2, ... (3, 5, 9, 17, 33), the default
    here. ``normalize_directions`` scales each a_m to unit length instead of norm ≈ √dim.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    dim = check_positive_int(dim, "dim")
    n_spikes = check_positive_int(n_spikes, "n_spikes")
    rng = as_generator(rng)
    if scales is None:
        scales = 2.0 ** np.arange(1, n_spikes + 1) + 1.0
    scales = check_array(np.atleast_1d(scales)[None, :], "scales", n_cols=n_spikes, dtype=np.float64)[0]
    if np.any(scales <= 0):
        raise ValueError(f"scales must be {n_spikes} positive finite numbers, got {scales}")
    noise = check_number(noise, "noise", low=0.0)
    directions = rng.standard_normal((n_spikes, dim))
    if normalize_directions:
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    c = rng.standard_normal((n_samples, n_spikes)) * scales
    x = c @ directions + noise * rng.standard_normal((n_samples, dim))
    covariance = (directions.T * scales ** 2) @ directions + noise ** 2 * np.eye(dim)
    return SpikedCovariance(x=x, directions=directions, scales=scales, covariance=covariance)


def minibatches(x, y=None, batch_size=100, rng=None, shuffle=True):
    """Yield ``(x_batch, y_batch)`` pairs covering every row once (the last batch may be smaller).

    Shuffling draws one permutation from ``rng`` (a numpy Generator) per pass, so the same seed
    gives the same order. ``y_batch`` is None when ``y`` is None.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    n = len(x)
    if y is not None and len(y) != n:
        raise ValueError(f"y must have {n} entries (one per row of x), got {len(y)}")
    order = as_generator(rng).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            idx = slice(start, start + batch_size)
        else:
            idx = order[start:start + batch_size]
        yield x[idx], (None if y is None else y[idx])


def standardize(x, mean=None, std=None, eps=1e-8):
    """Return ``(z, mean, std)`` with z = (x − mean) / std per feature; pass mean/std to reuse a fit.

    ``unstandardize(z, mean, std)`` undoes it. Used for Gaussian visible units, which the lab models
    with unit variance.
    """
    x = check_array(x, "x")
    eps = check_number(eps, "eps", low=0.0)
    mean = x.mean(axis=0) if mean is None else check_array(np.atleast_1d(mean)[None, :], "mean", n_cols=x.shape[1])[0]
    std = x.std(axis=0) + eps if std is None else check_array(np.atleast_1d(std)[None, :], "std", n_cols=x.shape[1])[0]
    if np.any(std <= 0):
        raise ValueError("std must be > 0 in every feature (a constant feature needs eps > 0)")
    return (x - mean) / std, mean, std


def unstandardize(z, mean, std):
    """x = z · std + mean, the inverse of ``standardize``."""
    return z * std + mean
