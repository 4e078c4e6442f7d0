r"""Study 4, measurement: run online SGD of the shallow autoencoder and read its dynamics off the weights.

Refinetti & Goldt, "The dynamics of representation learning in shallow, non-linear autoencoders", ICML 2022
(arXiv 2201.02115). ``train_online`` runs ``shallow_ae.online_ae_sgd`` on fresh samples and records
observables at chosen times t = steps/D; the rest turns the records into the numbers the study reports:

* ``population_error``: ε = E‖x − x̂‖²/(2D) from the order parameters Q, R, T⁰ (``ode.py``, eq. (1)), exact
  for Gaussian x and b = 0 (linear or erf units); ``sample_error`` is the Monte Carlo estimate otherwise.
* ``overlap_matrix``: C_τk = |w_k·ψ_τ|/‖w_k‖ for the top K eigendirections ψ_τ (identity when unit k learned
  principal component k, Sanger's rule), and ``subspace_overlaps``: ‖P_W ψ_τ‖², the share of ψ_τ inside
  span(w_1…w_K) (rotation-invariant: rises one by one in plain SGD too).
* ``plateaus``: where the error curve on a log-time axis is flattest (local minima of |d log ε / d log t|).
* ``crossing_time``, ``max_relative_deviation``, ``loglog_slope``: to compare SGD with the ODE;
  ``time_aligned_deviation``: the same gap once each plateau escape of SGD is moved onto the ODE's, so the
  escape-time shifts (set by finite-D fluctuations) and the shape of the curve are reported apart.
"""
import math

import numpy as np

from . import ode as ae_ode
from .shallow_ae import online_ae_sgd


def train_online(sample, W, V, b, record_t, lr, activation="linear", truncated=False, truncated_derivative="k",
                 evaluate=None, chunk=2048):
    """Online SGD, one fresh sample per step, recording ``evaluate(W, V, b)`` at the times ``record_t``.

    Parameters
    ----------
    sample : callable n -> (n, D) float32 array of fresh inputs (``data.spiked_sampler`` …).
    W, V, b : arrays updated in place (V is W for a tied model).
    record_t : increasing times t = steps/D (rounded to whole steps; t = 0 is always recorded).
    lr : (lr_W, lr_V, lr_b), e.g. from ``shallow_ae.ae_learning_rates``.
    evaluate : callable (W, V, b) -> dict of numbers/arrays.

    Returns
    -------
    dict: "t" (n,), and for each key of ``evaluate`` an array stacked over the records.
    """
    D = W.shape[0]
    steps = np.unique(np.round(np.asarray(record_t, dtype=np.float64) * D).astype(np.int64))
    steps = steps[steps > 0]
    if evaluate is None:
        raise ValueError("evaluate: give a function (W, V, b) -> dict of what to record")
    records, done = [evaluate(W, V, b)], 0
    for target in steps:
        while done < target:
            n = int(min(chunk, target - done))
            online_ae_sgd(sample(n), W, V, b, *lr, activation=activation, truncated=truncated,
                          truncated_derivative=truncated_derivative)
            done += n
        records.append(evaluate(W, V, b))
    out = {"t": np.concatenate([[0.0], steps / D])}
    for key in records[0]:
        out[key] = np.array([r[key] for r in records])
    return out


def population_error(W, V, Omega, activation="linear"):
    """ε = ½ tr Ω/D − Σ_k R_kk⟨g′_k⟩ + ½ Σ_kl T⁰_kl⟨g_k g_l⟩ (``ode.reconstruction_error``), b = 0."""
    op = ae_ode.order_parameters(W, V, Omega)
    return float(ae_ode.reconstruction_error(op["Q"], op["R"], op["T0"], np.trace(Omega) / len(Omega), activation))


def sample_error(W, V, b, X, activation="relu"):
    """Mean of ‖x − V g((xW + b)/√D)‖²/(2D) over the rows of X: the Monte Carlo population error."""
    lam = (X @ W + b) / math.sqrt(X.shape[1])
    h = {"linear": lambda u: u, "relu": lambda u: np.maximum(u, 0.0),
         "erf": lambda u: np.vectorize(math.erf)(u / math.sqrt(2.0))}[activation](lam)
    e = h @ V.T - X
    return float(np.mean(np.sum(e ** 2, axis=1)) / (2 * X.shape[1]))


def overlap_matrix(W, Psi_K):
    """C[τ, k] = |w_k·ψ_τ| / ‖w_k‖ for the columns ψ_τ of Psi_K (D, K'): identity ⇔ unit k = component k."""
    return np.abs(Psi_K.T @ W) / np.linalg.norm(W, axis=0)


def subspace_overlaps(W, Psi_K):
    """‖P_W ψ_τ‖² for each column ψ_τ of Psi_K: 1 when ψ_τ lies in span(w_1 … w_K), ≈ K/D for random W."""
    Qw, _ = np.linalg.qr(W)
    return np.sum((Qw.T @ Psi_K) ** 2, axis=0)


def off_diagonal(C):
    """Mean and max of the off-diagonal entries of a square matrix (how far C is from diagonal)."""
    mask = ~np.eye(len(C), dtype=bool)
    return float(C[mask].mean()), float(C[mask].max())


def plateaus(t, error, min_drop=1.5):
    """Plateaus of a decreasing error curve on a log-time axis: ``[(t_p, ε_p), …]``.

    A plateau is a local minimum of the slope |d log ε / d log t| (finite differences over the records,
    t > 0) that lies between two drops of the error by at least a factor ``min_drop``; the last record is
    not a plateau (the curve may still be falling there).
    """
    t, error = np.asarray(t, dtype=np.float64), np.asarray(error, dtype=np.float64)
    keep = t > 0
    lt, le = np.log(t[keep]), np.log(error[keep])
    slope = np.abs(np.gradient(le, lt))
    found = []
    for i in range(1, len(slope) - 1):
        if slope[i] <= slope[i - 1] and slope[i] <= slope[i + 1]:
            before, after = le[:i].max() - le[i], le[i] - le[i + 1:].min()
            if before > math.log(min_drop) and after > math.log(min_drop):
                if not found or le[found[-1]] - le[i] > math.log(min_drop):
                    found.append(i)
                elif slope[i] < slope[found[-1]]:
                    found[-1] = i
    return [(float(math.exp(lt[i])), float(math.exp(le[i]))) for i in found]


def crossing_time(t, error, level):
    """First time the error falls to ``level`` (log-linear interpolation between records), or nan."""
    t, error = np.asarray(t, dtype=np.float64), np.asarray(error, dtype=np.float64)
    below = np.nonzero(error <= level)[0]
    if len(below) == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(t[0])
    f = (math.log(error[i - 1]) - math.log(level)) / (math.log(error[i - 1]) - math.log(error[i]))
    return float(t[i - 1] + f * (t[i] - t[i - 1]))


def max_relative_deviation(t_sgd, err_sgd, t_ode, err_ode):
    """max_t |ε_SGD(t) − ε_ODE(t)| / ε_ODE(t) over the SGD records (the ODE interpolated at those times)."""
    ode = np.interp(t_sgd, t_ode, err_ode)
    return float(np.max(np.abs(np.asarray(err_sgd) - ode) / ode))


def time_aligned_deviation(t_sgd, err_sgd, t_ode, err_ode, levels):
    r"""The largest relative gap between SGD and the ODE once the SGD clock is warped onto the ODE's.

    At finite D a plateau is left after a time that fluctuates from run to run (the escape is seeded by the
    O(1/√D) random overlap with the next direction); a curve of the right shape escaping a little early or
    late then shows a large raw gap exactly where the error drops. Here the anchors are the crossing times
    s_k (SGD) and u_k (ODE) of each level ε_k in ``levels`` (both curves crossing it, in order), with
    s_0 = u_0 = 0; each SGD record is moved by the shift of its nearest anchor, τ(t) = t + (u_k − s_k) with k
    minimising |t − s_k| — a translation around each escape, not a stretch of the clock (which would widen or
    narrow the drop itself); the switch from one shift to the next falls midway between escapes, on a
    plateau, where ε hardly changes. Returns max_t |ε_SGD(t) − ε_ODE(τ(t))| / ε_ODE(τ(t)) over the SGD records with τ(t)
    inside the ODE's span, and the anchors as ``(deviation, [(s_k, u_k), …])``. The shifts u_k − s_k
    themselves are what ``crossing_time`` differences report.
    """
    t_sgd, err_sgd = np.asarray(t_sgd, dtype=np.float64), np.asarray(err_sgd, dtype=np.float64)
    t_ode, err_ode = np.asarray(t_ode, dtype=np.float64), np.asarray(err_ode, dtype=np.float64)
    s, u = [0.0], [0.0]
    for level in sorted(levels, reverse=True):  # the error falls: the highest level is crossed first
        a, b = crossing_time(t_sgd, err_sgd, level), crossing_time(t_ode, err_ode, level)
        if math.isfinite(a) and math.isfinite(b) and a > s[-1] and b > u[-1]:
            s.append(a)
            u.append(b)
    s, u = np.array(s), np.array(u)
    nearest = np.argmin(np.abs(t_sgd[:, None] - s[None, :]), axis=1)
    tau = t_sgd + (u - s)[nearest]
    inside = (tau >= t_ode[0]) & (tau <= t_ode[-1])
    ode = np.interp(tau[inside], t_ode, err_ode)
    deviation = float(np.max(np.abs(err_sgd[inside] - ode) / ode)) if inside.any() else float("nan")
    return deviation, list(zip(s[1:], u[1:]))


def loglog_slope(x, y):
    """Least-squares slope of log y against log x (e.g. deviation ∝ D^slope)."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def mean_deviation(err_runs, err_ode):
    r"""How far the *mean* of R SGD runs is from the ODE, against its standard error, and how far one run is.

    The ODE is the D → ∞ limit of the mean trajectory (``ode.py``'s docstring): one run fluctuates around it by
    O(1/√D), the mean of R runs by O(1/√(RD)), and what is left of the mean's deviation as R grows is the ODE's
    own error at finite D, a bias expected to shrink like 1/D. With the relative deviation of run r,

        d_r(t) = (ε_r(t) − ε_ODE(t)) / ε_ODE(t),     r = 1…R (same covariance and initial weights, own samples),

    this returns, over the records with t > 0 (at t = 0 every run equals the ODE; "mean_t" is the plain mean over
    those records, so with geometrically spaced records it is an average over log t):

    * the mean's deviation b(t) = (1/R) Σ_r d_r(t), its standard error se(t) = s_r(t)/√R (s_r the sample std over
      the runs) and the pointwise z(t) = b/se, a Student t with R − 1 degrees of freedom when the ODE is exact;
    * ``max_abs_z`` and ``frac_abs_z_gt_2`` (≈ 7 % at R = 10 under an exact ODE, the t₉ tail beyond 2);
    * the time-averaged bias B = mean_t b(t) with its standard error from the per-run averages
      (se_B = std_r(mean_t d_r)/√R: the runs are independent, the times of one run are not), and z_B = B/se_B;
    * the noise-corrected root-mean-square bias √max(0, mean_t(b² − se²)) (E b² = bias² + se²);
    * the size of the fluctuations: ``fluct_rms`` = √(mean_t s_r(t)²), the typical relative deviation of one run
      from the mean, and ``single_run_max`` = mean_r max_t |d_r(t)|, a single run's largest deviation from the ODE
      (the yardstick that measures the fluctuations, not the theory).

    Parameters
    ----------
    err_runs : (R, n) array, ε of each run at the n record times (the first may be t = 0, dropped if all equal).
    err_ode : (n,) array, the ODE's ε at the same times.

    Returns
    -------
    dict of arrays (``d`` (R, n), ``bias``, ``se``, ``z``, per record) and the float summaries named above.
    """
    err_runs, err_ode = np.asarray(err_runs, dtype=np.float64), np.asarray(err_ode, dtype=np.float64)
    if err_runs.ndim != 2 or err_runs.shape[0] < 2 or err_runs.shape[1:] != err_ode.shape:
        raise ValueError(f"err_runs must be (R ≥ 2, n) with err_ode (n,), got {err_runs.shape} and {err_ode.shape}")
    R = err_runs.shape[0]
    d = (err_runs - err_ode) / err_ode
    keep = np.any(err_runs != err_runs[0], axis=0)  # drops t = 0 (every run starts on the ODE): its z is 0/0
    d = d[:, keep]
    bias, sd = d.mean(axis=0), d.std(axis=0, ddof=1)
    se = sd / math.sqrt(R)
    z = bias / se
    per_run = d.mean(axis=1)
    B, se_B = float(per_run.mean()), float(per_run.std(ddof=1) / math.sqrt(R))
    return {"keep": keep, "d": d, "bias": bias, "se": se, "z": z, "max_abs_z": float(np.max(np.abs(z))),
            "frac_abs_z_gt_2": float(np.mean(np.abs(z) > 2)), "time_avg_bias": B, "time_avg_bias_se": se_B,
            "time_avg_bias_z": B / se_B, "rms_bias": float(math.sqrt(max(0.0, np.mean(bias ** 2 - se ** 2)))),
            "fluct_rms": float(math.sqrt(np.mean(sd ** 2))), "single_run_max": float(np.mean(np.max(np.abs(d), axis=1))),
            "R": R}
