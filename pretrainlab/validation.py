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
    try:
        x = np.asarray(x)
    except ValueError as err:  # a ragged nested list
        raise ValueError(f"{name} must be a rectangular 2-D array; could not make one ({err})") from err
    if not is_real_kind(x.dtype):
        raise TypeError(f"{name} must be a real numeric array (float, integer or bool), got dtype {x.dtype}")
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


def is_real_kind(dtype):
    """Whether ``dtype`` is real floating, integer or bool: complex (imaginary parts would be dropped),
    datetime, strings and objects are not data a model can learn from."""
    return dtype.kind in "fiub"


def check_labels(y, name, n_classes=None, n_samples=None, allow_unlabelled=False):
    """Return ``y`` as a 1-D int64 array of class indices in 0..n_classes-1, or raise naming ``name``.

    ``allow_unlabelled``: −1 marks a sample without a label (e.g. for study 3's diversifying terms, which use
    the labels they have). ``n_classes`` None checks only that the labels are integers ≥ 0 (or −1).
    """
    if y is None:
        classes = f"0..{n_classes - 1}" if n_classes else "≥ 0"
        raise ValueError(f"{name} is required (integer class labels {classes})")
    try:
        y = np.asarray(y)
    except ValueError as err:
        raise ValueError(f"{name} must be a 1-D array of class indices ({err})") from err
    if not is_real_kind(y.dtype):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{name} must have {n_samples} entries (one per row of x), got {y.shape[0]}")
    low = -1 if allow_unlabelled else 0
    high = n_classes - 1 if n_classes is not None else None
    if y.size and (y.min() < low or (high is not None and y.max() > high)):
        if high is not None:
            raise ValueError(f"{name} must be in {low}..{high}, found values in {y.min()}..{y.max()}")
        unlabelled = ", or −1 for unlabelled" if allow_unlabelled else ""
        raise ValueError(f"{name} must hold labels ≥ 0{unlabelled}, found {y.min()}")
    return y.astype(np.int64, copy=False)


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float inside the given bounds, or raise a TypeError/ValueError naming ``name``.

    Catches what NumPy would accept silently: None, strings, NaN, ±inf, negative rates and decays.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        lo = "-∞" if low is None else f"{low:g}"
        hi = "∞" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return value


def check_int(value, name, low):
    """Return ``value`` as an int ≥ ``low``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be ≥ {low}, got {value}")
    return int(value)


def check_positive_int(value, name):
    """Return ``value`` as an int ≥ 1, or raise naming ``name``."""
    return check_int(value, name, 1)


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
