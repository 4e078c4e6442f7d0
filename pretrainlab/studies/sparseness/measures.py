"""Sparseness of hidden activations: arrays in, numbers out (study 1).

Study 1 asks whether unsupervised pretraining makes hidden codes sparser (Li, Luo, Yang & Yuan, "Why does the
unsupervised pretraining encourage moderate-sparseness?", arXiv 1312.5813, 2013/2014; the journal version, Li et
al., "Sparseness Analysis in the Pretraining of Deep Neural Networks", IEEE TNNLS 28(6):1425–1438, 2017, measures
sparseness with the L1 norm).  The arXiv versions' exact measure is not certain (most likely Hoyer's), so the
experiment reports several and this module computes them all:

* ``hoyer``          Hoyer (2004): (√n − ‖a‖₁/‖a‖₂)/(√n − 1), in [0, 1], scale-invariant.
* ``gini``           the Gini index (Hurley & Rickard 2009), in [0, 1 − 1/n], scale-invariant.
* ``l1_norm``        ‖a‖₁ (the TNNLS paper's measure; *not* scale-invariant).
* ``mean_activation`` ‖a‖₁/n, the mean magnitude.
* ``fraction_below`` the fraction of units with |a_j| ≤ τ (τ = 0: the exact zeros of ReLU units).

Two directions, after Willmore & Tolhurst ("Characterizing the sparseness of neural codes", Network 12:255–270,
2001).  For activations A of shape (n_samples, n_units):

* *population* sparseness: one number per sample, over its units (axis=1) — how few units code each input;
* *lifetime* sparseness: one number per unit, over the samples (axis=0) — how rarely each unit responds.

``population_hoyer(A)`` and ``lifetime_hoyer(A)`` (and the Gini pair) name the two; ``summary(A)`` returns every
measure of one layer as a dict of plain floats, which the experiment records per layer at each stage
(initialisation, after pretraining, after fine-tuning).

All measures use magnitudes |a_j|: a tanh unit at −0.9 is as active as one at +0.9.
"""
import numbers

import numpy as np

from ...validation import check_array, check_number

#: Hoyer and Gini are 0/0 on an all-zero vector; this is the value they report there (see ``hoyer``).
ZERO_VALUE = 1.0


# -------------------------------------------------------------------------------------------- input checks
def _as_activations(a, name):
    """``a`` as a finite float array with at least one dimension, or a TypeError/ValueError naming ``name``."""
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{name} must be a numeric array, got {type(a).__name__}")
    a = np.asarray(a)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float64)  # ints and bools (binary states) are measured as floats
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _check_axis(axis, ndim, allow_none=False):
    """Return ``axis`` as a non-negative int (or None where allowed), or raise naming ``axis``."""
    if axis is None and allow_none:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer{' or None' if allow_none else ''}, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in {-ndim}..{ndim - 1} for an array with {ndim} dimension(s), got {axis}")
    return int(axis) % ndim


def _check_zero_value(zero_value):
    if isinstance(zero_value, bool) or not isinstance(zero_value, numbers.Real):
        raise TypeError(f"zero_value must be a real number (NaN allowed), got {type(zero_value).__name__}")
    return float(zero_value)


def _check_threshold(threshold):
    return check_number(threshold, "threshold", low=0.0)


def _magnitudes(a, axis, zero_value):
    """|a| checked, with its axis and the all-zero value checked too (what both scale-free measures start from)."""
    x = np.abs(_as_activations(a, "a"))
    return x, _check_axis(axis, x.ndim), _check_zero_value(zero_value)


def _scalar_or_array(x):
    """A 0-d result (the measure of one 1-D vector) as a Python float, anything else as an array."""
    return float(x) if np.ndim(x) == 0 else x


# -------------------------------------------------------------------------------------------- Hoyer
def hoyer(a, axis=-1, zero_value=ZERO_VALUE):
    """Hoyer's sparseness of the vectors of ``a`` along ``axis``:

        H(a) = (√n − ‖a‖₁/‖a‖₂) / (√n − 1),      ‖a‖₁ = Σ_j |a_j|,  ‖a‖₂ = √(Σ_j a_j²),

    (P. O. Hoyer, "Non-negative matrix factorization with sparseness constraints", JMLR 5:1457–1469, 2004, eq. 1).
    By Cauchy–Schwarz 1 ≤ ‖a‖₁/‖a‖₂ ≤ √n, so H ∈ [0, 1]: H = 1 exactly when at most one entry is non-zero
    (one-hot), H = 0 exactly when all |a_j| are equal (a constant vector).  With k equal non-zero entries
    ‖a‖₁/‖a‖₂ = √k, so H = (√n − √k)/(√n − 1).  H(c·a) = H(a) for every c ≠ 0: the measure sees the *shape*
    of the code, not its size (which is why study 1 also reports ``mean_activation``).

    Parameters
    ----------
    a : array_like, at least 1-D, with at least 2 entries along ``axis``
        (n = 1 makes the denominator √n − 1 zero).
    axis : int
        The axis the vectors lie along.  For A (n_samples, n_units): axis=1 is population sparseness (over the
        units of each sample), axis=0 lifetime sparseness (over the samples, per unit); see
        ``population_hoyer`` and ``lifetime_hoyer``.
    zero_value : float
        The value reported for an all-zero vector, where the formula is 0/0 (default 1).  Why 1: H = 1 exactly
        on the vectors with at most one non-zero entry, and an all-zero vector (a silent ReLU sample, a dead
        unit) has none — no unit carries the code, the sparsest code there is.  The formula has no limit at 0
        (ε·one-hot → 1, ε·constant → 0), so any choice is a convention; pass ``np.nan`` to exclude such vectors
        (and average with ``np.nanmean``).  ``summary`` counts them separately so they cannot hide in a mean.

    Returns
    -------
    float for a 1-D ``a``; otherwise an array with ``axis`` removed.
    """
    x, axis, zero_value = _magnitudes(a, axis, zero_value)
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"a must have at least 2 entries along axis {axis} (Hoyer divides by √n − 1), got {n}")
    peak = x.max(axis=axis, keepdims=True)
    silent = peak == 0
    # ‖a‖₁/‖a‖₂ is scale-free, so divide by the peak first: the squares then lie in [0, 1] and can neither
    # overflow (|a| ~ 1e200) nor underflow to 0 (|a| ~ 1e-200), which would turn the ratio into inf or NaN.
    x = x / np.where(silent, 1, peak)
    l1 = x.sum(axis=axis)
    l2 = np.sqrt(np.square(x).sum(axis=axis))
    silent = np.squeeze(silent, axis=axis)
    ratio = l1 / np.where(silent, 1, l2)
    sqrt_n = np.sqrt(n)
    h = (sqrt_n - ratio) / (sqrt_n - 1)
    # Rounding can put a one-hot's ratio at 1 − 1e-16, i.e. H a hair above 1: clip to the exact range.
    h = np.clip(h, 0.0, 1.0)
    h = np.where(silent, zero_value, h)
    return _scalar_or_array(h)


def population_hoyer(A, zero_value=ZERO_VALUE):
    """Hoyer sparseness of each sample's code over its units: ``hoyer(A, axis=1)``.

    A : (n_samples, n_units) activations of one layer, n_units ≥ 2.  Returns (n_samples,).
    """
    A = check_array(A, "A")
    return hoyer(A, axis=1, zero_value=zero_value)


def lifetime_hoyer(A, zero_value=ZERO_VALUE):
    """Hoyer sparseness of each unit's responses over the samples: ``hoyer(A, axis=0)``.

    A : (n_samples, n_units) activations of one layer, n_samples ≥ 2.  Returns (n_units,).
    """
    A = check_array(A, "A")
    return hoyer(A, axis=0, zero_value=zero_value)


# -------------------------------------------------------------------------------------------- Gini
def gini(a, axis=-1, zero_value=ZERO_VALUE):
    """The Gini index of the magnitudes c_j = |a_j| along ``axis``:

        G(c) = 1 − 2 Σ_{k=1}^{n} (c_(k) / ‖c‖₁) · (n − k + ½)/n,      c_(1) ≤ c_(2) ≤ … ≤ c_(n) (sorted),

    (N. Hurley & S. Rickard, "Comparing measures of sparsity", IEEE Trans. Inf. Theory 55(10):4723–4741, 2009,
    eq. for S_Gini; they show it is the only one of the common measures with all six of their sparsity
    properties).  It equals the familiar mean-absolute-difference form Σ_i Σ_j |c_i − c_j| / (2 n ‖c‖₁), so it
    is 0 for a constant vector and 1 − 1/n for a one-hot vector (not 1: with this normalisation the maximum
    approaches 1 only as n grows — 0.998 for 500 units).  G(s·c) = G(c) for s ≠ 0.  A second scale-invariant
    measure beside ``hoyer``: Hoyer weighs the largest entries most (through ‖·‖₂), Gini looks at the ranks.

    Parameters
    ----------
    a : array_like, at least 1-D.
    axis : int
        The axis the vectors lie along (axis=1 population, axis=0 lifetime for A (n_samples, n_units)).
    zero_value : float
        Value for an all-zero vector, where G is 0/0 (default 1, as for ``hoyer`` and for the same reason).

    Returns
    -------
    float for a 1-D ``a``; otherwise an array with ``axis`` removed.
    """
    c, axis, zero_value = _magnitudes(a, axis, zero_value)
    c = np.sort(np.moveaxis(c, axis, -1), axis=-1)  # sorted ascending along the last axis (a copy)
    n = c.shape[-1]
    total = c.sum(axis=-1)
    silent = total == 0
    k = np.arange(1, n + 1)
    weights = (n - k + 0.5) / n  # the smallest entries get the largest weights
    g = 1.0 - 2.0 * (c @ weights) / np.where(silent, 1, total)
    # Rounding can push a constant vector's G a hair below 0.
    g = np.clip(g, 0.0, 1.0)
    g = np.where(silent, zero_value, g)
    return _scalar_or_array(g)


def population_gini(A, zero_value=ZERO_VALUE):
    """Gini index of each sample's code over its units: ``gini(A, axis=1)``.  A : (n_samples, n_units)."""
    A = check_array(A, "A")
    return gini(A, axis=1, zero_value=zero_value)


def lifetime_gini(A, zero_value=ZERO_VALUE):
    """Gini index of each unit's responses over the samples: ``gini(A, axis=0)``.  A : (n_samples, n_units)."""
    A = check_array(A, "A")
    return gini(A, axis=0, zero_value=zero_value)


# -------------------------------------------------------------------------------------------- size-based measures
def l1_norm(a, axis=-1):
    """‖a‖₁ = Σ_j |a_j| along ``axis`` (``axis=None``: over every entry).

    The measure of the TNNLS version of study 1 (Li et al. 2017): smaller ‖h‖₁ = sparser.  Unlike Hoyer and Gini
    it grows with the layer's width and with the activations' scale, so compare it only between codes of the
    same width and unit type.  Returns a float for a 1-D ``a`` (or axis=None), else an array.
    """
    x = _as_activations(a, "a")
    axis = _check_axis(axis, x.ndim, allow_none=True)
    return _scalar_or_array(np.abs(x).sum(axis=axis))


def mean_activation(a, axis=-1):
    """The mean magnitude ‖a‖₁/n = (1/n) Σ_j |a_j| along ``axis`` (``axis=None``: over every entry).

    For sigmoid units (a_j ∈ (0, 1)) this is the mean firing rate ρ̂ of the sparse-autoencoder literature.
    Returns a float for a 1-D ``a`` (or axis=None), else an array.
    """
    x = _as_activations(a, "a")
    axis = _check_axis(axis, x.ndim, allow_none=True)
    return _scalar_or_array(np.abs(x).mean(axis=axis))


def fraction_below(a, threshold, axis=-1):
    """The fraction of entries with |a_j| ≤ τ along ``axis`` (``axis=None``: over every entry):

        f_τ(a) = (1/n) Σ_j [|a_j| ≤ τ].

    The comparison is ``≤``, not ``<``, so that τ = 0 counts the *exact* zeros of ReLU units (with ``<``, τ = 0
    would count nothing, since |a_j| < 0 never holds).  Sigmoid units are never exactly 0, so for them τ = 0
    gives 0 and a small positive τ (e.g. 0.1) is the meaningful choice.

    Parameters
    ----------
    a : array_like, at least 1-D.
    threshold : float ≥ 0
        τ, compared with the magnitudes |a_j|.
    axis : int or None.

    Returns
    -------
    float for a 1-D ``a`` (or axis=None), else an array with values in [0, 1].
    """
    x = _as_activations(a, "a")
    threshold = _check_threshold(threshold)
    axis = _check_axis(axis, x.ndim, allow_none=True)
    return _scalar_or_array((np.abs(x) <= threshold).mean(axis=axis))


# -------------------------------------------------------------------------------------------- one layer
def summary(A, threshold=0.1):
    """Every sparseness measure of one layer's activations A (n_samples, n_units), as a dict of plain numbers.

    Keys (means over samples for population measures, over units for lifetime measures):

    ``population_hoyer``, ``lifetime_hoyer``   mean Hoyer sparseness (``hoyer``; all-zero vectors count as 1)
    ``population_gini``, ``lifetime_gini``     mean Gini index (``gini``; likewise)
    ``l1_norm``                                mean over samples of ‖a_n‖₁
    ``mean_activation``                        mean of |A| over every entry (= mean over samples of ‖a_n‖₁/n)
    ``fraction_zero``                          fraction of entries exactly 0 (``fraction_below`` with τ = 0)
    ``fraction_below``                         fraction of entries with |a| ≤ ``threshold``
    ``threshold``                              τ used for ``fraction_below``
    ``n_silent_samples``, ``n_dead_units``     all-zero rows and columns: the vectors whose Hoyer/Gini is the
                                               convention ``ZERO_VALUE``, reported so they can be judged apart
    ``n_samples``, ``n_units``

    The dict is JSON-serialisable (floats and ints only), ready for an experiment's record.

    Parameters
    ----------
    A : array_like (n_samples, n_units), n_samples ≥ 2 and n_units ≥ 2.
    threshold : float ≥ 0 (default 0.1).
    """
    A = check_array(A, "A")
    threshold = _check_threshold(threshold)
    n_samples, n_units = A.shape
    if n_samples < 2 or n_units < 2:
        raise ValueError(f"A must have at least 2 samples and 2 units (lifetime and population Hoyer divide "
                         f"by √n − 1), got shape {A.shape}")
    magnitude = np.abs(A)
    active = magnitude > 0
    return {
        "population_hoyer": float(np.mean(hoyer(A, axis=1))),
        "lifetime_hoyer": float(np.mean(hoyer(A, axis=0))),
        "population_gini": float(np.mean(gini(A, axis=1))),
        "lifetime_gini": float(np.mean(gini(A, axis=0))),
        "l1_norm": float(np.mean(magnitude.sum(axis=1))),
        "mean_activation": float(np.mean(magnitude)),
        "fraction_zero": float(np.mean(~active)),
        "fraction_below": float(np.mean(magnitude <= threshold)),
        "threshold": threshold,
        "n_silent_samples": int(np.sum(~active.any(axis=1))),
        "n_dead_units": int(np.sum(~active.any(axis=0))),
        "n_samples": int(n_samples),
        "n_units": int(n_units),
    }
