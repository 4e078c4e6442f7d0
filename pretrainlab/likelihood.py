"""The log-likelihood of an RBM: exact partition function for small layers, annealed importance sampling otherwise.

An RBM assigns p(v) = e^{−F(v)} / Z, so the free energy F(v) is cheap but the normaliser

    Z = Σ_v Σ_h e^{−E(v,h)}

is a sum over 2^(n_visible + n_hidden) joint states. Summing out one layer analytically leaves a sum over the
other, so ``exact_log_partition`` enumerates the *smaller* layer: 2^n states, feasible up to n ≈ 25.

For larger models, annealed importance sampling (AIS; Neal 2001, applied to RBMs by Salakhutdinov & Murray
2008, "On the quantitative analysis of deep belief networks") estimates Z by moving samples from a tractable
base model A (no weights, visible biases fit to the data) to the RBM B through the intermediate models

    p*_β(v, h) = e^{−(1−β) E_A(v) − β E_B(v, h)},      0 = β_0 < β_1 < … < β_K = 1,

and multiplying the importance weights p*_{β_k}(v_k) / p*_{β_{k−1}}(v_k) along the way. The mean weight is
an unbiased estimate of Z_B / Z_A; its logarithm (what is reported) tends to *underestimate* log Z, so AIS
log-likelihoods err on the optimistic side when the chains mix badly.

Both ``BernoulliRBM`` and ``GaussianBernoulliRBM`` are handled without a branch on the kind of unit: the
code asks the model for what differs — its visible energy, noise, sampler from a natural parameter, and the
base model's parameter and normaliser (the "visible units" methods of ``rbm.py``).
"""
from dataclasses import dataclass

import numpy as np

from . import kernels
from .layers import sigmoid
from .validation import as_generator, check_number, check_positive_int, is_real_kind

#: refuse exact enumeration above this many units in the enumerated layer (2^25 ≈ 3.4e7 states)
MAX_EXACT_UNITS = 25


def _logsumexp(a):
    m = np.max(a)
    return float(m + np.log(np.sum(np.exp(a - m))))


def _binary_states(start, stop, n):
    """The binary expansions of the integers start..stop−1 as rows of an (stop − start, n) 0/1 array."""
    idx = np.arange(start, stop, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1)


# ---------------------------------------------------------------------------------------------- exact
def exact_log_partition(rbm, over=None, chunk_size=2 ** 9):
    """log Z by enumerating every state of one layer, in chunks, with a running log-sum-exp.

        log Z = log Σ_v e^{−F(v)}          (over="visible"; binary visible units only)
              = log Σ_h e^{−F(h)}          (over="hidden"; F(h) = ``rbm.hidden_free_energy``)

    Parameters
    ----------
    rbm : BernoulliRBM or GaussianBernoulliRBM
    over : {None, "visible", "hidden"}
        The layer to enumerate; None picks the smaller one (always the hiddens for Gaussian visibles,
        whose states cannot be enumerated). Both give the same Z: the tests check they agree.
    chunk_size : int, states evaluated per block; small blocks (~1 MB of F's inputs) stay in the CPU cache,
        which makes enumeration over 784 visibles 2–3× faster than large ones.

    Raises ValueError (naming ``rbm``) when the enumerated layer has more than 25 units.
    """
    check_rbm(rbm)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    if over is None:
        over = "visible" if rbm.enumerable_visibles and rbm.n_visible < rbm.n_hidden else "hidden"
    if over not in ("visible", "hidden"):
        raise ValueError(f"over must be None, 'visible' or 'hidden', got {over!r}")
    if over == "visible" and not rbm.enumerable_visibles:
        raise ValueError("over: a real-valued visible layer cannot be enumerated; use over='hidden'")
    n = rbm.n_visible if over == "visible" else rbm.n_hidden
    if n > MAX_EXACT_UNITS:
        raise ValueError(
            f"rbm: exact log Z enumerates 2^{n} states of the {over} layer ({n} units); the limit is "
            f"{MAX_EXACT_UNITS} units. Use ais_log_partition for a model this size.")
    free_energy = rbm.free_energy if over == "visible" else rbm.hidden_free_energy
    log_z = -np.inf
    for start in range(0, 2 ** n, chunk_size):
        states = _binary_states(start, min(start + chunk_size, 2 ** n), n).astype(rbm.dtype)
        log_z = np.logaddexp(log_z, _logsumexp(-free_energy(states).astype(np.float64)))
    return float(log_z)


def log_likelihood(rbm, v, log_z):
    """Mean log-likelihood (1/N) Σ_n log p(v_n) = −mean F(v) − log Z, in nats.

    ``log_z`` is a float (from ``exact_log_partition``) or an ``AISResult`` (its ``log_z`` is used).
    """
    check_rbm(rbm)
    log_z = check_number(getattr(log_z, "log_z", log_z), "log_z")
    return float(-rbm.free_energy(v).astype(np.float64).mean() - log_z)


def check_rbm(rbm, name="rbm"):
    """A TypeError naming ``name`` unless it is one of the lab's RBMs (anything with their conditionals)."""
    from .rbm import BernoulliRBM

    if not isinstance(rbm, BernoulliRBM):
        raise TypeError(f"{name} must be a BernoulliRBM or GaussianBernoulliRBM, got {type(rbm).__name__}")
    bad = [k for k, p in rbm.params.items() if not np.all(np.isfinite(p))]
    if bad:  # log Z of a NaN model is NaN: say so instead of returning it
        raise ValueError(f"{name} has NaN or infinite parameters ({', '.join(bad)})")
    return rbm


# ---------------------------------------------------------------------------------------------- AIS
def ais_betas(n_betas=14500):
    """The inverse temperatures 0 = β_0 < … < β_K = 1 (K = ``n_betas`` transitions) of Salakhutdinov & Murray 2008.

    Their schedule spaces β uniformly with step 1e-3 on [0, 0.5], 1e-4 on [0.5, 0.9] and 1e-5 on [0.9, 1]:
    500 + 4 000 + 10 000 = 14 500 steps, denser where the model is sharpest. Other ``n_betas`` keep the same
    shape, splitting the steps between the three stretches in the ratio 500 : 4000 : 10000.
    Returns a float64 array of length n_betas + 1.
    """
    n_betas = check_positive_int(n_betas, "n_betas")
    if n_betas < 3:
        return np.linspace(0.0, 1.0, n_betas + 1)
    n1 = max(1, round(n_betas * 500 / 14500))
    n2 = max(1, round(n_betas * 4000 / 14500))
    n3 = n_betas - n1 - n2
    return np.concatenate([np.linspace(0.0, 0.5, n1, endpoint=False), np.linspace(0.5, 0.9, n2, endpoint=False),
                           np.linspace(0.9, 1.0, n3 + 1)])


@dataclass
class AISResult:
    """An AIS estimate of log Z.

    log_z : log of the mean importance weight, plus log Z_A (the estimate reported).
    stderr : its standard error by the delta method, std(w) / (√n · mean(w)).
    log_z_low, log_z_high : log(Ẑ ∓ 3σ̂), σ̂ the standard error of the mean weight Ẑ (Salakhutdinov & Murray
        2008, Table 1); log_z_low is −inf when the interval reaches zero, i.e. the estimate is unreliable.
    log_weights : (n_runs,) the final log importance weights, log w + log Z_A.
    log_z_base : log Z_A.
    """

    log_z: float
    stderr: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray
    log_z_base: float

    @classmethod
    def from_log_weights(cls, log_w, log_z_base):
        """Summarise the log importance weights without leaving log space: w = e^{log_w − m} ≤ 1, m = max log_w."""
        log_w = np.asarray(log_w, dtype=np.float64)
        m = log_w.max()
        w = np.exp(log_w - m)
        mean = w.mean()
        sem = w.std(ddof=1) / np.sqrt(len(w)) if len(w) > 1 else 0.0
        low = np.log(mean - 3 * sem) if mean > 3 * sem else -np.inf
        return cls(log_z=float(log_z_base + m + np.log(mean)), stderr=float(sem / mean),
                   log_z_low=float(log_z_base + m + low), log_z_high=float(log_z_base + m + np.log(mean + 3 * sem)),
                   log_weights=log_w + log_z_base, log_z_base=float(log_z_base))

    def __str__(self):
        return f"log Z = {self.log_z:.3f} ± {self.stderr:.3f} (±3σ: [{self.log_z_low:.3f}, {self.log_z_high:.3f}])"


def base_visible_bias(rbm, data=None, base_rate=None, smoothing=0.05):
    """The base model A's visible parameter ``a``: E_A(v) = ``rbm.visible_energy(v, a)``, no hidden interaction.

    The model says what a is for its units (``rbm.base_visible_param``): for binary visibles the smoothed
    log-odds of the data's pixel means (Salakhutdinov & Murray 2008, §4.2), for Gaussian ones the data mean.
    A base model close to the data makes AIS far more accurate.
    """
    smoothing = check_number(smoothing, "smoothing", low=0.0)
    return check_rbm(rbm).base_visible_param(data, base_rate, smoothing)


def base_log_partition(rbm, a):
    """log Z_A for the base model E_A(v) = visible_energy(v, a), counting the n_hidden free hidden units:

        log Z_A = log Σ_v e^{−E_A(v)} + n_hidden log 2      (binary: Σ_i softplus(a_i); Gaussian: (n/2) log 2π)
    """
    check_rbm(rbm)
    a = np.asarray(a)
    if a.shape != (rbm.n_visible,) or not is_real_kind(a.dtype) or not np.all(np.isfinite(a)):
        raise ValueError(f"a must be a finite real array of shape ({rbm.n_visible},), got shape {a.shape}, "
                         f"dtype {a.dtype}")
    return float(rbm.visible_log_partition(a) + rbm.n_hidden * np.log(2.0))


def ais_step(v, log_w, beta_prev, beta, W, b_vis, b_hid, a, rbm, u_h, r_v, transition=True):
    """One AIS step for all runs at once: update the log weights at β, then one Gibbs transition at β.

    With the base model A of no weights, the intermediate model's unnormalised marginal is

        log p*_β(v) = −(1−β) E_vis(v; a) − β E_vis(v; b_vis) + Σ_j softplus(β x_j),   x = vW + b_hid,

    (Salakhutdinov & Murray 2008, eq. 15), E_vis(v; c) = −c·v for binary, ½‖v − c‖² for Gaussian visibles.
    In place, this

    1. adds log p*_β(v) − log p*_{β_prev}(v)
           = (β − β_prev)(E_vis(v; a) − E_vis(v; b_vis)) + Σ_j [softplus(β x_j) − softplus(β_prev x_j)]
       to ``log_w``, the bracket computed as log1p(σ(β_prev x_j) · expm1((β − β_prev) x_j)); for both kinds of
       units E_vis(v; a) − E_vis(v; b) = v·(b − a) + ``rbm.visible_energy_offset(a, b)`` (0 for binary units,
       −½(‖b‖² − ‖a‖²) for Gaussian ones);
    2. if ``transition``: draws h ~ σ(β x) (by h = [u_h < σ(β x)]), then v from the visible conditional of
       p*_β, whose natural parameter is η = (1−β) a + β (b_vis + Wh): binary v = [r_v < σ(η)], Gaussian
       v = η + r_v. This Gibbs step leaves p*_β invariant.

    The random numbers come in (u_h uniform (n_runs, n_hidden); r_v uniform or standard normal
    (n_runs, n_visible)) so that a compiled kernel given the same numbers can be tested equal to this one.
    Matrix products run in W's dtype; the weights are accumulated in float64.
    """
    x = v @ W
    x += b_hid
    d_beta = beta - beta_prev
    # v·(b_vis − a) in W's dtype: float32 rounding here is ~1e-4 of a term that d_beta (≤ 1e-3) then scales
    vis = v @ (b_vis - a).astype(v.dtype)
    vis = vis + rbm.visible_energy_offset(a, b_vis)
    # softplus(βx) − softplus(β'x) = log1p(σ(β'x) · expm1((β − β')x)), exactly; this form never subtracts two
    # nearly equal numbers (the steps in β are 1e-5), so it keeps its digits in W's dtype — except where a
    # coarse schedule would overflow float32's expm1 (β-steps × |x| > 80): then float64.
    xs = x if d_beta * max(float(x.max()), -float(x.min())) < 80 else x.astype(np.float64)
    t = xs.dtype.type
    s = sigmoid(t(beta_prev) * xs)  # σ(β'x)
    sm = s * np.expm1(t(d_beta) * xs)  # σ(β'x) (e^{(β−β')x} − 1)
    log_w += d_beta * vis + np.log1p(sm).sum(axis=1, dtype=np.float64)
    if not transition:
        return v
    # h ~ σ(βx), with σ(βx) = σ(β'x) e^{(β−β')x} / (1 + σ(β'x)(e^{(β−β')x} − 1)) = (s + sm) / (1 + sm): the
    # arrays above give it without a fourth pass of exponentials
    s += sm
    sm += 1
    s /= sm
    h = np.less(u_h, s, out=s).astype(W.dtype, copy=False)
    beta_ = W.dtype.type(beta)  # a float64 scalar would promote the float32 arrays below to float64
    eta = h @ W.T
    eta *= beta_
    eta += ((1 - beta) * a + beta * b_vis).astype(W.dtype)
    return rbm.visible_from_natural(eta, r_v)


def ais_log_partition(rbm, n_runs=100, n_betas=14500, rng=None, base_rate=None, data=None, betas=None):
    """Estimate log Z of ``rbm`` by annealed importance sampling (Salakhutdinov & Murray 2008, Algorithm 1).

    Parameters
    ----------
    rbm : BernoulliRBM or GaussianBernoulliRBM
    n_runs : int, independent AIS runs (importance samples), 100 in the paper.
    n_betas : int, number of intermediate distributions (``ais_betas``); 14 500 in the paper.
    rng : numpy Generator or seed; AIS draws from its own generator, never from ``rbm.rng``.
    base_rate, data : the base model's visible marginals, given directly or from training data
        (``base_visible_bias``). A base model close to the data makes AIS far more accurate.
    betas : optional explicit increasing schedule from 0 to 1 (overrides n_betas).

    Returns
    -------
    AISResult with ``log_z``, ``stderr``, ``log_z_low``, ``log_z_high``.

    Cost: n_betas × two (n_runs × n_visible × n_hidden) matrix products; 100 runs × 14 500 betas on a
    784×500 RBM take about a minute on one core in float32.
    """
    check_rbm(rbm)
    n_runs = check_positive_int(n_runs, "n_runs")
    rng = as_generator(rng)
    if betas is None:
        betas = ais_betas(check_positive_int(n_betas, "n_betas"))
    else:
        betas = np.asarray(betas, dtype=np.float64)
        if (betas.ndim != 1 or len(betas) < 2 or not np.all(np.isfinite(betas)) or betas[0] != 0
                or betas[-1] != 1 or np.any(np.diff(betas) <= 0)):
            raise ValueError("betas must be finite and increase strictly from 0 to 1")
    dtype = rbm.dtype
    a = base_visible_bias(rbm, data, base_rate)
    W, b_vis, b_hid = rbm.W, rbm.b_vis.astype(np.float64), rbm.b_hid
    n_vis, n_hid = rbm.n_visible, rbm.n_hidden
    # v_1 ~ p_A: the β = 0 transition draws from the base model whatever h is.
    v = rbm.visible_from_natural(np.tile(a.astype(dtype), (n_runs, 1)), rbm.visible_noise(rng, (n_runs, n_vis)))
    if rbm.has_kernels and kernels.use_kernel(n_runs, kernels.AIS_KERNEL_MAX_RUNS):
        from .kernels.rbm import ais_log_weights  # few runs: the same steps compiled, same random numbers
        log_w = ais_log_weights(v, betas, W, b_vis, b_hid, a, rng)
        return AISResult.from_log_weights(log_w, base_log_partition(rbm, a))
    log_w = np.zeros(n_runs)
    for k in range(1, len(betas)):
        last = k == len(betas) - 1
        u_h = None if last else rng.random((n_runs, n_hid), dtype=dtype)
        r_v = None if last else rbm.visible_noise(rng, (n_runs, n_vis))
        v = ais_step(v, log_w, betas[k - 1], betas[k], W, b_vis, b_hid, a, rbm, u_h, r_v, transition=not last)
    return AISResult.from_log_weights(log_w, base_log_partition(rbm, a))
