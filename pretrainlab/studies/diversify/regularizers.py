"""Diversifying regularisation (DR): penalise similar hidden codes for inputs of *different* classes (study 3).

After Sulimov, Sukmanova, Chereshnev & Kertész-Farkas, arXiv 1911.02048 (2019; also AIST 2019, Springer,
doi 10.1007/978-3-030-39575-9_6) — **reconstructed**.  Only the paper's abstract is available: DR penalises hidden units that give similar features
to data of different classes; for generative models it is a divergence between the variational posteriors that
enters maximum likelihood as a prior (so labels can guide greedy DBN pretraining); for discriminative networks a
distance between features added to the objective.  The paper's formula is not public, so **every definition below
is this lab's own**, chosen to be bounded where it can be, cheap, and checkable by finite differences.

The penalty, for one layer and one minibatch
--------------------------------------------
Let h (n, J) be the layer's activations for the batch (for an RBM the hidden posteriors a_n = q(h = 1 | v_n) =
σ(v_n W + b_hid), the data's "ph"), y (n,) the labels (−1: unlabelled), and P = {(p_k, q_k)}_{k=1..K} a random set
of pairs with y_p ≠ y_q drawn by ``different_label_pairs`` (not all O(n²) pairs: K = number of labelled samples by
default).  With a similarity s(a, b) of two codes (one ``similarity`` method per term below),

    R(h) = α · (1/K) Σ_k s(h_{p_k}, h_{q_k}),       ∂R/∂h_n = (α/K) Σ_{k: p_k = n} ∂s/∂a + (α/K) Σ_{k: q_k = n} ∂s/∂b.

R is *added* to a loss that is minimised, so the model is pushed to make codes of different classes dissimilar.
Every similarity is a mean over the J units, so α does not have to change with the layer's width.

The log-prior reading (RBMs)
----------------------------
Contrastive divergence ascends log p(v | θ).  Put a prior p(θ) ∝ exp(−α · E_P[s(q(h|v_p), q(h|v_q))]) on the
parameters; the log-posterior log p(v | θ) + log p(θ) then gains −R, and the CD update gains −∂R/∂θ:

    ΔW ∝ ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model − ∂R/∂W,     ∂R/∂W = vᵀ (dh ⊙ a ⊙ (1 − a)),   ∂R/∂b_hid = Σ_n dh_n ⊙ a_n ⊙ (1 − a_n),

with dh = ∂R/∂a from ``__call__`` chained through σ' = a(1 − a) (the model does that chaining).  Strictly the
"prior" depends on the data and the labels, so it is a data-dependent regulariser; the prior language is the
paper's way of saying that it enters the maximum-likelihood objective as an additive log-term.

The terms
---------
Generative (RBM; h must be probabilities in [0, 1]):

* ``BhattacharyyaDR`` (**the default**, ``DEFAULT_RBM_KIND``): the mean per-unit Bhattacharyya coefficient.
  Bounded in [0, 1], and its gradient in logit space is bounded by ½ per unit and *vanishes* once the codes
  separate, so the push stops when the job is done.
* ``SymmetricKLDR``: −(mean per-unit symmetric KL divergence).  Unbounded: KL grows like |x_a − x_b| in the
  logits, so −α·KL rewards ever-larger weights and has no minimum (only the eps-clip caps it).  Kept as the
  comparison that shows why the bounded form is the default.

Discriminative (MLP / autoencoder hidden layers; any real activations):

* ``InnerProductDR``: mean ⟨h_p, h_q⟩ / J.
* ``CosineDR``: mean cosine similarity (scale-invariant; a zero code counts as orthogonal to everything).

Controls (study 3): the same terms on other pairs
-------------------------------------------------
``pairs="same"`` draws pairs with *equal* labels (``same_label_pairs``) and ``pairs="random"`` pairs of labelled
rows whatever their labels (``random_pairs``), as many as the diversifying term and from the same rows. Same α,
same similarity, same gradient code: only the choice of pairs differs, so a gain the diversifying term has over
both controls is the labels' doing, and a gain they share is what any penalty on code similarity does.

The contract (shared with the lab's other activity terms)
--------------------------------------------------------
An activity term has ``weight`` and ``__call__(h, y=None, rng=None) -> (value, dh)``: ``value`` the weighted
penalty (a float, already multiplied by ``weight``), ``dh`` its gradient with respect to h (h's shape and dtype).
``config()`` returns a JSON-serialisable dict with a ``"kind"`` key; ``from_config`` rebuilds the term through the
explicit registry ``TERMS``.  ``penalty(h, p, q)`` evaluates a term on *given* pairs, so a gradient check (or a
student) can hold the pairs fixed.

The public code of the same group (kfattila/BoltzMatch, a different 2020 paper) penalises |α · mean(h_p ⊙ h_q)|
of linear pre-activations over all pairs of a batch, label-blind, with α = 1000; none of that is used here.
"""
import inspect
import numbers

import numpy as np

from ...validation import as_generator, check_array, check_labels, check_number, check_positive_int

#: The RBM term used when a study does not name one: the bounded Bhattacharyya form (see the module docstring).
DEFAULT_RBM_KIND = "bhattacharyya"


# -------------------------------------------------------------------------------------------- input checks
def _check_pair_labels(y, n_samples=None):
    """y as a 1-D int64 array of labels ≥ 0, or −1 for unlabelled; raise naming ``y`` otherwise."""
    if y is None:
        raise ValueError("y is required: diversifying regularisation pairs samples of different labels "
                         "(pass −1 for unlabelled samples)")
    return check_labels(y, "y", n_samples=n_samples, allow_unlabelled=True)


def _check_rng(rng):
    """A Generator (or an int seed, turned into a fresh one); None is refused: the pairs must come from ``rng``."""
    if rng is None:
        raise TypeError("rng is required (a numpy.random.Generator, or an int seed): the pairs are drawn from it")
    return as_generator(rng)


def _check_weight(weight):
    return check_number(weight, "weight", low=0.0)


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__}")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5), got {eps}")
    return float(eps)


def _check_pair_indices(p, q, n_samples):
    """p, q as equal-length 1-D int arrays of row indices in 0..n_samples−1, or raise naming them."""
    out = []
    for name, idx in (("p", p), ("q", q)):
        idx = np.asarray(idx)
        if idx.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of row indices, got shape {idx.shape}")
        if idx.size == 0:
            idx = idx.astype(np.intp)
        elif not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{name} must hold integer row indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= n_samples):
            raise ValueError(f"{name} must hold row indices in 0..{n_samples - 1}, "
                             f"found {idx.min()}..{idx.max()}")
        out.append(idx.astype(np.intp, copy=False))
    if out[0].shape != out[1].shape:
        raise ValueError(f"p and q must have the same length, got {out[0].size} and {out[1].size}")
    return out


# -------------------------------------------------------------------------------------------- pairs
def different_label_pairs(y, rng, n_pairs=None):
    """Draw ``n_pairs`` ordered pairs (p_k, q_k) uniformly from the pairs of labelled samples with y_p ≠ y_q.

    Sampling, not enumeration: a batch of B has O(B²) pairs, and a stochastic estimate of their mean is enough
    for SGD.  Each draw is uniform over the M ordered pairs {(i, j) : y_i ≠ y_j, y_i ≥ 0, y_j ≥ 0}, in two steps:

        P(p = i) = m_i / M,   m_i = #{j : y_j ≥ 0, y_j ≠ y_i}  (i's partners),      P(q = j | p = i) = 1 / m_i,

    so P(p = i, q = j) = 1/M, and (1/K) Σ_k s(h_{p_k}, h_{q_k}) is an unbiased estimate of the mean over all M
    pairs.  Draws are with replacement: a pair can repeat, and a sample can sit in several pairs (the terms
    accumulate its gradient).  Unlabelled samples (y = −1) take no part.

    Parameters
    ----------
    y : (B,) integer labels, −1 for unlabelled.
    rng : numpy.random.Generator (or an int seed); the only source of randomness.  Same state → same pairs.
    n_pairs : int ≥ 1 or None
        Number of pairs K; None means one per labelled sample (K = #{i : y_i ≥ 0}), O(B) like the batch itself.

    Returns
    -------
    p, q : (K,) int arrays of row indices; both empty when there is no pair (fewer than two labelled classes).
    """
    y = _check_pair_labels(y)
    rng = _check_rng(rng)
    if n_pairs is not None:
        n_pairs = check_positive_int(n_pairs, "n_pairs")
    labelled = np.flatnonzero(y >= 0)
    # Group the labelled samples by class: after a stable sort class c fills one block [start_c, start_c + count_c).
    order = labelled[np.argsort(y[labelled], kind="stable")]
    classes, start, count = np.unique(y[order], return_index=True, return_counts=True)
    if classes.size < 2:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    m = order.size
    K = m if n_pairs is None else n_pairs
    cls = np.searchsorted(classes, y[order])  # class index of every sorted position
    partners = m - count[cls]
    pos_p = rng.choice(m, size=K, p=partners / partners.sum())
    c = cls[pos_p]
    # q: a uniform rank among the m − count_c samples outside p's class, mapped past p's own block.
    u = rng.integers(0, m - count[c])
    pos_q = np.where(u < start[c], u, u + count[c])
    return order[pos_p].astype(np.intp), order[pos_q].astype(np.intp)


def same_label_pairs(y, rng, n_pairs=None):
    """Draw ``n_pairs`` ordered pairs (p_k, q_k), p ≠ q, uniformly from the pairs of labelled samples with y_p = y_q.

    The *wrong-way* control of study 3: the same penalty as the diversifying term, on pairs it never sees, so a
    gain that both share is not the labels' doing. Uniform over the M ordered pairs {(i, j) : i ≠ j, y_i = y_j ≥ 0}
    in two steps, P(p = i) = (n_{y_i} − 1)/M with n_c the labelled count of class c, then q uniform among the
    other n_{y_i} − 1 members of p's class: P(p = i, q = j) = 1/M. Arguments and returns as
    ``different_label_pairs``; no pair (no class with two labelled samples) → two empty arrays.
    """
    y = _check_pair_labels(y)
    rng = _check_rng(rng)
    if n_pairs is not None:
        n_pairs = check_positive_int(n_pairs, "n_pairs")
    labelled = np.flatnonzero(y >= 0)
    order = labelled[np.argsort(y[labelled], kind="stable")]  # class c fills the block [start_c, start_c + count_c)
    _, start, count = np.unique(y[order], return_index=True, return_counts=True)
    cls = np.repeat(np.arange(count.size), count)
    partners = count[cls] - 1
    if partners.sum() == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    K = order.size if n_pairs is None else n_pairs
    pos_p = rng.choice(order.size, size=K, p=partners / partners.sum())
    c = cls[pos_p]
    # q: a uniform rank among the count_c − 1 other members of p's class, skipping p itself
    u = rng.integers(0, count[c] - 1)
    pos_q = start[c] + np.where(u < pos_p - start[c], u, u + 1)
    return order[pos_p].astype(np.intp), order[pos_q].astype(np.intp)


def random_pairs(y, rng, n_pairs=None):
    """Draw ``n_pairs`` ordered pairs (p_k, q_k), p ≠ q, uniformly from all pairs of labelled samples, whatever
    their labels: the label-blind control of study 3.

    It touches the same rows as the diversifying term (those with y ≥ 0; at 1 000 labels in pretraining, the
    labelled rows only) and draws as many pairs, but ignores the label values, so it penalises the similarity of
    codes as such. With ten balanced classes about 1/10 of its pairs share a label. P(p = i) = 1/m over the m
    labelled rows, q uniform among the m − 1 others. Arguments and returns as ``different_label_pairs``;
    fewer than two labelled samples → two empty arrays.
    """
    y = _check_pair_labels(y)
    rng = _check_rng(rng)
    if n_pairs is not None:
        n_pairs = check_positive_int(n_pairs, "n_pairs")
    labelled = np.flatnonzero(y >= 0)
    m = labelled.size
    if m < 2:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    K = m if n_pairs is None else n_pairs
    pos_p = rng.integers(0, m, size=K)
    u = rng.integers(0, m - 1, size=K)
    pos_q = np.where(u < pos_p, u, u + 1)
    return labelled[pos_p].astype(np.intp), labelled[pos_q].astype(np.intp)


#: ``pairs`` of a term → the function that draws them: the diversifying pairs and study 3's two controls.
PAIRINGS = {"different": different_label_pairs, "same": same_label_pairs, "random": random_pairs}


def _check_pairs(pairs):
    if pairs not in PAIRINGS:
        raise ValueError(f"pairs must be one of {', '.join(map(repr, PAIRINGS))}, got {pairs!r}")
    return pairs


# -------------------------------------------------------------------------------------------- the terms
class DiversifyingTerm:
    """Base class: R(h) = α · (1/K) Σ_k s(h_{p_k}, h_{q_k}) over pairs of different labels (module docstring).

    Subclasses set ``kind`` and implement ``similarity(a, b) -> (s, ds_da, ds_db)`` for K pairs of codes
    a, b (K, J): s (K,), and the gradients of s_k with respect to a_k and b_k (K, J each).
    """

    kind = None

    def __init__(self, weight, n_pairs=None, pairs="different"):
        self.weight = _check_weight(weight)
        self.n_pairs = None if n_pairs is None else check_positive_int(n_pairs, "n_pairs")
        self.pairs = _check_pairs(pairs)

    # ----- the contract
    def __call__(self, h, y=None, rng=None):
        """Draw pairs from ``rng`` (``PAIRINGS[self.pairs]``: different labels by default) and return ``(value, dh)``
        of the weighted penalty.

        h : (n, J) activations; y : (n,) labels, −1 unlabelled (required); rng : Generator or int seed.
        No pair (all labels equal, or unlabelled) → ``(0.0, zeros)``.  The pairs are drawn even when
        weight = 0, so a run with α = 0 consumes ``rng`` exactly as a run with α > 0 (a fair baseline).
        """
        h = self._check_h(h)
        y = _check_pair_labels(y, h.shape[0])
        p, q = PAIRINGS[self.pairs](y, rng, self.n_pairs)
        return self._penalty(h, p, q)

    def penalty(self, h, p, q):
        """``(value, dh)`` on the given pairs (p_k, q_k): the deterministic half of ``__call__``."""
        h = self._check_h(h)
        p, q = _check_pair_indices(p, q, h.shape[0])
        return self._penalty(h, p, q)

    def config(self):
        """A JSON-serialisable dict with ``"kind"``; ``from_config(term.config())`` rebuilds the term."""
        return {"kind": self.kind, "weight": self.weight, "n_pairs": self.n_pairs, "pairs": self.pairs}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "kind")
        return f"{type(self).__name__}({args})"

    def similarity(self, a, b):
        raise NotImplementedError

    # ----- internals
    def _check_h(self, h):
        return check_array(h, "h")

    def _penalty(self, h, p, q):
        K = p.size
        if K == 0:
            return 0.0, np.zeros_like(h)
        # The pair arrays are small (K × J), so compute in float64 whatever the model's dtype.
        s, ds_da, ds_db = self.similarity(h[p].astype(np.float64), h[q].astype(np.float64))
        value = self.weight * float(np.mean(s))
        grad = np.zeros(h.shape, np.float64)
        # np.add.at, not grad[p] += …: a row that appears in several pairs must receive every contribution
        # (fancy-index += keeps only the last one).
        np.add.at(grad, p, (self.weight / K) * ds_da)
        np.add.at(grad, q, (self.weight / K) * ds_db)
        return value, grad.astype(h.dtype, copy=False)


class _PosteriorTerm(DiversifyingTerm):
    """An RBM term: h are Bernoulli probabilities in [0, 1], clipped to [eps, 1 − eps] inside the similarity."""

    def __init__(self, weight, n_pairs=None, eps=1e-6, pairs="different"):
        super().__init__(weight, n_pairs, pairs)
        self.eps = _check_eps(eps)

    def config(self):
        return {**super().config(), "eps": self.eps}

    def _check_h(self, h):
        return check_array(h, "h", low=0.0, high=1.0)

    def _clip(self, a):
        return np.clip(a, self.eps, 1.0 - self.eps)


class BhattacharyyaDR(_PosteriorTerm):
    """Mean per-unit Bhattacharyya coefficient of the factorised Bernoulli posteriors a = q(h|v_p), b = q(h|v_q):

        s(a, b) = (1/J) Σ_j c_j,      c_j = √(a_j b_j) + √((1 − a_j)(1 − b_j))  ∈ [0, 1],

    (A. Bhattacharyya, "On a measure of divergence between two statistical populations defined by their
    probability distributions", Bull. Calcutta Math. Soc. 35:99–109, 1943).  c_j = 1 − H²_j with H²_j the
    squared Hellinger distance of unit j's two Bernoullis (an f-divergence in Csiszár's sense), so penalising s
    maximises the mean squared Hellinger distance per unit.  c_j = 1 for identical units, 0 for opposite
    saturated units (a_j = 1, b_j = 0).

    Why not the product Π_j c_j (the coefficient of the whole factorised posterior)?  Over hundreds of units it
    is ~0 for nearly every pair, and so is its gradient: the penalty would be inert.  Why not its log, the
    Bhattacharyya distance −Σ_j log c_j?  It is +∞ at opposite saturated units, so −α·D_B is unbounded below.
    The per-unit mean is bounded in [0, 1] and finite everywhere.

    Gradient (by hand): with r = √(a b) and t = √((1 − a)(1 − b)),

        ∂c/∂a = ½ (√(b/a) − √((1 − b)/(1 − a))) = ½ (r/a − t/(1 − a)),    ∂c/∂b = ½ (r/b − t/(1 − b)),

    divided by J for s.  ∂c/∂a is infinite at a ∈ {0, 1} (e.g. √(b/a) as a → 0), and float32 sigmoids do reach
    exactly 0 and 1, so a and b are clipped to [eps, 1 − eps] (eps = 1e-6 by default) and the derivative is
    taken at the clipped point: exact inside [eps, 1 − eps], finite outside.  Chained through σ' = a(1 − a) the
    gradient in the logit x_a is ½ r (1 − a) − ½ t a, bounded by ½ and vanishing as the codes separate
    (r, t → 0): the penalty stops pushing once the two codes differ.
    """

    kind = "bhattacharyya"

    def similarity(self, a, b):
        J = a.shape[1]
        a, b = self._clip(a), self._clip(b)
        r = np.sqrt(a * b)
        t = np.sqrt((1.0 - a) * (1.0 - b))
        s = (r + t).mean(axis=1)
        ds_da = 0.5 * (r / a - t / (1.0 - a)) / J
        ds_db = 0.5 * (r / b - t / (1.0 - b)) / J
        return s, ds_da, ds_db


class SymmetricKLDR(_PosteriorTerm):
    """Minus the mean per-unit symmetric KL divergence of the factorised Bernoulli posteriors a, b:

        KL(a_j ‖ b_j) + KL(b_j ‖ a_j) = (a_j − b_j)(ℓ(a_j) − ℓ(b_j)),      ℓ(x) = log(x / (1 − x))  (the logit),
        s(a, b) = −(1/J) Σ_j (a_j − b_j)(ℓ(a_j) − ℓ(b_j)),

    (Kullback & Leibler, "On information and sufficiency", Ann. Math. Stat. 22:79–86, 1951; the symmetrised form
    is their "divergence" J).  The first line follows from KL(a‖b) = a log(a/b) + (1 − a) log((1 − a)/(1 − b)):
    adding KL(b‖a) leaves (a − b)[log a − log b − log(1 − a) + log(1 − b)].  The penalty α·s = −α·KL_sym
    *maximises* the divergence between codes of different classes.

    Gradient (by hand), using ℓ'(x) = 1/(x(1 − x)):

        ∂KL_j/∂a_j = (ℓ(a_j) − ℓ(b_j)) + (a_j − b_j)/(a_j(1 − a_j)),
        ∂KL_j/∂b_j = −(ℓ(a_j) − ℓ(b_j)) − (a_j − b_j)/(b_j(1 − b_j)),

    times −1/J for s.  Not bounded: KL_sym → ∞ at a_j → 1, b_j → 0 (and grows like |x_a − x_b| in the logits), so
    −α·KL_sym has no minimum and rewards ever-larger weights.  a, b are clipped to [eps, 1 − eps] as in
    ``BhattacharyyaDR``, which caps the value at about 2 log(1/eps) per unit — a cap, not a cure.  That is why
    ``BhattacharyyaDR`` is the default.
    """

    kind = "symmetric_kl"

    def similarity(self, a, b):
        J = a.shape[1]
        a, b = self._clip(a), self._clip(b)
        d = a - b
        dl = (np.log(a) - np.log1p(-a)) - (np.log(b) - np.log1p(-b))
        s = -(d * dl).mean(axis=1)
        ds_da = -(dl + d / (a * (1.0 - a))) / J
        ds_db = (dl + d / (b * (1.0 - b))) / J
        return s, ds_da, ds_db


class InnerProductDR(DiversifyingTerm):
    """Mean inner product of two hidden codes, per unit:

        s(a, b) = ⟨a, b⟩ / J = (1/J) Σ_j a_j b_j,      ∂s/∂a = b / J,   ∂s/∂b = a / J.

    For sigmoid units s ∈ [0, 1]; for ReLU units it is unbounded above, and the easiest way to lower it is to
    shrink the codes (or silence units) rather than to make them differ — watch the sparseness measures
    (``pretrainlab.studies.sparseness.measures``) when sweeping α.  For linear or tanh units s can go negative: the term then
    rewards anti-correlated codes, which for linear units is unbounded below.  Use ``CosineDR`` to see the
    direction only.
    """

    kind = "inner_product"

    def similarity(self, a, b):
        J = a.shape[1]
        return np.einsum("kj,kj->k", a, b) / J, b / J, a / J


class CosineDR(DiversifyingTerm):
    """Mean cosine similarity of two hidden codes:

        s(a, b) = ⟨a, b⟩ / (‖a‖ ‖b‖)  ∈ [−1, 1],
        ∂s/∂a = b / (‖a‖ ‖b‖) − s · a / ‖a‖²,      ∂s/∂b = a / (‖a‖ ‖b‖) − s · b / ‖b‖²

    (the first term moves a towards b, the second removes the part along a itself: s does not depend on ‖a‖,
    so ⟨∂s/∂a, a⟩ = 0).  Scale-invariant, so it cannot be lowered by shrinking the codes.

    Zero norms: the cosine is undefined when ‖a‖ = 0 (a silent ReLU sample), and its gradient blows up like
    1/‖a‖ near 0.  A pair with ‖a‖ ≤ eps or ‖b‖ ≤ eps (eps = 1e-12 by default) counts as orthogonal: s = 0 and no
    gradient — a silent code shares no active unit with any other.  The pair still counts in K.
    """

    kind = "cosine"

    def __init__(self, weight, n_pairs=None, eps=1e-12, pairs="different"):
        super().__init__(weight, n_pairs, pairs)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
            raise TypeError(f"eps must be a real number, got {type(eps).__name__}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0, got {eps}")
        self.eps = float(eps)

    def config(self):
        return {**super().config(), "eps": self.eps}

    def similarity(self, a, b):
        na = np.sqrt(np.einsum("kj,kj->k", a, a))
        nb = np.sqrt(np.einsum("kj,kj->k", b, b))
        ok = (na > self.eps) & (nb > self.eps)
        na, nb = np.where(ok, na, 1.0), np.where(ok, nb, 1.0)  # placeholders: those pairs are zeroed below
        s = np.where(ok, np.einsum("kj,kj->k", a, b) / (na * nb), 0.0)
        ds_da = b / (na * nb)[:, None] - (s / na**2)[:, None] * a
        ds_db = a / (na * nb)[:, None] - (s / nb**2)[:, None] * b
        ds_da[~ok] = 0.0
        ds_db[~ok] = 0.0
        return s, ds_da, ds_db


# -------------------------------------------------------------------------------------------- registry
#: kind → class: the explicit list a checkpoint's config is rebuilt from (no name lookup by string magic).
TERMS = {cls.kind: cls for cls in (BhattacharyyaDR, SymmetricKLDR, InnerProductDR, CosineDR)}


def from_config(config):
    """Rebuild a term from ``term.config()``: ``TERMS[config["kind"]](**rest)``, with errors naming ``config``."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict (from term.config()), got {type(config).__name__}")
    kind = config.get("kind")
    if kind not in TERMS:
        raise ValueError(f"config['kind'] must be one of {', '.join(map(repr, TERMS))}, got {kind!r}")
    cls = TERMS[kind]
    kwargs = {k: v for k, v in config.items() if k != "kind"}
    allowed = set(inspect.signature(cls).parameters)
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"config for kind {kind!r} has unknown keys {unknown}; allowed: {sorted(allowed)}")
    return cls(**kwargs)
