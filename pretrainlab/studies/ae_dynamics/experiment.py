"""Study 4, ``pretrainlab experiment ae-dynamics``: how shallow autoencoders learn (Refinetti & Goldt, ICML 2022).

Online SGD (one fresh sample per step, t = steps/D) of λ = xW/√D, x̂ = V g(λ) on globally standardised
spiked-covariance Gaussians (4 spikes of standard deviation 2^m + 1, tr Ω/D = 1), K = 4 units, W, V
started at σ₀·N(0, 1) entries; rates from ``shallow_ae.ae_learning_rates`` (encoder η/D, decoder η).
Each part writes a figure of its own:

1. ``sequential``: linear units learn the principal directions one by one, ε(t) descends the PCA staircase.
2. ``erf_tied``: erf units, tied weights with the full gradient and with the decoder path detached (the
   authors' code), against untied erf units.
3. ``relu_bias``: ReLU units without and with a trained encoder bias (ε by Monte Carlo on a test sample).
4. ``truncated``: Sanger's truncated rule vs plain SGD, the K×K overlap matrix |v_k·ψ_τ|/‖v_k‖ at the end.

Overlaps are measured on the *decoder* columns v_k: the encoder's component in the isotropic bulk moves at
rate O(1/D) (``ode.py``'s docstring), so w_k keeps its random start (norm ≈ σ₀√D) there and its cosine with
ψ_τ stays below 1 even when the error is at the PCA floor; the encoder's overlaps are recorded as well.
5. ``ode_vs_sgd``: the ODEs of ``ode.py`` solved from the SGD run's initial weights, over the SGD runs, for
   several D (linear and erf), ``ode_seeds`` runs per D; the largest relative deviation of ε over the run per D
   (mean ± sample std over the seeds), its log–log slope, the time shifts of the plateau escapes (the crossing
   of each level between two PCA errors), and the deviation left once those shifts are taken out
   (``runs.time_aligned_deviation``) — the raw number stays the headline.
6. ``mnist``: the ODE with MNIST's spectrum over SGD on Gaussians of MNIST's covariance and on real images
   (sampled with replacement). MNIST, not the paper's grey CIFAR-10 / Fashion-MNIST.
"""
import math
import time

import numpy as np

from . import ode as ae_ode, runs as ae_runs
from ... import kernels
from ...data import load_mnist, spiked_covariance
from .data import center_and_scale_globally, gaussian_sampler, resampler, spiked_sampler
from .plots import (plot_deviation_vs_dimension, plot_error_curves, plot_mean_scaling, plot_mean_vs_ode,
                           plot_ode_vs_sgd, plot_overlap_matrices, plot_sequential)
from .shallow_ae import ae_learning_rates, online_ae_sgd
from ...stats import mean_std
from ...runner.experiments import prepare

_COMMON = dict(K=4, n_spikes=4, eta=1.0, sigma0=0.1, ode_dt=0.02)
SETTINGS = {
    "quick": dict(_COMMON, D=200, t_linear=200.0, t_erf=600.0, t_relu=600.0, n_records=50, n_test=2000,
                  ode_dims=[100, 200, 400], ode_t_linear=80.0, ode_t_erf=150.0, ode_seeds=1,
                  mnist_t=40.0, mnist_n_train=10000, mnist_n_eval=2000, speed_steps=(2000, 20000),
                  mean_dims=[100, 200], mean_dims_erf=[100, 200], mean_runs=4, mean_t_linear=40.0, mean_t_erf=60.0,
                  mean_mnist_t=10.0,
                  mean_n_records=40),
    "default": dict(_COMMON, D=500, t_linear=300.0, t_erf=1000.0, t_relu=800.0, n_records=80, n_test=4000,
                    ode_dims=[250, 500, 1000], ode_t_linear=120.0, ode_t_erf=250.0, ode_seeds=1,
                    mnist_t=150.0, mnist_n_train=50000, mnist_n_eval=5000, speed_steps=(3000, 50000),
                    mean_dims=[250, 500, 1000], mean_dims_erf=[250, 500], mean_runs=10, mean_t_linear=100.0,
                    mean_t_erf=100.0,
                    mean_mnist_t=100.0, mean_n_records=60),
    "full": dict(_COMMON, D=500, t_linear=400.0, t_erf=1500.0, t_relu=1000.0, n_records=120, n_test=5000,
                 ode_dims=[250, 500, 1000, 2000], ode_t_linear=150.0, ode_t_erf=300.0, ode_seeds=6,
                 mnist_t=300.0, mnist_n_train=50000, mnist_n_eval=5000, speed_steps=(5000, 100000),
                 mean_dims=[250, 500, 1000, 2000], mean_dims_erf=[250, 500, 1000], mean_runs=10,
                 mean_t_linear=100.0, mean_t_erf=100.0, mean_mnist_t=100.0, mean_n_records=80),
}


def _times(t_end, n):
    return np.geomspace(0.05, t_end, n)


def spiked_problem(D, cfg, rng):
    """Globally standardised spiked covariance: Ω, its top-K eigenvectors, a sampler, the PCA errors."""
    spiked = spiked_covariance(1, dim=D, n_spikes=cfg["n_spikes"], rng=rng)
    scale = 1.0 / math.sqrt(np.trace(spiked.covariance) / D)
    Omega = spiked.covariance * scale ** 2
    rho, Psi = ae_ode.eigenbasis(Omega)
    return dict(Omega=Omega, Psi_K=Psi[:, :cfg["K"]], pca=ae_ode.pca_errors(rho / D, cfg["K"]),
                sample=spiked_sampler(spiked, rng, scale))


def initial_weights(D, cfg, rng):
    W = (cfg["sigma0"] * rng.standard_normal((D, cfg["K"]))).astype(np.float32)
    V = (cfg["sigma0"] * rng.standard_normal((D, cfg["K"]))).astype(np.float32)
    return W, V, np.zeros(cfg["K"], np.float32)


def _pop(prob, activation, psi=False):
    def evaluate(W, V, b):
        out = {"error": ae_runs.population_error(W, V, prob["Omega"], activation)}
        if psi:  # decoder columns: the encoder keeps its random bulk part (frozen at rate O(1/D)), see docstring
            out["subspace"] = ae_runs.subspace_overlaps(V, prob["Psi_K"])
            out["C"] = ae_runs.overlap_matrix(V, prob["Psi_K"])
            out["subspace_W"] = ae_runs.subspace_overlaps(W, prob["Psi_K"])
            out["C_W"] = ae_runs.overlap_matrix(W, prob["Psi_K"])
        return out
    return evaluate


def _sgd(prob, cfg, rng, t_end, activation, tied=False, detached=False, bias=False, truncated=False, evaluate=None,
         psi=False):
    D = prob["Omega"].shape[0]
    W, V, b = initial_weights(D, cfg, rng)
    V = W if tied else V
    lr = ae_learning_rates(cfg["eta"], D, tied=tied, detached=detached, train_bias=bias)
    return ae_runs.train_online(prob["sample"], W, V, b, _times(t_end, cfg["n_records"]), lr, activation, truncated,
                                evaluate=evaluate or _pop(prob, activation, psi))


def _summary(rec, pca):
    return {"final_error": float(rec["error"][-1]), "t_end": float(rec["t"][-1]),
            "plateaus": [{"t": t, "error": e, "nearest_pca_k": int(np.argmin(np.abs(np.log(pca / e)))) + 1}
                         for t, e in ae_runs.plateaus(rec["t"], rec["error"])]}


def part_sequential(cfg, rng, save):
    prob = spiked_problem(cfg["D"], cfg, rng)
    rec = _sgd(prob, cfg, rng, cfg["t_linear"], "linear", psi=True)
    save("sequential", plot_sequential(rec["t"], rec["error"], rec["subspace"], prob["pca"],
                                       f"Linear autoencoder, online SGD (D = {cfg['D']}, K = {cfg['K']})"))
    sub = rec["subspace"]
    rise = [float(rec["t"][np.argmax(sub[:, k] >= 0.5)]) if np.any(sub[:, k] >= 0.5) else None
            for k in range(cfg["K"])]  # first record with ‖P_W ψ_k‖² ≥ ½
    return dict(_summary(rec, prob["pca"]), pca_errors=prob["pca"].tolist(), overlap_half_time=rise,
                final_subspace_overlaps=sub[-1].tolist(), final_encoder_subspace_overlaps=rec["subspace_W"][-1].tolist())


def part_erf_tied(cfg, rng, save):
    prob = spiked_problem(cfg["D"], cfg, rng)
    runs = {"erf untied": dict(), "erf tied, full gradient": dict(tied=True),
            "erf tied, decoder path detached (lr_V = 0)": dict(tied=True, detached=True)}
    recs = {name: _sgd(prob, cfg, rng, cfg["t_erf"], "erf", **kw) for name, kw in runs.items()}
    save("erf_tied", plot_error_curves({k: (r["t"], r["error"]) for k, r in recs.items()}, prob["pca"],
                                       f"Sigmoidal (erf) units: tied vs untied weights (D = {cfg['D']})"))
    return {name: _summary(r, prob["pca"]) for name, r in recs.items()} | {"pca_errors": prob["pca"].tolist()}


def part_relu_bias(cfg, rng, save):
    prob = spiked_problem(cfg["D"], cfg, rng)
    X_test = prob["sample"](cfg["n_test"])
    evaluate = lambda W, V, b: {"error": ae_runs.sample_error(W, V, b, X_test, "relu")}  # noqa: E731
    recs = {label: _sgd(prob, cfg, rng, cfg["t_relu"], "relu", bias=bias, evaluate=evaluate)
            for label, bias in (("ReLU, no bias", False), ("ReLU, trained encoder bias", True))}
    save("relu_bias", plot_error_curves({k: (r["t"], r["error"]) for k, r in recs.items()}, prob["pca"],
                                        f"ReLU units with and without a bias (D = {cfg['D']})\n"
                                        f"ε on {cfg['n_test']} fresh test samples"))
    return {k: _summary(r, prob["pca"]) for k, r in recs.items()} | {"pca_errors": prob["pca"].tolist()}


def part_truncated(cfg, rng, save):
    prob = spiked_problem(cfg["D"], cfg, rng)
    out, mats, curves = {}, {}, {}
    for label, trunc in (("truncated SGD (Sanger)", True), ("plain SGD", False)):
        rec = _sgd(prob, cfg, rng, cfg["t_linear"], "linear", truncated=trunc, psi=True)
        C = rec["C"][-1]
        mats[f"{label}, t = {rec['t'][-1]:.0f}"] = C
        curves[label] = (rec["t"], rec["error"])
        mean, mx = ae_runs.off_diagonal(C)
        out[label] = {"overlap_matrix": C.tolist(), "encoder_overlap_matrix": rec["C_W"][-1].tolist(), "off_diagonal_mean": mean, "off_diagonal_max": mx,
                      "diagonal_min": float(np.diag(C).min()), "final_error": float(rec["error"][-1]),
                      "subspace_overlaps": rec["subspace"][-1].tolist()}
    save("truncated", plot_overlap_matrices(mats, f"Linear units, decoder overlaps |v_k·ψ_τ|/‖v_k‖ at the end "
                                                  f"(D = {cfg['D']}, K = {cfg['K']})"))
    return out | {"pca_errors": prob["pca"].tolist()}


def _ode_vs_sgd_one(D, activation, t_end, cfg, rng):
    prob = spiked_problem(D, cfg, rng)
    W, V, b = initial_weights(D, cfg, rng)
    sol = ae_ode.solve_ae_ode(ae_ode.initial_state(W, V, prob["Omega"]), t_end, cfg["ode_dt"], cfg["eta"],
                              activation=activation, save_every=5)
    rec = ae_runs.train_online(prob["sample"], W, V, b, _times(t_end, cfg["n_records"]),
                               ae_learning_rates(cfg["eta"], D), activation, evaluate=_pop(prob, activation))
    levels = np.sqrt(np.r_[0.5, prob["pca"][:-1]] * prob["pca"])  # between PCA-(k−1) (PCA-0 = ½) and PCA-k
    shifts = [ae_runs.crossing_time(rec["t"], rec["error"], lv) - ae_runs.crossing_time(sol["t"], sol["error"], lv)
              for lv in levels]
    aligned, _ = ae_runs.time_aligned_deviation(rec["t"], rec["error"], sol["t"], sol["error"], levels)
    return {"t_ode": sol["t"], "ode": sol["error"], "t_sgd": rec["t"], "sgd": rec["error"], "pca": prob["pca"],
            "max_rel_dev": ae_runs.max_relative_deviation(rec["t"], rec["error"], sol["t"], sol["error"]),
            "aligned_rel_dev": aligned,
            "final_rel_dev": float(abs(rec["error"][-1] / sol["error"][-1] - 1)), "escape_time_shifts": shifts}


def part_ode_vs_sgd(cfg, rng, save):
    out, panels, devs = {}, {}, {}
    for activation, t_end in (("linear", cfg["ode_t_linear"]), ("erf", cfg["ode_t_erf"])):
        res, panel = {}, {}
        for D in cfg["ode_dims"]:
            runs = [_ode_vs_sgd_one(D, activation, t_end, cfg, rng) for _ in range(cfg["ode_seeds"])]
            r0 = runs[0]
            panel[f"D = {D}"] = (r0["t_ode"], r0["ode"], r0["t_sgd"], r0["sgd"])
            res[str(D)] = {"max_rel_dev": [r["max_rel_dev"] for r in runs],
                           "aligned_rel_dev": [r["aligned_rel_dev"] for r in runs],
                           "final_rel_dev": [r["final_rel_dev"] for r in runs],
                           "escape_time_shifts": [r["escape_time_shifts"] for r in runs],
                           "pca_errors": r0["pca"].tolist()}
        dims = cfg["ode_dims"]
        entry = {"t_end": t_end, "per_D": res}
        for key in ("max_rel_dev", "aligned_rel_dev"):
            stats = [mean_std(res[str(D)][key]) for D in dims]
            entry[f"mean_{key}"] = [float(m) for m, _ in stats]
            entry[f"std_{key}"] = [float(sd) for _, sd in stats]
            entry[f"loglog_slope_{key}"] = ae_runs.loglog_slope(dims, entry[f"mean_{key}"])
            devs[f"{activation} units, {'raw' if key == 'max_rel_dev' else 'escape shifts removed'}"] = (
                entry[f"mean_{key}"], entry[f"std_{key}"])
        entry["loglog_slope"] = entry["loglog_slope_max_rel_dev"]
        out[activation] = entry
        panels[f"{activation} units, K = {cfg['K']}, η = {cfg['eta']}"] = panel
    save("ode_vs_sgd", plot_ode_vs_sgd(panels, "ODE (lines) vs online SGD (dots), same initial weights"))
    save("ode_deviation", plot_deviation_vs_dimension(cfg["ode_dims"], devs, "Largest ODE–SGD gap in ε over the run "
                                                      f"against D\n(mean ± sample std of {cfg['ode_seeds']} seeds)"))
    return out


def part_mnist(cfg, rng, save):
    data = load_mnist(n_train=cfg["mnist_n_train"], n_valid=1, n_test=1)
    z, Omega = center_and_scale_globally(data.x_train)
    D = z.shape[1]
    rho, Psi = ae_ode.eigenbasis(Omega)
    pca = ae_ode.pca_errors(rho / D, cfg["K"])
    gauss, real = gaussian_sampler(Omega, rng), resampler(z, rng)
    z_eval = z[rng.integers(0, len(z), cfg["mnist_n_eval"])]
    out, panels = {"pca_errors": pca.tolist(), "top_rho_tilde": (rho[:6] / D).tolist()}, {}
    for activation in ("linear", "erf"):
        W, V, b = initial_weights(D, cfg, rng)
        sol = ae_ode.solve_ae_ode(ae_ode.initial_state(W, V, Omega), cfg["mnist_t"], cfg["ode_dt"], cfg["eta"],
                                  activation=activation, save_every=5)
        lr, times = ae_learning_rates(cfg["eta"], D), _times(cfg["mnist_t"], cfg["n_records"])
        prob = {"Omega": Omega}
        g = ae_runs.train_online(gauss, W.copy(), V.copy(), b.copy(), times, lr, activation,
                                 evaluate=_pop(prob, activation))
        r = ae_runs.train_online(real, W.copy(), V.copy(), b.copy(), times, lr, activation,
                                 evaluate=lambda W_, V_, b_: {"error": ae_runs.sample_error(W_, V_, b_, z_eval,
                                                                                            activation)})
        panels[f"{activation} units"] = {"Gaussian, MNIST covariance": (sol["t"], sol["error"], g["t"], g["error"]),
                                         "real MNIST images": (sol["t"], sol["error"], r["t"], r["error"])}
        out[activation] = {
            "final": {"ode": float(sol["error"][-1]), "sgd_gaussian": float(g["error"][-1]),
                      "sgd_real": float(r["error"][-1])},
            "max_rel_dev_gaussian": ae_runs.max_relative_deviation(g["t"], g["error"], sol["t"], sol["error"]),
            "max_rel_dev_real": ae_runs.max_relative_deviation(r["t"], r["error"], sol["t"], sol["error"])}
    save("mnist", plot_ode_vs_sgd(panels, f"MNIST spectrum (D = {D}): ODE (line) vs SGD on Gaussians and real "
                                          "images", pca=pca))
    return out


def _mean_cells(cfg):
    """The cells of ``part_ode_mean`` in order: (activation, D) on spiked Gaussians, then MNIST's spectrum.
    The erf units have their own list of D (``mean_dims_erf``): a run costs ∝ D² (D steps per unit of time, each
    O(D)), and D = 2 000 for both did not fit the first full run's time."""
    cells = [("linear", D, "spiked") for D in cfg["mean_dims"]] + [("erf", D, "spiked") for D in cfg["mean_dims_erf"]]
    return cells + [("linear", 784, "mnist"), ("erf", 784, "mnist"), ("linear", 784, "mnist-real")]


def _cell_key(activation, D, data):
    return f"{activation} D={D}" if data == "spiked" else f"{activation} {data}"


def _mnist_problem(cfg):
    z, Omega = center_and_scale_globally(load_mnist(n_train=cfg["mnist_n_train"], n_valid=1, n_test=1).x_train)
    return z.astype(np.float32), Omega


def ode_mean_cell(activation, D, data, cfg, seed, mnist=None):
    """R SGD runs sharing the covariance and the initial weights, differing only in their sample streams, and the
    ODE solved from those weights: ``runs.mean_deviation`` of the runs' ε against the ODE's, per record.

    ``data``: "spiked" (the study's Gaussians at dimension D), "mnist" (Gaussians with MNIST's covariance) or
    "mnist-real" (MNIST images resampled; linear units only, whose population ε needs only the covariance, so it
    is exact here too). The record times are whole multiples of the ODE step dt = m/D (m = round(ode_dt·D) SGD
    steps), so the ODE is read at the very times SGD is, without interpolation; ``ode_step_error`` is the
    largest relative change of the ODE's ε when dt is halved (it must be far below the standard errors).
    Randomness: ``np.random.default_rng([seed, 7, D, tag, r])`` (tag: the data and the activation) — r = 0 the
    problem and the initial weights, r ≥ 1 run r's samples — so a cell gives the same numbers whichever cells ran
    before it.
    """
    tag = {"spiked": 0, "mnist": 1, "mnist-real": 2}[data] * 10 + ("linear", "erf").index(activation)
    rng0 = np.random.default_rng([seed, 7, D, tag, 0])
    if data == "spiked":
        spiked = spiked_covariance(1, dim=D, n_spikes=cfg["n_spikes"], rng=rng0)
        scale = 1.0 / math.sqrt(np.trace(spiked.covariance) / D)
        Omega = spiked.covariance * scale ** 2
        make = lambda rng: spiked_sampler(spiked, rng, scale)  # noqa: E731
        t_end = cfg["mean_t_linear"] if activation == "linear" else cfg["mean_t_erf"]
    else:
        z, Omega = mnist
        make = (lambda rng: gaussian_sampler(Omega, rng)) if data == "mnist" else (lambda rng: resampler(z, rng))
        t_end = cfg["mean_mnist_t"]
    rho, _ = ae_ode.eigenbasis(Omega)
    W0, V0, b0 = initial_weights(D, cfg, rng0)
    m = max(1, round(cfg["ode_dt"] * D))
    dt = m / D
    n_ode = int(round(t_end / dt))
    wanted = np.geomspace(0.05, n_ode * dt, cfg["mean_n_records"])
    record_k = np.unique(np.clip(np.round(wanted / dt).astype(np.int64), 1, n_ode))  # ODE steps = SGD steps / m
    state = ae_ode.initial_state(W0, V0, Omega)
    sol = ae_ode.solve_ae_ode(state, n_ode * dt, dt, cfg["eta"], activation=activation, save_every=1)
    fine = ae_ode.solve_ae_ode(state, n_ode * dt, dt / 2, cfg["eta"], activation=activation, save_every=2)
    ode = sol["error"][np.r_[0, record_k]]
    step_error = float(np.max(np.abs(fine["error"][np.r_[0, record_k]] / ode - 1)))
    times = record_k * dt
    lr = ae_learning_rates(cfg["eta"], D)
    evaluate = _pop({"Omega": Omega}, activation)
    runs = []
    for r in range(1, cfg["mean_runs"] + 1):
        rec = ae_runs.train_online(make(np.random.default_rng([seed, 7, D, tag, r])), W0.copy(), V0.copy(),
                                   b0.copy(), times, lr, activation, evaluate=evaluate)
        runs.append(rec["error"])
    t = np.r_[0.0, times]
    stats = ae_runs.mean_deviation(np.array(runs), ode)
    return {"activation": activation, "D": D, "data": data, "t_end": float(t[-1]), "R": cfg["mean_runs"],
            "t": t.tolist(), "ode": ode.tolist(), "runs": np.array(runs).tolist(), "ode_dt": dt,
            "ode_step_error": step_error, "pca_errors": ae_ode.pca_errors(rho / D, cfg["K"]).tolist(),
            **{k: v for k, v in stats.items() if not isinstance(v, np.ndarray)},
            "t_keep": t[stats["keep"]].tolist(), "z": stats["z"].tolist(), "bias": stats["bias"].tolist(),
            "se": stats["se"].tolist()}


def ode_mean_scaling(cells, dims, dims_erf=None):
    """Slopes in D over the spiked cells, per activation: the fluctuations' (expected −½) and, over the D whose
    time-averaged bias is resolved (|z_B| > 2), the bias's (expected −1); ``None`` when fewer than two D qualify
    or their biases differ in sign (then the sizes of two unrelated deviations would be fitted, not one bias
    shrinking with D: ``bias_signs_agree`` says which)."""
    out = {}
    for act, ds in (("linear", list(dims)), ("erf", list(dims if dims_erf is None else dims_erf))):
        by_D = [cells.get(_cell_key(act, D, "spiked")) for D in ds]
        if len(ds) < 2 or any(c is None for c in by_D):
            continue
        resolved = [(D, abs(c["time_avg_bias"])) for D, c in zip(ds, by_D) if abs(c["time_avg_bias_z"]) > 2]
        agree = len({math.copysign(1.0, c["time_avg_bias"]) for c in by_D if abs(c["time_avg_bias_z"]) > 2}) <= 1
        rms = [(D, c["rms_bias"]) for D, c in zip(ds, by_D) if c["rms_bias"] > 0]
        out[act] = {"dims": ds, "fluct_rms": [c["fluct_rms"] for c in by_D],
                    "slope_fluct_rms": ae_runs.loglog_slope(ds, [c["fluct_rms"] for c in by_D]),
                    "single_run_max": [c["single_run_max"] for c in by_D],
                    "slope_single_run_max": ae_runs.loglog_slope(ds, [c["single_run_max"] for c in by_D]),
                    "max_abs_z": [c["max_abs_z"] for c in by_D],
                    "time_avg_bias": [c["time_avg_bias"] for c in by_D],
                    "time_avg_bias_se": [c["time_avg_bias_se"] for c in by_D],
                    "bias_resolved_dims": [D for D, _ in resolved],
                    "bias_signs_agree": agree,
                    "slope_time_avg_bias": (ae_runs.loglog_slope(*zip(*resolved)) if len(resolved) >= 2 and agree
                                            else None),
                    "rms_bias": [c["rms_bias"] for c in by_D],
                    "slope_rms_bias": ae_runs.loglog_slope(*zip(*rms)) if len(rms) >= 2 else None}
    return out


def part_ode_mean(cfg, seed, save, cells=None, progress=None):
    """The ODE against the *mean* of ``mean_runs`` SGD runs per cell (``ode_mean_cell``), the fluctuation and bias
    slopes in D (``ode_mean_scaling``), and the figures. ``cells`` holds cells an earlier invocation finished
    (they are not rerun); ``progress(cells)`` is called after each new one, so a stopped run resumes there."""
    cells = dict(cells or {})
    mnist = None
    for act, D, data in _mean_cells(cfg):
        key = _cell_key(act, D, data)
        if key in cells:
            continue
        if data != "spiked" and mnist is None:
            mnist = _mnist_problem(cfg)
        start = time.perf_counter()
        cells[key] = dict(ode_mean_cell(act, D, data, cfg, seed, mnist), seconds=time.perf_counter() - start)
        if progress is not None:
            progress(cells)
    panels = {act: {f"D = {D}": cells[_cell_key(act, D, "spiked")] for D in cfg[key]}
              for act, key in (("linear", "mean_dims"), ("erf", "mean_dims_erf"))}
    panels["mnist"] = {"linear units, Gaussian (MNIST covariance)": cells["linear mnist"],
                       "erf units, Gaussian (MNIST covariance)": cells["erf mnist"],
                       "linear units, real MNIST images": cells["linear mnist-real"]}
    R = cfg["mean_runs"]
    for name, panel in panels.items():
        what = f"{name} units, spiked covariance" if name != "mnist" else "MNIST's spectrum (D = 784)"
        save(f"ode_mean_{name}", plot_mean_vs_ode(panel, f"ODE vs the mean of {R} SGD runs ({what}; same covariance "
                                                        "and initial weights, own samples)"))
    scaling = ode_mean_scaling(cells, cfg["mean_dims"], cfg["mean_dims_erf"])
    save("ode_mean_scaling", plot_mean_scaling(scaling, R))
    return {"cells": cells, "scaling": scaling}


def measure_speed(cfg, rng, D=500, K=4):
    """Online SGD steps/s at D = 500, K = 4 (erf, untied), NumPy backend vs Numba kernel, inputs pre-drawn."""
    out = {}
    for backend, n in zip(("numpy", "numba"), cfg["speed_steps"]):
        X = rng.standard_normal((n, D), dtype=np.float32)
        W = (0.1 * rng.standard_normal((D, K))).astype(np.float32)
        V, b = W.copy(), np.zeros(K, np.float32)
        with kernels.backend(backend):
            online_ae_sgd(X[:10], W, V, b, 1 / D, 1.0, 0.0, "erf")  # compile / warm up
            start = time.perf_counter()
            online_ae_sgd(X, W, V, b, 1 / D, 1.0, 0.0, "erf")
            out[f"{backend}_steps_per_s"] = n / (time.perf_counter() - start)
    start = time.perf_counter()
    rng.standard_normal((cfg["speed_steps"][1], D), dtype=np.float32)
    out["sampling_rows_per_s"] = cfg["speed_steps"][1] / (time.perf_counter() - start)
    out.update(D=D, K=K, activation="erf")
    return out


PARTS = {"speed": None, "sequential": part_sequential, "erf_tied": part_erf_tied, "relu_bias": part_relu_bias,
         "truncated": part_truncated, "ode_vs_sgd": part_ode_vs_sgd, "mnist": part_mnist, "ode_mean": part_ode_mean}


def run(mode="default", out=None, seed=0, verbose=True, parts=None):
    """Run the parts of study 4 (all, or those named in ``parts``: each part has its own random stream, so a
    later invocation adds the others unchanged); write results.json and ae_dynamics_<part>.png per figure."""
    run_ = prepare("ae-dynamics", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    stored = run_.stored_results()  # a resumed run keeps the parts an earlier invocation finished
    results, seconds = dict(stored.get("results", {})), dict(stored.get("part_seconds", {}))

    def save(name, fig):
        fig.savefig(out / f"ae_dynamics_{name}.png", dpi=120)

    if parts is not None and not set(parts) <= set(PARTS):
        raise ValueError(f"parts must name parts among {list(PARTS)}, got {list(parts)}")
    for i, (name, part) in enumerate(PARTS.items()):
        if name in results or (parts is not None and name not in parts):
            continue
        rng = np.random.default_rng([seed, i])  # per part: a skipped part does not change the others' draws
        start = time.perf_counter()
        if name == "ode_mean":  # resumable cell by cell: the finished cells are stored under "ode_mean_cells"
            def progress(cells):
                run_.write_results(dict(results=dict(results, ode_mean_cells=cells), part_seconds=seconds,
                                        complete=False))
            results[name] = part(cfg, seed, save, results.pop("ode_mean_cells", None), progress)
        else:
            results[name] = measure_speed(cfg, rng) if part is None else part(cfg, rng, save)
        seconds[name] = time.perf_counter() - start
        if verbose:
            print(f"[ae-dynamics {mode}] {name}: {seconds[name]:.1f} s", flush=True)
        run_.write_results(dict(results=results, part_seconds=seconds, complete=False))
    complete = set(PARTS) <= set(results)
    record = run_.write_results(dict(results=results, part_seconds=seconds, complete=complete))
    if verbose:
        print(f"done in {record['seconds']:.1f} s")
    return record
