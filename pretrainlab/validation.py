"""Input checks shared by every model: one place that turns bad input into a clear error.

Each function names the argument it checks, so a student who passes a (783,)-vector to an RBM
reads ``ValueError: v must have 784 columns, got 783`` instead of a broadcasting traceback.
"""
import numpy as np


def check_array(x, name, n_cols=None, low=None, high=None, dtype=None):
    """Return ``x`` as a finite 2-D float array, or raise a ValueError/TypeError naming ``name``.

    Parameters
    ----------
    x : array_like, shape (n_samples, n_cols)
    name : str
        The argument's name, used in the error message.
    n_cols : int, optional
        Required number of columns.
    low, high : float, optional
        Closed interval the values must lie in (e.g. [0, 1] for Bernoulli visibles).
    dtype : numpy dtype, optional
        Convert to this float dtype (default: keep a float dtype, else float64).
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a 2-D numeric array, got {type(x).__name__}")
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {x.shape}")
    if n_cols is not None and x.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns, got {x.shape[1]}")
    if dtype is None:
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    x = np.asarray(x, dtype=dtype)
    # min and max propagate NaN and reveal ±inf: two passes check finiteness and the range together
    # (this runs on every minibatch).
    lo, hi = (x.min(), x.max()) if x.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if low is not None and lo < low:
        raise ValueError(f"{name} must have values in [{low}, {high}], found minimum {lo:g}")
    if high is not None and hi > high:
        raise ValueError(f"{name} must have values in [{low}, {high}], found maximum {hi:g}")
    return x


def check_labels(y, name, n_classes, n_samples=None):
    """Return ``y`` as a 1-D int64 array of class indices in 0..n_classes-1, or raise naming ``name``."""
    if y is None:
        raise ValueError(f"{name} is required (integer class labels 0..{n_classes - 1})")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{name} must have {n_samples} entries (one per row of x), got {y.shape[0]}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must be in 0..{n_classes - 1}, found values in {y.min()}..{y.max()}")
    return y.astype(np.int64, copy=False)


def check_positive_int(value, name):
    """Return ``value`` as an int ≥ 1, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be ≥ 1, got {value}")
    return int(value)


def as_generator(rng):
    """Return a ``numpy.random.Generator``: pass one in, or an int seed; None means seed 0.

    The lab never touches NumPy's global random state, so the same seed always gives the same run.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")
