"""Contrastive divergence: the gradient estimator that trains an RBM (CD-k and persistent CD).

The gradient of an RBM's mean log-likelihood is a difference of two correlations (``rbm.py``),

    ∂ log p(v) / ∂W = ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model,

and contrastive divergence (Hinton 2002) estimates the model term by a k-step Gibbs chain started at the data
(CD-k) or at persistent "fantasy particles" carried between updates (PCD, Tieleman 2008). The estimator has
the signature of a loss's gradient, ``(v, y=None) → (recon_error, grads)``, so the one ``Trainer`` drives it.
"""
import numpy as np

from . import kernels
from . import penalties as penalty_terms
from .base import terms_from
from .layers import bernoulli_sample
from .validation import check_positive_int


class ContrastiveDivergence:
    """Gradient estimator for an RBM by CD-k or persistent CD: ``(v, y=None) → (recon_error, grads)``.

    The returned ``grads`` estimate the gradient of the *negative* mean log-likelihood (so an optimiser
    can descend them like any loss gradient), plus the gradients of any penalty terms:

        grads["W"]     = −(⟨v hᵀ⟩_data − ⟨v hᵀ⟩_recon)       = −(v₀ᵀ ph₀ − v_kᵀ ph_k) / B
        grads["b_vis"] = −(⟨v⟩_data − ⟨v⟩_recon)
        grads["b_hid"] = −(⟨ph⟩_data − ⟨ph⟩_recon)

    where v₀ is the data batch, ph₀ = p(h | v₀), and v_k, ph_k come from k Gibbs steps started at v₀
    (CD-k, Hinton 2002) or at the persistent fantasy particles (PCD, Tieleman 2008), which are then kept
    for the next call.

    Penalties (``penalties.py``) are attached as on every model: ``weight_decay`` adds λW to grads["W"]
    (the decay of Hinton 2010, §10); ``sparsity_target``/``sparsity_weight`` a KL sparsity term; ``penalties``
    any further terms (study 3's diversifying prior). An activity term R(ph₀; y) on the data's hidden
    probabilities is back-propagated through ph₀ = σ(v₀W + b_hid): with δ = ∂R/∂ph₀ ⊙ ph₀(1 − ph₀),
    grads["W"] += v₀ᵀδ and grads["b_hid"] += Σ_n δ_n — the gradient of a log-prior −R added to the likelihood.

    Which path runs: ``_step_numpy`` (the reference, read it first) or, for batches of at most
    ``kernels.CD_KERNEL_MAX_BATCH`` rows of a model with ``has_kernels``, ``kernels/rbm.py``'s ``cd_step``,
    fed the uniforms the NumPy path would draw, so a given seed gives the same samples either way.
    ``kernels.set_backend("numpy")`` forces the reference.

    Parameters
    ----------
    rbm : BernoulliRBM (or any model with the same conditionals)
    k : int, or a schedule epoch ↦ int (``optim.k_schedule``): the number of Gibbs steps.
    persistent : bool, PCD instead of CD.
    n_chains : int, number of fantasy particles for PCD (default: the first batch's size).
    sparsity_target, sparsity_weight : KL sparsity toward the target rate (off when the weight is 0).
    weight_decay : float, λ of the L2 penalty ½λ‖W‖².
    penalties : further penalty terms.
    mean_field_visibles : bool, CD-1 only. The negative phase's visible units are the *probabilities*
        v₁ = p(v | h₀), not a binary sample of them, and ph₁ = p(h | v₁): what Hinton & Salakhutdinov's
        ``rbm.m`` does (Science 2006, MNIST code: ``negdata = 1./(1 + exp(-poshidstates*vishid' - …))``,
        ``neghidprobs`` from ``negdata``; h₀ is still sampled, ``poshidstates = poshidprobs > rand``). The
        update then reads ``grads["W"] = −(v₀ᵀ ph₀ − p(v | h₀)ᵀ ph₁) / B``. Since E[v₁ | h₀] = p(v | h₀), the
        b_vis term has sampled CD-1's expectation with less variance; the W and b_hid terms do not (ph₁ is
        nonlinear in v₁): another, lower-variance estimator. No uniforms are drawn for the visibles, so the
        generator's stream differs from sampled CD's from the first batch on. Only CD-1 is defined this way
        in the source: k ≠ 1 or ``persistent`` is refused.
    """

    def __init__(self, rbm, k=1, persistent=False, n_chains=None, sparsity_target=0.1, sparsity_weight=0.0,
                 weight_decay=0.0, penalties=(), mean_field_visibles=False):
        from .rbm import BernoulliRBM

        if not isinstance(rbm, BernoulliRBM):  # (now, not an AttributeError in the first step)
            raise TypeError(f"rbm must be a BernoulliRBM or GaussianBernoulliRBM, got {type(rbm).__name__}")
        self.rbm = rbm
        self.k_schedule = k
        self.k = self._resolve_k(0)
        self.persistent = bool(persistent)
        self.mean_field_visibles = bool(mean_field_visibles)
        if self.mean_field_visibles and (self.persistent or callable(k) or self.k != 1):
            raise ValueError("mean_field_visibles: defined for CD-1 only (rbm.m); got "
                             + ("persistent CD" if self.persistent else f"k = {k!r}"))
        self.n_chains = None if n_chains is None else check_positive_int(n_chains, "n_chains")
        self.penalties = penalty_terms.build(weight_decay, "kl" if sparsity_weight else None, sparsity_target,
                                             sparsity_weight, terms_from(penalties))
        self.chains = None  # the fantasy particles' visible states (PCD only)

    def _resolve_k(self, epoch):
        k = self.k_schedule(epoch) if callable(self.k_schedule) else self.k_schedule
        return check_positive_int(k, "k")

    def set_epoch(self, epoch):
        """The trainer calls this before each epoch: k follows its schedule."""
        self.k = self._resolve_k(epoch)

    # -- estimator state, saved in the trainer's checkpoint (exact resume of PCD) ------------------
    def state(self):
        return {} if self.chains is None else {"chains": self.chains}

    def check_state(self, arrays, path):
        chains = arrays.get("chains")
        if chains is not None and (chains.ndim != 2 or chains.shape[1] != self.rbm.n_visible):
            raise ValueError(f"path: {path} holds fantasy particles of shape {chains.shape}, "
                             f"expected (n_chains, {self.rbm.n_visible})")
        # the chains are binary states of the visibles: NaN, 0.5 or a complex value is a corrupt file
        if chains is not None and (chains.dtype.kind not in "fiub" or not np.all((chains == 0) | (chains == 1))):
            raise ValueError(f"path: {path} holds fantasy particles that are not binary (0/1) states")

    def load_state(self, arrays):
        chains = arrays.get("chains")
        self.chains = None if chains is None else chains.astype(self.rbm.dtype)

    # -- the step ------------------------------------------------------------------------------
    def __call__(self, v, y=None):
        rbm = self.rbm
        v0 = rbm.check_v(v)
        # (the compiled step samples the visibles: mean-field negatives take the reference path)
        if (rbm.has_kernels and not self.mean_field_visibles
                and kernels.use_kernel(len(v0), kernels.CD_KERNEL_MAX_BATCH)):
            from .kernels.rbm import cd_step  # the one dispatch line: the same step, compiled
            ph0, h0, vk, phk, recon, (gW, gb_vis, gb_hid) = cd_step(
                v0, rbm.W, rbm.b_vis, rbm.b_hid, rbm.rng, self.k, self.persistent, self.chains, self.n_chains)
            grads = {"W": gW, "b_vis": gb_vis, "b_hid": gb_hid}
        else:
            ph0, h0, vk, phk, recon, grads = self._step_numpy(v0)
        if self.persistent:
            self.chains = vk
        self._add_penalties(v0, ph0, y, grads)
        # The monitor: squared error between the data and its one-step mean-field reconstruction p(v | h₀).
        recon -= v0
        recon_error = float(np.einsum("ij,ij->", recon, recon)) / len(v0)
        return recon_error, grads

    def _add_penalties(self, v0, ph0, y, grads):
        """Add each penalty term's gradient: weight terms directly, activity terms through ph₀ = σ(v₀W + b_hid)."""
        if not self.penalties:
            return
        penalty_terms.add_weight_terms(self.penalties, self.rbm.params, 0.0, grads)
        _, dph = penalty_terms.activity_terms(self.penalties, ph0, y, self.rbm.rng)
        if dph is not None:
            delta = dph * ph0 * (1 - ph0)  # σ' = σ(1 − σ)
            grads["W"] += v0.T @ delta
            grads["b_hid"] += delta.sum(axis=0)

    def _chain_start(self, n_rows):
        """PCD's fantasy particles, drawn uniformly at random on the first call."""
        if self.chains is None:
            n = self.n_chains or n_rows
            self.chains = bernoulli_sample(np.full((n, self.rbm.n_visible), 0.5, self.rbm.dtype), self.rbm.rng)
        return self.chains

    def _step_numpy(self, v0):
        """The reference path: the RBM's own conditionals and Gibbs sampler, BLAS for the products."""
        rbm = self.rbm
        ph0, h0 = rbm.sample_h_given_v(v0)
        if self.persistent:
            recon = rbm.mean_visibles(h0)  # the monitor
            vk, phk = rbm.gibbs_vhv(self._chain_start(len(v0)), self.k)
        else:
            # CD-k restarts at the data: its first step h₀ → v₁ also gives the monitor's p(v | h₀).
            if self.mean_field_visibles:  # rbm.m: the negative visibles are p(v | h₀) itself (k = 1)
                recon = rbm.mean_visibles(h0)
                vk, phk = recon, rbm.mean_hiddens(recon)
            else:
                recon, v1 = rbm.sample_v_given_h(h0)
                vk, phk = rbm.gibbs_vhv(v1, self.k - 1)
        # Both correlations in one matrix product: [v_k; v₀]ᵀ [ph_k / n_k; −ph₀ / n₀].
        n0, nk = len(v0), len(vk)
        grads = {
            "W": np.concatenate([vk, v0]).T @ np.concatenate([phk / nk, ph0 / -n0]),
            "b_vis": vk.mean(axis=0) - v0.mean(axis=0),
            "b_hid": phk.mean(axis=0) - ph0.mean(axis=0),
        }
        return ph0, h0, vk, phk, recon, grads
