"""Classifiers: ``MLPClassifier`` (the lab's MLP on arbitrary labels) and ``DBNClassifier`` (greedy pretraining by
RBMs or denoising autoencoders, then the same supervised training), both trained through the lab's ``Trainer``."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from ..mlp import HIDDEN_ACTIVATIONS, MLP
from ..pretrain import LayerSettings, greedy_pretrain, to_mlp
from ..validation import check_number, check_positive_int
from ._common import (FLOATS, LabEstimator, check_real_kind, check_sgd_params, generator, make_trainer,
                      unchanged_on_error, validate_data)


class MLPClassifier(ClassifierMixin, LabEstimator):
    """The lab's ``MLP`` (softmax output, cross-entropy loss) trained by SGD with momentum through ``Trainer``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, e.g. (32,) or (500, 500).
    activation : "sigmoid" | "tanh" | "relu" (every hidden layer).
    learning_rate, momentum : float, SGD's.
    batch_size : int.
    n_iter : int, epochs.
    weight_decay : float, λ of ½λ Σ‖W_l‖².
    random_state : None, int or numpy.random.Generator (None: seed 0).
    verbose : bool.

    Attributes
    ----------
    classes_ : (n_classes,) the sorted labels; class ``classes_[k]`` is the network's output k.
    mlp_ : the trained ``pretrainlab.MLP``.
    n_iter_ : epochs trained.
    """

    def __init__(self, hidden_layer_sizes=(32,), activation="sigmoid", learning_rate=0.1, momentum=0.9,
                 batch_size=32, n_iter=20, weight_decay=0.0, random_state=None, verbose=False):
        self.hidden_layer_sizes, self.activation = hidden_layer_sizes, activation
        self.learning_rate, self.momentum, self.batch_size, self.n_iter = learning_rate, momentum, batch_size, n_iter
        self.weight_decay, self.random_state, self.verbose = weight_decay, random_state, verbose

    # -- building ------------------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
        return [check_positive_int(n, "hidden_layer_sizes") for n in sizes]

    def _check_params(self):
        if self.activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"activation must be one of {HIDDEN_ACTIVATIONS}, got {self.activation!r}")
        check_sgd_params(self)

    def _build(self, X, n_classes, rng):
        sizes = [X.shape[1], *self._hidden_sizes(), n_classes]
        return MLP(sizes, rng=rng, activation=self.activation, weight_decay=self.weight_decay, dtype=X.dtype)

    def _start(self, X, classes):
        self._check_params()
        if len(classes) < 2:
            raise ValueError(f"y must hold at least 2 classes to train a classifier, got 1 class ({classes[0]!r})")
        rng = generator(self.random_state)
        mlp = self._build(X, len(classes), rng)
        self.classes_, self.mlp_, self._trainer = classes, mlp, make_trainer(self, mlp, rng)

    def _validate(self, X, y="no_validation", reset=True, clip=False):
        """As LabEstimator's, with y checked to hold class labels (before X's domain: a regression target is
        reported as such)."""
        if isinstance(y, str) and y == "no_validation":
            return super()._validate(X, reset=reset, clip=clip)
        check_real_kind(X)
        X, y = validate_data(self, X, y, dtype=FLOATS, reset=reset)
        check_classification_targets(y)
        return self._check_domain(X), y

    def _encode(self, y):
        """Labels → indices 0..K−1 into ``classes_``; a label not in ``classes_`` is a ValueError naming y."""
        idx = np.searchsorted(self.classes_, y)
        idx = np.minimum(idx, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            raise ValueError(f"y holds labels not in classes_ {list(self.classes_)}: {sorted(set(y[unknown]))[:5]}")
        return idx

    # -- training ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Train a fresh network for ``n_iter`` epochs on X (n_samples, n_features) and labels y; returns self."""
        with unchanged_on_error(self):
            X, y = self._validate(X, y, reset=True)
            self._start(X, np.unique(y))
            self._trainer.fit(X, self._encode(y), epochs=self.n_iter)
            self.n_iter_ = self._trainer.epoch
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch on (X, y), continuing the network; the first call needs ``classes`` (every label to expect)."""
        with unchanged_on_error(self):
            first = not hasattr(self, "mlp_")
            X, y = self._validate(X, y, reset=first)
            if first:
                if classes is None:
                    raise ValueError("classes must be given on the first call to partial_fit (all labels to expect)")
                self._start(X, unique_labels(classes))
            elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(f"classes {list(unique_labels(classes))} differ from those of the first call "
                                 f"{list(self.classes_)}")
            y = self._encode(y)  # (a label not in classes_ is refused before the epoch)
            self._trainer.fit(X.astype(self.mlp_.dtype, copy=False), y, epochs=self._trainer.epoch + 1)
            self.n_iter_ = self._trainer.epoch
        return self

    # -- prediction ----------------------------------------------------------------------------
    def predict_proba(self, X):
        """p(class | x): (n_samples, n_classes), columns in the order of ``classes_``."""
        _, X = self._fitted_input(X, "mlp_")
        return self.mlp_.predict_proba(X).astype(np.float64)

    def predict_log_proba(self, X):
        """log p(class | x)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable label of each row, from ``classes_``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before classes_ exists
        return self.classes_[np.argmax(proba, axis=1)]


class DBNClassifier(MLPClassifier):
    """Greedy layer-wise pretraining (``pretrain.greedy_pretrain``), then the supervised training of
    ``MLPClassifier`` on the pretrained network (``pretrain.to_mlp``: a fresh softmax layer on top).

    X must lie in [0, 1] (each layer models its input as Bernoulli means). ``partial_fit``'s first call
    pretrains on the data of that call; later calls only fine-tune.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, one pretrained layer each.
    pretraining : "rbm" (CD-k, Hinton et al. 2006) or "dae" (tied denoising autoencoders with masking noise
        ``noise_level``, Vincent et al. 2008).
    pretrain_n_iter, pretrain_learning_rate : epochs and rate of each layer's unsupervised training (momentum
        0.5, rising to 0.9 after 5 epochs, weight decay 2e-4: ``pretrain.LayerSettings``).
    noise_level : float, the masking probability of "dae".
    learning_rate, momentum, batch_size, n_iter, weight_decay, random_state, verbose : as in MLPClassifier
        (the fine-tuning; ``batch_size`` serves pretraining too). The hidden units are sigmoid.

    Attributes
    ----------
    classes_, mlp_, n_iter_ : as in MLPClassifier.
    stack_ : the pretrained layers (``BernoulliRBM`` or ``TiedAutoencoder``), before fine-tuning.
    """

    def __init__(self, hidden_layer_sizes=(32,), pretraining="rbm", pretrain_n_iter=5, pretrain_learning_rate=0.1,
                 noise_level=0.25, learning_rate=0.1, momentum=0.9, batch_size=32, n_iter=20, weight_decay=0.0,
                 random_state=None, verbose=False):
        self.hidden_layer_sizes, self.pretraining = hidden_layer_sizes, pretraining
        self.pretrain_n_iter = pretrain_n_iter
        self.pretrain_learning_rate, self.noise_level = pretrain_learning_rate, noise_level
        self.learning_rate, self.momentum, self.batch_size, self.n_iter = learning_rate, momentum, batch_size, n_iter
        self.weight_decay, self.random_state, self.verbose = weight_decay, random_state, verbose

    activation = "sigmoid"  # not a parameter: what to_mlp builds (each pretrained layer's transform is a sigmoid)

    def _needs_unit_interval(self):
        return True

    def _build(self, X, n_classes, rng):
        if self.pretraining not in ("rbm", "dae"):
            raise ValueError(f"pretraining must be 'rbm' or 'dae', got {self.pretraining!r}")
        epochs = check_positive_int(self.pretrain_n_iter, "pretrain_n_iter")
        lr = check_number(self.pretrain_learning_rate, "pretrain_learning_rate", low=0.0, low_open=True)
        noise = check_number(self.noise_level, "noise_level", low=0.0, high=1.0, high_open=True)
        settings = LayerSettings(kind=self.pretraining, epochs=epochs, batch_size=self.batch_size, lr=lr,
                                 noise_level=noise)
        self.stack_ = greedy_pretrain(X, self._hidden_sizes(), settings, rng=rng, verbose=bool(self.verbose))
        return to_mlp(self.stack_, n_classes, rng=rng, weight_decay=self.weight_decay)
