"""Restricted Boltzmann machines and their training by contrastive divergence.

A Bernoulli–Bernoulli RBM has binary visible units v ∈ {0,1}^n_visible, binary hidden units
h ∈ {0,1}^n_hidden, and the energy (Hinton 2010, "A Practical Guide to Training RBMs", eq. 1)

    E(v, h) = −vᵀWh − b_visᵀv − b_hidᵀh,        p(v, h) = e^{−E(v,h)} / Z.

With no connections inside a layer the conditionals factorise (eqs. 7–8):

    p(h_j = 1 | v) = σ(b_hid_j + (vW)_j),       p(v_i = 1 | h) = σ(b_vis_i + (Wh)_i),

and summing out h gives the free energy F(v) = −log Σ_h e^{−E(v,h)}, with p(v) = e^{−F(v)} / Z.

The gradient of the mean log-likelihood over data is a difference of two correlations,

    ∂ log p(v) / ∂W = ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model,

and contrastive divergence (``cd.py``: CD-k, Hinton 2002; PCD, Tieleman 2008) estimates the model term by a
short Gibbs chain.

Arrays are row-major batches: v is (n_samples, n_visible), h is (n_samples, n_hidden);
``ph`` denotes probabilities p(h = 1 | v), ``h`` sampled states.
"""
import numpy as np

from .base import Model, check_float_dtype, param_view
from .layers import bernoulli_sample, sigmoid, softplus
from .validation import as_generator, check_array, check_number, check_positive_int


class BernoulliRBM(Model):
    """Bernoulli–Bernoulli RBM with weights ``W`` (n_visible, n_hidden), biases ``b_vis``, ``b_hid``.

    Parameters
    ----------
    n_visible, n_hidden : int
    rng : numpy.random.Generator or int seed
        Used for the initial weights and every sampling call.
    init_scale : float
        W ~ N(0, init_scale²) (0.01 as recommended by Hinton 2010, §8); biases start at 0.
    dtype : float32 (fast) or float64 (exact checks).

    Which path runs: the conditionals and samplers below are NumPy (the reference); CD on small batches
    runs the same step in ``kernels/rbm.py`` (see ``ContrastiveDivergence``).
    """

    #: the keys of ``params``, in the order a student meets them in the energy
    param_names = ("W", "b_vis", "b_hid")
    config_names = ("n_visible", "n_hidden")
    #: the visible units' kind: "binary" here, "gaussian" in GaussianBernoulliRBM
    visible_units = "binary"
    #: whether the Numba kernels (which hard-code these Bernoulli conditionals) may run this model's steps;
    #: a subclass with other units sets it False
    has_kernels = True
    #: whether log Z may be enumerated over the visible states (binary: 2^n_visible terms)
    enumerable_visibles = True

    W = param_view("W", "weights (n_visible, n_hidden)")
    b_vis = param_view("b_vis", "visible biases (n_visible,)")
    b_hid = param_view("b_hid", "hidden biases (n_hidden,)")

    def __init__(self, n_visible, n_hidden, rng=None, init_scale=0.01, dtype=np.float32):
        self.n_visible = check_positive_int(n_visible, "n_visible")
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        init_scale = check_number(init_scale, "init_scale", low=0.0)
        self.rng = as_generator(rng)
        self.dtype = check_float_dtype(dtype)
        self.params = {
            "W": (init_scale * self.rng.standard_normal((self.n_visible, self.n_hidden))).astype(self.dtype),
            "b_vis": np.zeros(self.n_visible, dtype=self.dtype),
            "b_hid": np.zeros(self.n_hidden, dtype=self.dtype),
        }

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
        n_steps = check_positive_int(n_steps, "n_steps")
        if v0 is None:
            n_samples = check_positive_int(n_samples, "n_samples")
            v = bernoulli_sample(np.full((n_samples, self.n_visible), 0.5, self.dtype), self.rng)
        else:
            v = self.check_v(v0, "v0")
        _, ph = self.gibbs_vhv(v, n_steps)
        return self.mean_visibles(bernoulli_sample(ph, self.rng))

    def transform(self, v):
        """Hidden probabilities p(h = 1 | v): the features an RBM hands to the next layer or a classifier."""
        return self.mean_hiddens(self.check_v(v))

    def reconstruct(self, v):
        """The deterministic one-step reconstruction v̂ = E[v | h = p(h = 1 | v)] (mean field both ways): for binary
        visibles σ(b_vis + W p(h | v)), for Gaussian ones b_vis + W p(h | v). What a reconstruction figure shows;
        ``reconstruction_error`` samples h instead."""
        return self.mean_visibles(self.transform(v))

    def gibbs_snapshots(self, v0, steps=(0, 1, 10, 100, 1000)):
        """Visible probabilities of chains started at ``v0`` after each number of Gibbs steps in ``steps``.

        Returns (len(v0) · len(steps), n_visible), chain-major: row i·len(steps) + s is chain i at steps[s]
        (``plotting.plot_images`` with ``n_cols=len(steps)`` shows one chain per row).
        """
        v0 = self.check_v(v0, "v0")
        snaps, v, done = [], v0, 0
        for n in steps:
            if n > done:
                v, ph = self.gibbs_vhv(v, n - done)
                done = n
                snaps.append(self.mean_visibles(ph))
            else:
                snaps.append(v0)
        return np.stack(snaps, axis=1).reshape(-1, v0.shape[1])

    # ------------------------------------------------------------------ visible units, as AIS and log Z ask
    # The likelihood code never branches on the kind of visible unit: it asks the model these four things.
    def visible_noise(self, rng, shape):
        """The random numbers one draw of the visibles consumes: uniforms (v = [u < p]).  ``shape`` (n, n_visible)."""
        return rng.random(shape, dtype=self.dtype)

    def visible_from_natural(self, eta, noise):
        """A visible sample whose conditional has natural parameter η (η = b_vis + Wh for p(v | h)), from
        ``noise`` (``visible_noise``): v = [u < σ(η)].  Overwrites and returns ``eta``."""
        return np.less(noise, sigmoid(eta, out=eta), out=eta)

    def base_visible_param(self, data=None, base_rate=None, smoothing=0.05):
        """The visible parameter a of a base model E_A(v) = ``visible_energy(v, a)`` without hidden interaction.

        a_i = log(p_i / (1 − p_i)), p the data's pixel means smoothed as (N p + s)/(N + 2s) (``smoothing`` s
        pseudo-counts each way, so never-on pixels get a finite bias) — Salakhutdinov & Murray 2008, §4.2.
        ``base_rate`` gives p directly; with neither, p = ½ (a = 0).
        """
        if base_rate is not None:
            p = self._check_base_rate(base_rate)
        elif data is not None:
            v = self.check_v(data, "data")
            p = (v.sum(axis=0, dtype=np.float64) + smoothing) / (len(v) + 2 * smoothing)
        else:
            p = np.full(self.n_visible, 0.5)
        if np.any(p <= 0) or np.any(p >= 1):
            raise ValueError("base_rate must lie strictly inside (0, 1) for binary visible units")
        return np.log(p / (1 - p))

    def _check_base_rate(self, base_rate):
        p = np.asarray(base_rate, dtype=np.float64)
        if p.shape != (self.n_visible,) or not np.all(np.isfinite(p)):
            raise ValueError(f"base_rate must be a finite array of shape ({self.n_visible},), got shape {p.shape}")
        return p

    def visible_log_partition(self, a):
        """log Σ_v e^{−visible_energy(v, a)} = Σ_i softplus(a_i): the base model's visible normaliser."""
        return float(softplus(np.asarray(a, dtype=np.float64)).sum())

    def visible_energy_offset(self, a, b):
        """The part of E_vis(v; a) − E_vis(v; b) that does not depend on v: 0 for binary units (it is v·(b − a))."""
        return 0.0

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
        v_train, v_valid = self.check_v(v_train, "v_train"), self.check_v(v_valid, "v_valid")
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

    What unit variance implies: every conditional v | h is a Gaussian of variance 1 in standardised units, so
    p(v) is a mixture of unit-variance Gaussians centred at b_vis + Wh. It cannot represent structure narrower
    than 1 after standardising — a pixel whose values cluster in modes of width ≪ its standard deviation (e.g.
    nearly binary data) is modelled as blurred, and samples carry that unit noise. Learning σ_i (Cho et al.
    2011) or binarising such data are the remedies; this class keeps σ_i = 1, as Hinton's guide does.
    """

    visible_units = "gaussian"
    has_kernels = False  # the kernels hard-code Bernoulli visibles
    enumerable_visibles = False  # v is continuous: log Z is enumerated over the hiddens only

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

    def sample(self, n_samples, n_steps=1000, v0=None, means=False):
        """Approximate model samples by a Gibbs chain from ``v0`` or N(0, I).

        Returns draws v = b_vis + Wh + ε, ε ~ N(0, I) — samples of the model, as the name says; ``means=True``
        returns the final means b_vis + Wh instead (smoother to look at: each is the average of the draws its
        h would give)."""
        if v0 is None:
            n_samples = check_positive_int(n_samples, "n_samples")
            v0 = self.rng.standard_normal((n_samples, self.n_visible), dtype=self.dtype)
        mean = super().sample(n_samples, n_steps, v0)
        return mean if means else mean + self.rng.standard_normal(mean.shape, dtype=self.dtype)

    # ------------------------------------------------------------------ visible units, as AIS and log Z ask
    def visible_noise(self, rng, shape):
        """The random numbers one draw of the visibles consumes: standard normals (v = mean + ε)."""
        return rng.standard_normal(shape, dtype=self.dtype)

    def visible_from_natural(self, eta, noise):
        """v ~ N(η, I) from ``noise`` ε: v = η + ε (η = b_vis + Wh for v | h)."""
        eta += noise
        return eta

    def base_visible_param(self, data=None, base_rate=None, smoothing=0.05):
        """The base model's visible mean a: ``base_rate`` if given, else the data mean, else the model's b_vis
        (``smoothing`` is for binary units and unused here)."""
        if base_rate is not None:
            return self._check_base_rate(base_rate)
        if data is not None:
            return self.check_v(data, "data").mean(axis=0, dtype=np.float64)
        return self.b_vis.astype(np.float64)

    def visible_log_partition(self, a):
        """∫ e^{−½‖v − a‖²} dv = (2π)^{n/2}: log of it, (n_visible / 2) log 2π, whatever a is."""
        return 0.5 * self.n_visible * np.log(2 * np.pi)

    def visible_energy_offset(self, a, b):
        """½‖v − a‖² − ½‖v − b‖² = v·(b − a) − ½(‖b‖² − ‖a‖²): the constant −½(‖b‖² − ‖a‖²)."""
        return -0.5 * (float(b @ b) - float(a @ a))

    def pseudo_likelihood(self, v):
        """Not defined here: the bit-flip estimator needs binary visible units (use AIS instead)."""
        raise TypeError("pseudo_likelihood needs binary visible units; GaussianBernoulliRBM has real-valued ones")
