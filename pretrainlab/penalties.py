"""Penalty terms: one contract for every regulariser a model or an estimator adds to its objective.

Two kinds of term, each an object with a ``weight`` and a ``config()``:

* a **weight term** acts on parameters: ``term(params) → (value, grads)``, ``grads`` holding an entry for
  each parameter it touches (``WeightDecay``: ½λ Σ‖W‖² over the weight matrices);
* an **activity term** acts on one layer's activations for a batch: ``term(h, y=None, rng=None) →
  (value, dh)``, with ``dh = ∂value/∂h`` of h's shape (``KLSparsity``, ``L1Activity``; study 3's
  diversifying terms in ``studies/diversify/regularizers.py``, which also read the labels y and draw pairs from ``rng``). The
  model back-propagates ``dh`` through its own layer — the autoencoder through its encoder, an RBM's
  ``ContrastiveDivergence`` through the sigmoid of p(h | v) to W and b_hid.

``value`` is already multiplied by the weight and is *added* to a loss that is minimised. A term is attached
the same way everywhere: by the constructor arguments ``weight_decay=``, ``sparsity=``/``sparsity_target=``/
``sparsity_weight=`` (the one name for a sparsity strength) or by ``penalties=[...]``, a list of terms, on
``TiedAutoencoder``, ``Autoencoder``, ``MLP`` and ``ContrastiveDivergence``. Weight decay therefore lives in
exactly one place, the objective — the optimiser (``optim.SGD``) knows nothing of it.

Checkpoints rebuild terms from ``config()`` through the explicit registry ``terms_registry()`` (never by
importing a name read from a file).
"""
from .layers import kl_sparsity, l1_activity, l2_penalty
from .validation import check_number


def check_weight(value, name="weight"):
    """A penalty weight: a finite real number ≥ 0, else a TypeError/ValueError naming ``name``."""
    return check_number(value, name, low=0.0)


def check_rate(value, name):
    """A target rate in the open interval (0, 1), else a ValueError naming ``name``."""
    return check_number(value, name, low=0.0, high=1.0, low_open=True, high_open=True)


class WeightDecay:
    """L2 weight decay, R = ½λ Σ_W c_W ‖W‖²_F over the weight matrices (ndim ≥ 2; never the biases — the usual
    convention, Hinton 2010 §9), ∂R/∂W = λ c_W W.

    ``scale``: optional dict name → c_W > 0 (default 1 for every matrix). Study 2's Srivastava arm uses it to
    keep deepnet's decay per update exact under inverted dropout (``published.srivastava_mlp``).
    """

    kind = "weight_decay"

    def __init__(self, weight, scale=None):
        self.weight = check_weight(weight, "weight_decay")
        self.scale = None if scale is None else {
            str(k): check_number(c, f"scale[{k!r}]", low=0.0, low_open=True) for k, c in dict(scale).items()}

    def __call__(self, params):
        value, grads = 0.0, {}
        for name, p in params.items():
            if p.ndim >= 2:
                r, d = l2_penalty(p)
                weight = self.weight * (1.0 if self.scale is None else self.scale.get(name, 1.0))
                value += weight * r
                grads[name] = weight * d
        return value, grads

    def config(self):
        cfg = {"kind": self.kind, "weight": self.weight}
        if self.scale is not None:
            cfg["scale"] = dict(self.scale)
        return cfg


class KLSparsity:
    """β Σ_j KL(ρ ‖ ρ̂_j) of the batch-mean activations ρ̂_j to a target rate ρ (``layers.kl_sparsity``; UFLDL).

    For units with rates in (0, 1): sigmoid units, or an RBM's hidden probabilities p(h | v). On an RBM the
    estimator chains dh through the sigmoid, giving the exact gradient of this penalty — the cousin of Hinton's
    (2010, §11) shortcut, which uses (ρ̂_j − ρ) directly as the derivative with respect to the total input.
    """

    kind = "kl_sparsity"

    def __init__(self, target, weight):
        self.target = check_rate(target, "sparsity_target")
        self.weight = check_weight(weight, "sparsity_weight")

    def __call__(self, h, y=None, rng=None):
        value, dh = kl_sparsity(h, self.target)
        dh *= self.weight
        return self.weight * value, dh

    def config(self):
        return {"kind": self.kind, "target": self.target, "weight": self.weight}


class L1Activity:
    """β (1/n) Σ_n ‖h_n‖₁, an L1 penalty on activations (``layers.l1_activity``)."""

    kind = "l1"

    def __init__(self, weight):
        self.weight = check_weight(weight, "sparsity_weight")

    def __call__(self, h, y=None, rng=None):
        value, dh = l1_activity(h)
        dh *= self.weight
        return self.weight * value, dh

    def config(self):
        return {"kind": self.kind, "weight": self.weight}


#: the library's own terms, by their ``kind``
TERMS = {cls.kind: cls for cls in (WeightDecay, KLSparsity, L1Activity)}


def terms_registry():
    """Every term a checkpoint may name, by ``kind``: the only classes ``from_config`` will build.

    The library's terms and study 3's diversifying terms. The study's module is imported here, on first use,
    not at the top: the library never depends on a study to load (one of the two registries that reach into
    ``studies/``; the other is ``checkpoint.model_classes``).
    """
    from .studies.diversify.regularizers import TERMS as diversifying
    return {**TERMS, **diversifying}


def from_config(cfg):
    """Rebuild a term from its ``config()``; a ``kind`` outside ``terms_registry()`` is refused."""
    registry = terms_registry()
    if not isinstance(cfg, dict) or cfg.get("kind") not in registry:
        raise ValueError(f"penalties: unknown penalty term {cfg!r}; known kinds: {', '.join(sorted(registry))}")
    args = {k: v for k, v in cfg.items() if k != "kind"}
    return registry[cfg["kind"]](**args)


def check_terms(terms, name="penalties"):
    """A list of penalty terms (objects with ``config()`` that are callable), or a TypeError naming ``name``."""
    terms = list(terms or ())
    for t in terms:
        if not (callable(t) and hasattr(t, "config") and hasattr(t, "weight")):
            raise TypeError(f"{name} must hold penalty terms (see pretrainlab.penalties), got {type(t).__name__}")
    return terms


def is_weight_term(term):
    return isinstance(term, WeightDecay)


def add_weight_terms(terms, params, loss, grads):
    """Add every weight term's value to ``loss`` and its gradients into ``grads`` (in place); return the loss."""
    for term in terms:
        if is_weight_term(term):
            value, g = term(params)
            loss += value
            for name, d in g.items():
                grads[name] += d
    return loss


def activity_terms(terms, h, y=None, rng=None):
    """Sum of the activity terms on activations ``h``: ``(value, dh)``, dh None when there are none."""
    value, dh = 0.0, None
    for term in terms:
        if not is_weight_term(term):
            v, d = term(h, y, rng)
            value += v
            dh = d if dh is None else dh + d
    return value, dh


def build(weight_decay=0.0, sparsity=None, sparsity_target=0.05, sparsity_weight=1.0, extra=()):
    """The terms of the usual constructor arguments, then ``extra``: the list a model or estimator keeps."""
    terms = []
    if check_weight(weight_decay, "weight_decay"):
        terms.append(WeightDecay(weight_decay))
    if sparsity == "kl":
        terms.append(KLSparsity(sparsity_target, sparsity_weight))
    elif sparsity == "l1":
        terms.append(L1Activity(sparsity_weight))
    elif sparsity is not None:
        raise ValueError(f"sparsity must be one of None, 'kl', 'l1', got {sparsity!r}")
    return terms + check_terms(extra)
