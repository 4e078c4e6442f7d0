"""Restricted Boltzmann machines and their training by contrastive divergence.

A Bernoulli–Bernoulli RBM has binary visible units v ∈ {0,1}^n_visible, binary hidden units
h ∈ {0,1}^n_hidden, and the energy (Hinton 2010, "A Practical Guide to Training RBMs", eq. 1)

    E(v, h) = −vᵀWh − b_visᵀv − b_hidᵀh,        p(v, h) = e^{−E(v,h)} / Z.

With no connections inside a layer the conditionals factorise (eqs. 7–8):

    p(h_j = 1 | v) = σ(b_hid_j + (vW)_j),       p(v_i = 1 | h) = σ(b_vis_i + (Wh)_i),

and summing out h gives the free energy F(v) = −log Σ_h e^{−E(v,h)}, with p(v) = e^{−F(v)} / Z.

The gradient of the mean log-likelihood over data is a difference of two correlations,

    ∂ log p(v) / ∂W = ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model,

and contrastive divergence (Hinton 2002) estimates the model term by a k-step Gibbs chain started
at the data (CD-k) or at persistent "fantasy particles" carried between updates (PCD, Tieleman 2008).

Arrays are row-major batches: v is (n_samples, n_visible), h is (n_samples, n_hidden);
``ph`` denotes probabilities p(h = 1 | v), ``h`` sampled states.
"""
import numpy as np

from . import kernels
from .layers import bernoulli_sample, sigmoid, softplus
from .validation import as_generator, check_array, check_positive_int


class BernoulliRBM:
    """Bernoulli–Bernoulli RBM with weights ``W`` (n_visible, n_hidden), biases ``b_vis``, ``b_hid``.

    Parameters
    ----------
    n_visible, n_hidden : int
    rng : numpy.random.Generator or int seed
        Used for the initial weights and every sampling call.
    init_scale : float
        W ~ N(0, init_scale²) (0.01 as recommended by Hinton 2010, §8); biases start at 0.
    dtype : float32 (fast) or float64 (exact checks).
    """

    #: the keys of ``params``, in the order a student meets them in the energy
    param_names = ("W", "b_vis", "b_hid")
    #: the visible units' kind: "binary" here, "gaussian" in GaussianBernoulliRBM (AIS reads it)
    visible_units = "binary"

    def __init__(self, n_visible, n_hidden, rng=None, init_scale=0.01, dtype=np.float32):
        self.n_visible = check_positive_int(n_visible, "n_visible")
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.rng = as_generator(rng)
        self.dtype = np.dtype(dtype)
        self.params = {
            "W": (init_scale * self.rng.standard_normal((self.n_visible, self.n_hidden))).astype(self.dtype),
            "b_vis": np.zeros(self.n_visible, dtype=self.dtype),
            "b_hid": np.zeros(self.n_hidden, dtype=self.dtype),
        }

    # The arrays live in ``params`` (which the trainer updates in place); these names are views on them.
    @property
    def W(self):
        return self.params["W"]

    @property
    def b_vis(self):
        return self.params["b_vis"]

    @property
    def b_hid(self):
        return self.params["b_hid"]

    def config(self):
        """Constructor arguments that rebuild this model's shape (used by checkpoints)."""
        return {"n_visible": self.n_visible, "n_hidden": self.n_hidden, "dtype": self.dtype.name}

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` in place (e.g. float64 for exact checks); returns self."""
        self.dtype = np.dtype(dtype)
        for name, value in self.params.items():
            self.params[name] = value.astype(self.dtype)
        return self

    # ------------------------------------------------------------------ input checks
    def check_v(self, v, name="v"):
        """v must be (n_samples, n_visible) with values in [0, 1] (binary states or probabilities)."""
        return check_array(v, name, n_cols=self.n_visible, low=0.0, high=1.0, dtype=self.dtype)

    def check_h(self, h, name="h"):
        return check_array(h, name, n_cols=self.n_hidden, low=0.0, high=1.0, dtype=self.dtype)

    def init_visible_bias(self, v, eps=1e-3):
        """b_vis_i = log(p_i / (1 − p_i)) with p_i the fraction of data where v_i is on (Hinton 2010, §8).

        Starting the visible biases at the data's log-odds means the hiddens need not learn the pixel
        means; p is clipped to [eps, 1 − eps] so always-off pixels get a large negative, finite bias.
        """
        p = np.clip(self.check_v(v).mean(axis=0), eps, 1 - eps)
        self.params["b_vis"][...] = np.log(p / (1 - p))
        return self

    # ------------------------------------------------------------------ energies
    def energy(self, v, h):
        """E(v, h) = −vᵀWh − b_visᵀv − b_hidᵀh  (Hinton 2010, eq. 1).  Returns (n_samples,)."""
        v, h = self.check_v(v), self.check_h(h)
        return self.visible_energy(v) - np.einsum("ni,ij,nj->n", v, self.W, h) - h @ self.b_hid

    def visible_energy(self, v, b_vis=None):
        """The part of E(v, h) that involves v alone: −b_vis·v.  Returns (n_samples,).

        ``b_vis`` defaults to the model's; AIS passes its base model's bias here. This term, with
        ``mean_visibles`` and ``sample_v_given_h``, is all a subclass with other visible units redefines.
        """
        return -(v @ (self.b_vis if b_vis is None else b_vis))

    def free_energy(self, v):
        """F(v) = −b_vis·v − Σ_j softplus(b_hid_j + (vW)_j)   (Hinton 2010, eq. 3 summed over h).

        v : (n_samples, n_visible) array in [0, 1].  Returns (n_samples,) array.
        """
        v = self.check_v(v)
        return self.visible_energy(v) - softplus(v @ self.W + self.b_hid).sum(axis=1)

    def hidden_free_energy(self, h):
        """F(h) = −log Σ_v e^{−E(v,h)} = −b_hid·h − Σ_i softplus(b_vis_i + (Wh)_i)  (v summed out instead of h).

        h : (n_samples, n_hidden) binary array.  Returns (n_samples,). Used to enumerate Z over the hiddens.
        """
        return -(h @ self.b_hid) - softplus(h @ self.W.T + self.b_vis).sum(axis=1)

    # ------------------------------------------------------------------ conditionals (propup / propdown)
    def mean_hiddens(self, v):
        """p(h_j = 1 | v) = σ(b_hid_j + (vW)_j)  (Hinton 2010, eq. 7).  v (n, n_visible) → (n, n_hidden)."""
        a = v @ self.W
        a += self.b_hid
        return sigmoid(a, out=a)  # in place: this runs in every Gibbs step

    def mean_visibles(self, h):
        """p(v_i = 1 | h) = σ(b_vis_i + (Wh)_i)  (Hinton 2010, eq. 8).  h (n, n_hidden) → (n, n_visible)."""
        a = h @ self.W.T
        a += self.b_vis
        return sigmoid(a, out=a)

    def sample_h_given_v(self, v):
        """Return ``(ph, h)``: the probabilities p(h = 1 | v) and one binary sample of them."""
        ph = self.mean_hiddens(v)
        return ph, bernoulli_sample(ph, self.rng)

    def sample_v_given_h(self, h):
        """Return ``(pv, v)``: the probabilities p(v = 1 | h) and one binary sample of them."""
        pv = self.mean_visibles(h)
        return pv, bernoulli_sample(pv, self.rng)

    def gibbs_vhv(self, v, k=1, h=None):
        """Run k ≥ 0 steps of block Gibbs sampling v → h → v'.  Returns ``(v_k, ph_k)``.

        ``ph_k`` = p(h | v_k) is returned too because the CD update uses it (using the probability
        rather than a sample of h_k lowers the variance of the estimate, Hinton 2010 §3.3); h_k itself
        is never drawn. ``h``, if given, is a hidden sample already drawn from p(h | v), used as the
        first step's h. The uniforms are consumed in the order h₀, v₁, h₁, v₂, …, v_k, which the
        Numba chain (``kernels.gibbs_chain``) follows too.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"k must be an integer, got {type(k).__name__}")
        if k < 0:
            raise ValueError(f"k must be ≥ 0, got {k}")
        for _ in range(k):
            if h is None:
                _, h = self.sample_h_given_v(v)
            _, v = self.sample_v_given_h(h)
            h = None
        return v, self.mean_hiddens(v)

    def sample(self, n_samples, n_steps=1000, v0=None):
        """Draw ``n_samples`` approximate samples from the model by a long Gibbs chain.

        Starts at ``v0`` (e.g. test images) or at uniform random binary states; returns the visible
        *probabilities* of the final step, which are smoother to look at than binary states.
        """
        if v0 is None:
            v = bernoulli_sample(np.full((n_samples, self.n_visible), 0.5, self.dtype), self.rng)
        else:
            v = self.check_v(v0, "v0")
        _, ph = self.gibbs_vhv(v, n_steps)
        return self.mean_visibles(bernoulli_sample(ph, self.rng))

    def transform(self, v):
        """Hidden probabilities p(h = 1 | v): the features an RBM hands to the next layer or a classifier."""
        return self.mean_hiddens(self.check_v(v))

    # ------------------------------------------------------------------ monitors
    def reconstruction_error(self, v):
        """Mean over samples of ‖v − p(v | h)‖² with h sampled from p(h | v): a cheap, rough monitor.

        It is *not* the objective CD optimises (Hinton 2010, §5): use the likelihood module to judge a model.
        """
        v = self.check_v(v)
        _, h = self.sample_h_given_v(v)
        return float(((v - self.mean_visibles(h)) ** 2).sum(axis=1).mean())

    def free_energy_gap(self, v_train, v_valid):
        """mean F(v_valid) − mean F(v_train) (Hinton 2010, §6): grows when the model overfits the training set.

        Z cancels in the difference, so the gap is exact though F itself is only known up to log Z.
        Compare equal-sized samples of the two sets.
        """
        return float(self.free_energy(v_valid).mean() - self.free_energy(v_train).mean())

    def pseudo_likelihood(self, v):
        """Stochastic pseudo-log-likelihood per sample, n_visible · log σ(F(ṽ) − F(v)).

        For each sample one visible unit i, chosen at random, is flipped to give ṽ; then
        log p(v_i | v_{−i}) = log σ(F(ṽ) − F(v)), and n_visible times the average over i estimates the
        pseudo-log-likelihood Σ_i log p(v_i | v_{−i}) (Besag 1975; the estimator of the Theano
        tutorial's ``get_pseudo_likelihood_cost``). Meant for binary v.
        """
        v = self.check_v(v)
        i = self.rng.integers(0, self.n_visible, size=len(v))
        v_flip = v.copy()
        rows = np.arange(len(v))
        v_flip[rows, i] = 1 - v_flip[rows, i]
        # log σ(x) = −softplus(−x)
        return float(-(self.n_visible * softplus(self.free_energy(v) - self.free_energy(v_flip))).mean())


class ContrastiveDivergence:
    """Gradient estimator for an RBM by CD-k or persistent CD: ``(v, y=None) → (recon_error, grads)``.

    The returned ``grads`` estimate the gradient of the *negative* mean log-likelihood (so an optimiser
    can descend them like any loss gradient):

        grads["W"]     = −(⟨v hᵀ⟩_data − ⟨v hᵀ⟩_recon)       = −(v₀ᵀ ph₀ − v_kᵀ ph_k) / B
        grads["b_vis"] = −(⟨v⟩_data − ⟨v⟩_recon)
        grads["b_hid"] = −(⟨ph⟩_data − ⟨ph⟩_recon)

    where v₀ is the data batch, ph₀ = p(h | v₀), and v_k, ph_k come from k Gibbs steps started at v₀
    (CD-k, Hinton 2002) or at the persistent fantasy particles (PCD, Tieleman 2008), which are then kept
    for the next call. An optional sparsity target ρ adds ``sparsity_cost`` times the derivative of the
    cross-entropy between ρ and the mean hidden probability q with respect to each hidden unit's total
    input, (q − ρ), to b_hid and (through the inputs) to W (Hinton 2010, §11).

    Two paths compute the same step: ``_step_numpy`` (the reference, read it first) and, for batches of at
    most ``kernels.CD_KERNEL_MAX_BATCH`` rows, ``_step_kernel`` (Numba), which is fed the uniforms the NumPy
    path would draw, so a given seed gives the same samples either way. ``kernels.set_backend("numpy")``
    forces the NumPy path.

    Parameters
    ----------
    rbm : BernoulliRBM (or any model with the same conditionals)
    k : int, number of Gibbs steps.
    persistent : bool, PCD instead of CD.
    n_chains : int, number of fantasy particles for PCD (default: the first batch's size).
    sparsity_target, sparsity_cost : float, optional sparsity penalty (off when cost is 0).
    """

    def __init__(self, rbm, k=1, persistent=False, n_chains=None, sparsity_target=0.1, sparsity_cost=0.0):
        self.rbm = rbm
        self.k = check_positive_int(k, "k")
        self.persistent = bool(persistent)
        self.n_chains = None if n_chains is None else check_positive_int(n_chains, "n_chains")
        if not 0.0 < sparsity_target < 1.0:
            raise ValueError(f"sparsity_target must be in (0, 1), got {sparsity_target}")
        self.sparsity_target = sparsity_target
        self.sparsity_cost = float(sparsity_cost)
        self.chains = None  # the fantasy particles' visible states (PCD only)

    def __call__(self, v, y=None):
        rbm = self.rbm
        v0 = rbm.check_v(v)
        # The kernels hard-code the Bernoulli conditionals: subclasses with other units take the NumPy path.
        if type(rbm) is BernoulliRBM and kernels.use_kernel(len(v0), kernels.CD_KERNEL_MAX_BATCH):
            ph0, h0, vk, phk, recon, grads = self._step_kernel(v0)
        else:
            ph0, h0, vk, phk, recon, grads = self._step_numpy(v0)
        if self.persistent:
            self.chains = vk
        if self.sparsity_cost:
            dq = self.sparsity_cost * (ph0.mean(axis=0) - self.sparsity_target)
            grads["b_hid"] += dq
            grads["W"] += np.outer(v0.mean(axis=0), dq)
        # The monitor: squared error between the data and its one-step mean-field reconstruction p(v | h₀).
        recon -= v0
        recon_error = float(np.einsum("ij,ij->", recon, recon)) / len(v0)
        return recon_error, grads

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

    def _step_kernel(self, v0):
        """The same step by the Numba kernels, fed uniforms drawn in the NumPy path's order."""
        rbm = self.rbm
        rng, dtype, n_visible, n_hidden = rbm.rng, rbm.dtype, rbm.n_visible, rbm.n_hidden
        W, b_vis, b_hid = rbm.W, rbm.b_vis, rbm.b_hid
        v0 = np.ascontiguousarray(v0)
        ph0, h0 = np.empty((2, len(v0), n_hidden), dtype)
        kernels.sample_hiddens(v0, W, b_hid, rng.random(ph0.shape, dtype=dtype), ph0, h0)
        if self.persistent:
            recon = rbm.mean_visibles(h0)
            start = self._chain_start(len(v0))
            h, ph = np.empty((2, len(start), n_hidden), dtype)
            kernels.sample_hiddens(start, W, b_hid, rng.random(h.shape, dtype=dtype), ph, h)
        else:
            h, start = h0.copy(), v0
        n = len(start)
        u_v, u_h = np.empty((self.k, n, n_visible), dtype), np.empty((self.k - 1, n, n_hidden), dtype)
        for s in range(self.k):  # interleaved exactly as the NumPy chain draws them
            rng.random(dtype=dtype, out=u_v[s])
            if s < self.k - 1:
                rng.random(dtype=dtype, out=u_h[s])
        pv_first, vk = np.empty((2, n, n_visible), dtype)
        phk = np.empty((n, n_hidden), dtype)
        kernels.gibbs_chain(h, W, b_vis, b_hid, u_v, u_h, pv_first, vk, phk)
        if not self.persistent:
            recon = pv_first
        grads = {name: np.empty_like(p) for name, p in rbm.params.items()}
        kernels.cd_gradient(v0, ph0, vk, phk, grads["W"], grads["b_vis"], grads["b_hid"])
        return ph0, h0, vk, phk, recon, grads


class GaussianBernoulliRBM(BernoulliRBM):
    """RBM with real-valued, unit-variance Gaussian visible units and binary hidden units.

    Energy (Hinton 2010, §13.2, with σ_i = 1 after standardising each pixel; Cho et al. 2011):

        E(v, h) = ½‖v − b_vis‖² − vᵀWh − b_hidᵀh.

    The hidden conditional is unchanged, p(h_j = 1 | v) = σ(b_hid_j + (vW)_j); the visible one is
    Gaussian, v | h ~ N(b_vis + Wh, I), and summing out h gives the free energy

        F(v) = ½‖v − b_vis‖² − Σ_j softplus(b_hid_j + (vW)_j).

    Only the visible side differs from ``BernoulliRBM``, so ``ContrastiveDivergence`` (CD-k and PCD)
    trains it unchanged: its gradient ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model has the same form. Unit variance
    assumes standardised data (``data.standardize``; ``data.unstandardize`` maps samples back), and
    such models want a smaller learning rate (~1e-3) than binary ones (Hinton 2010, §13.2).
    """

    visible_units = "gaussian"

    def check_v(self, v, name="v"):
        """v must be (n_samples, n_visible), real-valued and finite."""
        return check_array(v, name, n_cols=self.n_visible, dtype=self.dtype)

    def init_visible_bias(self, v):
        """b_vis = the data mean: the visible units then need no hidden unit to explain it."""
        self.params["b_vis"][...] = self.check_v(v).mean(axis=0)
        return self

    def visible_energy(self, v, b_vis=None):
        """The part of E(v, h) that involves v alone: ½‖v − b_vis‖².  Returns (n_samples,)."""
        d = v - (self.b_vis if b_vis is None else b_vis)
        return 0.5 * np.einsum("ni,ni->n", d, d)

    def hidden_free_energy(self, h):
        """F(h) = −log ∫ e^{−E(v,h)} dv = −b_hid·h − ½‖b_vis + Wh‖² + ½‖b_vis‖² − (n_visible/2) log 2π.

        The Gaussian integral ∫ exp(−½‖v‖² + vᵀ(b_vis + Wh)) dv = (2π)^{n/2} exp(½‖b_vis + Wh‖²).
        """
        m = h @ self.W.T + self.b_vis
        return (-(h @ self.b_hid) - 0.5 * np.einsum("ni,ni->n", m, m) + 0.5 * (self.b_vis @ self.b_vis)
                - 0.5 * self.n_visible * np.log(2 * np.pi))

    def mean_visibles(self, h):
        """E[v | h] = b_vis + Wh.  h (n, n_hidden) → (n, n_visible)."""
        return h @ self.W.T + self.b_vis

    def sample_v_given_h(self, h):
        """Return ``(mean, v)`` with v = mean + ε, ε ~ N(0, I): one draw of v | h ~ N(b_vis + Wh, I)."""
        mean = self.mean_visibles(h)
        return mean, mean + self.rng.standard_normal(mean.shape, dtype=self.dtype)

    def sample(self, n_samples, n_steps=1000, v0=None):
        """Approximate model samples by a Gibbs chain from ``v0`` or N(0, I); returns the final means b_vis + Wh."""
        if v0 is None:
            v0 = self.rng.standard_normal((n_samples, self.n_visible), dtype=self.dtype)
        return super().sample(n_samples, n_steps, v0)

    def pseudo_likelihood(self, v):
        """Not defined here: the bit-flip estimator needs binary visible units (use AIS instead)."""
        raise TypeError("pseudo_likelihood needs binary visible units; GaussianBernoulliRBM has real-valued ones")
