"""What the estimators share: the scikit-learn imports, input validation and the [0, 1] domain, random_state,
and the rule that a refused ``fit``/``partial_fit`` leaves the estimator as it was."""
import warnings
from contextlib import contextmanager

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.utils.validation import check_is_fitted
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("pretrainlab.estimators needs scikit-learn ≥ 1.3: pip install 'pretrainlab[sklearn]'") from err
try:
    from sklearn.utils.validation import validate_data  # scikit-learn ≥ 1.6
except ImportError:  # pragma: no cover - older scikit-learn: the method it replaced
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from ..optim import SGD
from ..train import Trainer
from ..validation import as_generator, check_number, check_positive_int

#: the float dtypes kept as they are (float32 input trains a float32 model); anything else becomes float64
FLOATS = (np.float64, np.float32)


def generator(random_state):
    """``random_state`` as a Generator: an int seed gives a fresh one (so fit is idempotent), a Generator is
    used as it is (and advanced), None means seed 0 — the lab has no unseeded randomness."""
    try:
        return as_generator(random_state)
    except TypeError as err:
        raise TypeError(f"random_state must be None, an int seed or a numpy.random.Generator, "
                        f"got {type(random_state).__name__}") from err


#: at transform/predict time (never at fit) values outside [0, 1] are clipped, with one warning saying how many,
#: when they are few (at most this fraction of X's entries) or near (within this distance of [0, 1]). Held-out
#: rows scaled by a MinMaxScaler fitted on other rows overshoot in a few pixels: on scikit-learn's digits under
#: 5-fold cross-validation at most 19 of 22 976 entries (0.08 %), up to 6.0 where a pixel was constant in the
#: training folds. Raw 0–16 pixels (about half the entries above 1) are still refused.
CLIP_FRACTION = 0.01
CLIP_DISTANCE = 0.05


class ClippedInputWarning(UserWarning):
    """A fitted estimator clipped a few values of X into [0, 1] before transform/predict."""


def check_unit_interval(X, whom, clip=False):
    """X itself, or a ValueError naming X if a value lies outside [0, 1]. The "Negative values in data" wording is
    scikit-learn's (``check_non_negative``), which its checks look for in estimators tagged ``positive_only``.

    ``clip`` (transform/predict of a fitted estimator): out-of-range values within the tolerance
    (``CLIP_FRACTION``, ``CLIP_DISTANCE``) are clipped into a copy, with one ``ClippedInputWarning`` saying how
    many; beyond it the ValueError stands."""
    lo, hi = X.min(), X.max()
    if clip and (lo < 0 or hi > 1):
        n_out = int(np.count_nonzero((X < 0) | (X > 1)))
        if n_out <= CLIP_FRACTION * X.size or (lo >= -CLIP_DISTANCE and hi <= 1 + CLIP_DISTANCE):
            warnings.warn(f"{whom}: {n_out} of {X.size} values of X lie outside [0, 1] (minimum {lo:g}, maximum "
                          f"{hi:g}) and were clipped to [0, 1] (held-out data scaled on other rows overshoots a "
                          "little; more than 1 % of the values, or farther, is refused)", ClippedInputWarning,
                          stacklevel=4)
            return np.clip(X, 0, 1)
    if lo < 0:
        raise ValueError(f"Negative values in data passed to {whom}: X must have values in [0, 1] (binary data or "
                         f"probabilities), found minimum {lo:g}; scale it first, e.g. "
                         "sklearn.preprocessing.minmax_scale")
    if hi > 1:
        raise ValueError(f"X passed to {whom} must have values in [0, 1] (binary data or probabilities), found "
                         f"maximum {hi:g}; scale it first, e.g. sklearn.preprocessing.minmax_scale")
    return X


def check_real_kind(X):
    """A TypeError naming X if it is an array of strings, bytes, datetimes or timedeltas: scikit-learn would
    convert numeric strings and datetime64 to numbers silently (complex and object arrays it refuses or converts
    itself, as its estimator checks expect)."""
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "USMm":
        raise TypeError(f"X must hold real numbers (float, integer or bool), got dtype {dtype}")


def check_sgd_params(est):
    """The SGD settings every estimator has, checked at fit time (scikit-learn's convention), each named."""
    check_positive_int(est.n_iter, "n_iter")
    check_positive_int(est.batch_size, "batch_size")
    check_number(est.learning_rate, "learning_rate", low=0.0, low_open=True)
    check_number(est.momentum, "momentum", low=0.0, high=1.0, high_open=True)
    check_number(est.weight_decay, "weight_decay", low=0.0)


def make_trainer(est, model, rng, step=None):
    """The lab's Trainer and SGD over ``model`` with the estimator's settings (plain-float rates: it pickles)."""
    optimizer = SGD(model.params, lr=float(est.learning_rate), momentum=float(est.momentum))
    return Trainer(model, optimizer, step=step, batch_size=est.batch_size, rng=rng, verbose=bool(est.verbose))


@contextmanager
def unchanged_on_error(est):
    """Run a ``fit``/``partial_fit`` so that, if it raises, ``est`` is as it was: its attributes (``classes_``,
    ``n_features_in_``, the fitted model, the trainer) are put back, so a refused call on a fitted estimator
    keeps it fitted and usable, and a refused first ``partial_fit`` leaves it unfitted — never half-built.
    The fitted model itself is not written before the data are checked (a fresh ``fit`` builds a new one)."""
    saved = dict(est.__dict__)
    try:
        yield
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(saved)
        raise


class LabEstimator(BaseEstimator):
    """Validation shared by the estimators: ``validate_data`` and, where the model needs it, the [0, 1] domain."""

    def _needs_unit_interval(self):
        """Whether X must lie in [0, 1] (a Bernoulli model of its input); subclasses say."""
        return False

    def _check_domain(self, X, clip=False):
        """The model's view of validated X: X itself, checked to lie in [0, 1] where that is needed (``clip``:
        transform/predict, where a few values slightly out are clipped with a warning)."""
        return check_unit_interval(X, type(self).__name__, clip) if self._needs_unit_interval() else X

    def _validate(self, X, y="no_validation", reset=True, clip=False):
        """``validate_data`` (finite, 2-D, float, n_features_in_), then ``_check_domain``; returns X or (X, y).

        X of strings, datetimes or objects is refused by name before scikit-learn would try to convert it."""
        check_real_kind(X)
        out = validate_data(self, X, y, dtype=FLOATS, reset=reset)
        if isinstance(out, tuple):
            return self._check_domain(out[0]), out[1]
        return self._check_domain(out, clip)

    def _fitted_input(self, X, model_name):
        """X for a fitted estimator's method (NotFittedError before ``fit``): ``(dtype, X)``, the validated input's
        float dtype (that of the output, so transformers preserve float32) and X in the dtype of the model in
        attribute ``model_name``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False, clip=True)
        return X.dtype, X.astype(getattr(self, model_name).dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self._needs_unit_interval()
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": self._needs_unit_interval()}
