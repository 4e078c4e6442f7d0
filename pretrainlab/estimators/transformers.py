"""Unsupervised feature extractors: ``RBMTransformer`` (p(h | v) of a Bernoulli RBM) and ``AutoencoderTransformer``
(the code of a tied autoencoder), each trained through the lab's ``Trainer`` and ``SGD``."""
import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..autoencoder import TiedAutoencoder
from ..cd import ContrastiveDivergence
from ..rbm import BernoulliRBM
from ..validation import check_positive_int
from ._common import FLOATS, LabEstimator, check_sgd_params, generator, make_trainer, unchanged_on_error


class _LabTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, LabEstimator):
    """fit / partial_fit through one Trainer kept between calls (velocity, PCD's particles, the shuffling rng)."""

    def _start(self, X):
        check_positive_int(self.n_components, "n_components")
        check_sgd_params(self)
        rng = generator(self.random_state)
        model, step = self._build(X, rng)
        self._trainer = make_trainer(self, model, rng, step)

    def fit(self, X, y=None):
        """Train a fresh model for ``n_iter`` epochs on X (n_samples, n_features); returns self."""
        with unchanged_on_error(self):
            X = self._validate(X, reset=True)
            self._start(X)
            self._trainer.fit(X, epochs=self.n_iter)
            self.n_iter_ = self._trainer.epoch
        return self

    def partial_fit(self, X, y=None):
        """One epoch on X, continuing the model (the first call builds it from X's shape and dtype); returns self."""
        with unchanged_on_error(self):
            first = not hasattr(self, "_trainer")
            X = self._validate(X, reset=first)
            if first:
                self._start(X)
            self._trainer.fit(X.astype(self._trainer.model.dtype, copy=False), epochs=self._trainer.epoch + 1)
            self.n_iter_ = self._trainer.epoch
        return self

    @property
    def _n_features_out(self):  # for get_feature_names_out: "rbmtransformer0", ...
        return self.n_components

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {**super()._more_tags(), "preserves_dtype": [np.float64, np.float32]}


class RBMTransformer(_LabTransformer):
    """Bernoulli RBM features, p(h = 1 | v), trained by the lab's ``ContrastiveDivergence``.

    The defaults are scikit-learn's ``BernoulliRBM``'s: 256 hidden units, rate 0.1, batches of 10, 10 epochs,
    persistent CD-1 with one fantasy particle per batch row, no momentum and no weight decay. X must lie in
    [0, 1] (a ValueError naming X otherwise).

    Parameters
    ----------
    n_components : int, number of hidden units.
    learning_rate : float, SGD's rate on the batch-*mean* gradient (as scikit-learn's).
    batch_size : int.
    n_iter : int, epochs.
    k : int, Gibbs steps per update (CD-k / PCD-k).
    persistent : bool, PCD (Tieleman 2008) with ``batch_size`` chains; False: CD-k started at the data.
    momentum, weight_decay : float, SGD's momentum and the L2 penalty λ of ``ContrastiveDivergence``.
    random_state : None, int or numpy.random.Generator (None: seed 0).
    verbose : bool, the Trainer's progress bar and per-epoch line.

    Attributes
    ----------
    rbm_ : the trained ``pretrainlab.BernoulliRBM``.
    components_ : (n_components, n_features), ``rbm_.W.T`` (scikit-learn's BernoulliRBM's name and shape).
    intercept_hidden_, intercept_visible_ : ``rbm_.b_hid``, ``rbm_.b_vis``.
    n_iter_ : epochs trained.
    """

    def __init__(self, n_components=256, learning_rate=0.1, batch_size=10, n_iter=10, k=1, persistent=True,
                 momentum=0.0, weight_decay=0.0, random_state=None, verbose=False):
        self.n_components, self.learning_rate, self.batch_size = n_components, learning_rate, batch_size
        self.n_iter, self.k, self.persistent = n_iter, k, persistent
        self.momentum, self.weight_decay = momentum, weight_decay
        self.random_state, self.verbose = random_state, verbose

    def _needs_unit_interval(self):
        return True

    def _build(self, X, rng):
        check_positive_int(self.k, "k")
        self.rbm_ = BernoulliRBM(X.shape[1], self.n_components, rng=rng, dtype=X.dtype)
        step = ContrastiveDivergence(self.rbm_, k=self.k, persistent=bool(self.persistent),
                                     n_chains=self.batch_size if self.persistent else None,
                                     weight_decay=float(self.weight_decay))
        return self.rbm_, step

    components_ = property(lambda self: self.rbm_.W.T, doc="(n_components, n_features): ``rbm_.W.T``")
    intercept_hidden_ = property(lambda self: self.rbm_.b_hid, doc="``rbm_.b_hid``")
    intercept_visible_ = property(lambda self: self.rbm_.b_vis, doc="``rbm_.b_vis``")

    def transform(self, X):
        """p(h = 1 | v) for each row of X: (n_samples, n_components), in X's float dtype."""
        dtype, X = self._fitted_input(X, "rbm_")
        return self.rbm_.mean_hiddens(X).astype(dtype, copy=False)

    def score_samples(self, X):
        """−F(v), the negative free energy of each row: log p(v) + log Z, the same log Z for every row.

        scikit-learn's BernoulliRBM returns a *stochastic* pseudo-likelihood (one randomly chosen unit flipped per
        row, so two calls differ). −F(v) is exact and deterministic, and it orders rows exactly as the true
        log-likelihood does — what ``score_samples`` is for (higher = more likely under the model). For log p(v)
        itself subtract log Z (``pretrainlab.likelihood``: exact for ≤ ~25 hidden units, else AIS); the
        pseudo-likelihood is ``rbm_.pseudo_likelihood(X)``.
        """
        _, X = self._fitted_input(X, "rbm_")
        return -self.rbm_.free_energy(X).astype(np.float64)


class AutoencoderTransformer(_LabTransformer):
    """Tied autoencoder features h = σ(x W + b_hid), trained on its reconstruction loss by the lab's SGD.

    Parameters
    ----------
    n_components : int, hidden units.
    loss : "cross_entropy" (sigmoid decoder; X must lie in [0, 1]) or "squared_error" (linear decoder, any real X).
    noise : None | "mask" | "gaussian", the denoising corruption (Vincent et al. 2008), ``noise_level`` its
        masking probability or standard deviation.
    learning_rate, momentum, batch_size, n_iter, weight_decay : SGD and the L2 penalty, as in RBMTransformer.
    random_state : None, int or numpy.random.Generator (None: seed 0).
    verbose : bool.

    Attributes
    ----------
    autoencoder_ : the trained ``pretrainlab.TiedAutoencoder``.
    n_iter_ : epochs trained.
    """

    def __init__(self, n_components=64, loss="cross_entropy", noise=None, noise_level=0.0, learning_rate=0.1,
                 momentum=0.9, batch_size=20, n_iter=10, weight_decay=0.0, random_state=None, verbose=False):
        self.n_components, self.loss, self.noise, self.noise_level = n_components, loss, noise, noise_level
        self.learning_rate, self.momentum, self.batch_size, self.n_iter = learning_rate, momentum, batch_size, n_iter
        self.weight_decay, self.random_state, self.verbose = weight_decay, random_state, verbose

    def _needs_unit_interval(self):
        return self.loss == "cross_entropy"

    def _build(self, X, rng):
        decoder = "sigmoid" if self.loss == "cross_entropy" else "linear"
        self.autoencoder_ = TiedAutoencoder(X.shape[1], self.n_components, rng=rng, decoder=decoder, loss=self.loss,
                                            noise=self.noise, noise_level=self.noise_level,
                                            weight_decay=self.weight_decay, dtype=X.dtype)
        return self.autoencoder_, None  # the Trainer's default step: autoencoder_.loss_and_grads

    def transform(self, X):
        """The code h = σ(x W + b_hid) of each row: (n_samples, n_components), in X's float dtype."""
        dtype, X = self._fitted_input(X, "autoencoder_")
        return self.autoencoder_.encode(X).astype(dtype, copy=False)

    def inverse_transform(self, X):
        """The decoder x̂ = g(h Wᵀ + b_vis) of codes X (n_samples, n_components): (n_samples, n_features)."""
        check_is_fitted(self)
        H = check_array(X, dtype=FLOATS)
        if H.shape[1] != self.n_components:
            raise ValueError(f"X must have {self.n_components} columns (one per hidden unit), got {H.shape[1]}")
        return self.autoencoder_.decode(H.astype(self.autoencoder_.dtype, copy=False)).astype(H.dtype, copy=False)

    def reconstruct(self, X):
        """x̂ for each row of X, without noise: ``inverse_transform(transform(X))``."""
        return self.inverse_transform(self.transform(X))
