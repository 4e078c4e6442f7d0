"""What the estimators share: the scikit-learn imports, input validation and the [0, 1] domain, random_state."""
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


def check_unit_interval(X, whom):
    """X itself, or a ValueError naming X if a value lies outside [0, 1]. The "Negative values in data" wording is
    scikit-learn's (``check_non_negative``), which its checks look for in estimators tagged ``positive_only``."""
    lo, hi = X.min(), X.max()
    if lo < 0:
        raise ValueError(f"Negative values in data passed to {whom}: X must have values in [0, 1] (binary data or "
                         f"probabilities), found minimum {lo:g}; scale it first, e.g. "
                         "sklearn.preprocessing.minmax_scale")
    if hi > 1:
        raise ValueError(f"X passed to {whom} must have values in [0, 1] (binary data or probabilities), found "
                         f"maximum {hi:g}; scale it first, e.g. sklearn.preprocessing.minmax_scale")
    return X


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


class LabEstimator(BaseEstimator):
    """Validation shared by the estimators: ``validate_data`` and, where the model needs it, the [0, 1] domain."""

    def _needs_unit_interval(self):
        """Whether X must lie in [0, 1] (a Bernoulli model of its input); subclasses say."""
        return False

    def _check_domain(self, X):
        """The model's view of validated X: X itself, checked to lie in [0, 1] where that is needed."""
        return check_unit_interval(X, type(self).__name__) if self._needs_unit_interval() else X

    def _validate(self, X, y="no_validation", reset=True):
        """``validate_data`` (finite, 2-D, float, n_features_in_), then ``_check_domain``; returns X or (X, y)."""
        out = validate_data(self, X, y, dtype=FLOATS, reset=reset)
        if isinstance(out, tuple):
            return self._check_domain(out[0]), out[1]
        return self._check_domain(out)

    def _fitted_input(self, X, model_name):
        """X for a fitted estimator's method (NotFittedError before ``fit``): ``(dtype, X)``, the validated input's
        float dtype (that of the output, so transformers preserve float32) and X in the dtype of the model in
        attribute ``model_name``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return X.dtype, X.astype(getattr(self, model_name).dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self._needs_unit_interval()
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"requires_positive_X": self._needs_unit_interval()}
