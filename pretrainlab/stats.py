"""Small statistics the studies share: ranks, Spearman's rank correlation with a bootstrap spread, and the
number of epochs a learning curve needs to reach a target.

Spearman (1904): the Pearson correlation of the ranks (ties get their mean rank), a measure of monotone
association that does not care about the scale of either variable — right for relating sparseness (unitless)
to epochs or error rates across arms and seeds.
"""
import numpy as np


def rank(values):
    """Ranks 1..n of ``values`` (1-D), ties given the mean of the ranks they span (the usual mid-rank)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # ranks first+1 … first+count belong to each distinct value
    ranks = (first + (counts + 1) / 2)[inverse]
    return ranks


def spearman(x, y):
    """Spearman's rank correlation ρ_s = Pearson correlation of the ranks (C. Spearman, Am. J. Psychol. 15, 1904):

        ρ_s = Σ_i (r_i − r̄)(s_i − s̄) / √(Σ_i (r_i − r̄)² Σ_i (s_i − s̄)²),     r = rank(x), s = rank(y),

    with mid-ranks for ties (without ties this equals 1 − 6 Σ d_i² / (n(n² − 1))). Returns NaN when x or y is
    constant (the correlation is undefined). x, y : 1-D, the same length n ≥ 2, finite.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {x.shape} and {y.shape}")
    if len(x) < 2:
        raise ValueError(f"x must have at least 2 entries, got {len(x)}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    r, s = rank(x) - (len(x) + 1) / 2, rank(y) - (len(y) + 1) / 2
    denom = np.sqrt(np.sum(r * r) * np.sum(s * s))
    return float(np.sum(r * s) / denom) if denom > 0 else float("nan")


def bootstrap_spearman(x, y, rng, n_boot=1000):
    """ρ_s of (x, y) and its spread over ``n_boot`` resamples of the pairs (drawn with ``rng``, a Generator):
    ``{"rho", "boot_std", "lo", "hi", "n"}`` with lo/hi the 2.5 / 97.5 % percentiles (NaN resamples dropped)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rho = spearman(x, y)
    boots = np.array([spearman(x[i], y[i]) for i in rng.integers(0, len(x), (n_boot, len(x)))])
    boots = boots[np.isfinite(boots)]
    nan = float("nan")
    return {"rho": rho, "boot_std": float(boots.std()) if len(boots) else nan,
            "lo": float(np.percentile(boots, 2.5)) if len(boots) else nan,
            "hi": float(np.percentile(boots, 97.5)) if len(boots) else nan, "n": int(len(x))}


def mean_std(values, axis=None):
    """Mean and *sample* standard deviation (ddof = 1, the unbiased variance's root) of ``values``: what a
    results table's "mean ± std over seeds" means. With a single value the spread is unknown: NaN, never 0.

        m = (1/n) Σ_i v_i,     s = √( Σ_i (v_i − m)² / (n − 1) )
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.size if axis is None else v.shape[axis]
    if n == 0:
        raise ValueError("values must hold at least one entry")
    mean = v.mean(axis=axis)
    std = v.std(axis=axis, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    return mean, std


def epochs_to_reach(curve, target):
    """The first epoch (1-based) whose validation error is ≤ ``target``, or None if none reaches it."""
    hits = np.nonzero(np.asarray(curve) <= target)[0]
    return int(hits[0]) + 1 if len(hits) else None


# -------------------------------------------------------------------------------------------- measuring


def paired_difference(a, b, level=0.95):
    """Mean of the paired differences d_i = a_i − b_i (e.g. the test errors of two arms on the same seed) with its
    Student-t confidence interval (W. S. Gosset, "The probable error of a mean", Biometrika 6:1–25, 1908):

        d̄ ± t_{n−1, (1+level)/2} · s_d/√n,      s_d the sample std of the d_i,

    and the two-sided p-value of d̄ = 0. Pairing removes what the two arms share (the seed's labelled subset and
    initial weights), so the interval is narrower than one from two unpaired means. With n < 2 the interval is
    unknown (NaN). Returns ``{"mean", "std", "n", "lo", "hi", "p", "level", "diffs"}``.
    """
    from scipy import stats as _st

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"a and b must be 1-D of one non-zero length, got shapes {a.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    d = a - b
    mean, sd = mean_std(d)
    n, nan = d.size, float("nan")
    if n < 2:
        return {"mean": float(mean), "std": nan, "n": n, "lo": nan, "hi": nan, "p": nan, "level": level,
                "diffs": d.tolist()}
    half = _st.t.ppf((1 + level) / 2, n - 1) * sd / np.sqrt(n)
    p = float(2 * _st.t.sf(abs(mean) / (sd / np.sqrt(n)), n - 1)) if sd > 0 else (0.0 if mean != 0 else 1.0)
    return {"mean": float(mean), "std": float(sd), "n": n, "lo": float(mean - half), "hi": float(mean + half),
            "p": p, "level": level, "diffs": d.tolist()}
