"""Figures of study 4 (Refinetti & Goldt, ICML 2022): error curves on a log-time axis, overlaps, ODE vs SGD.

Every function returns a ``matplotlib.figure.Figure`` (object interface, no pyplot), sized to be read at
6×4 in (one panel) or 11×4 in (two panels), dpi 120.
"""
import numpy as np
from matplotlib.figure import Figure

TIME_LABEL = "time t = SGD steps / D (log scale)"
ERROR_LABEL = "population error ε = E‖x − x̂‖²/(2D)"


def _pca_lines(ax, pca, labels=True):
    for k, level in enumerate(pca, start=1):
        ax.axhline(level, color="0.55", ls="--", lw=0.8, label="PCA errors, k = 1…K" if (labels and k == 1) else None)
        ax.annotate(f"PCA-{k}", (1.0, level), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7, color="0.35")


def plot_error_curves(curves, pca, title, size=(6.0, 4.0)):
    """One panel: ε(t) for each ``label -> (t, error)`` in ``curves`` (t > 0 shown), PCA-k errors as dashed lines."""
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    for label, (t, err) in curves.items():
        t, err = np.asarray(t), np.asarray(err)
        ax.plot(t[t > 0], err[t > 0], label=label, lw=1.6)
    _pca_lines(ax, pca)
    ax.set(xscale="log", yscale="log", xlabel=TIME_LABEL, ylabel=ERROR_LABEL, title=title)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_sequential(t, error, overlaps, pca, title):
    """Two panels: ε(t) with the PCA-k errors, and ‖P ψ_τ‖² (P onto the span of the weights given) of each leading eigendirection τ (rising one by one)."""
    fig = Figure(figsize=(11.0, 4.0), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    t = np.asarray(t)
    pos = t > 0
    ax.plot(t[pos], np.asarray(error)[pos], color="k", lw=1.8, label="SGD, linear autoencoder")
    _pca_lines(ax, pca)
    ax.set(xscale="log", yscale="log", xlabel=TIME_LABEL, ylabel=ERROR_LABEL, title="error: a staircase of plateaus")
    ax.legend(fontsize=8, loc="lower left")
    for tau in range(overlaps.shape[1]):
        ax2.plot(t[pos], overlaps[pos, tau], lw=1.6, label=f"eigendirection {tau + 1}")
    ax2.set(xscale="log", ylim=(-0.03, 1.05), xlabel=TIME_LABEL, ylabel="‖P_V ψ_τ‖² (share of ψ_τ in span of decoder)",
            title="the principal directions are learned one by one")
    ax2.legend(fontsize=8, loc="upper left")
    fig.suptitle(title)
    return fig


def plot_overlap_matrices(matrices, title):
    """Heat maps of K×K overlap matrices |v_k·ψ_τ|/‖v_k‖ (any weights' columns), one panel per ``label -> C`` (values printed)."""
    fig = Figure(figsize=(5.2 * len(matrices), 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(matrices)))
    for ax, (label, C) in zip(axes, matrices.items()):
        im = ax.imshow(C, vmin=0, vmax=1, cmap="viridis")
        for (i, j), c in np.ndenumerate(C):
            ax.text(j, i, f"{c:.2f}", ha="center", va="center", fontsize=8, color="w" if c < 0.6 else "k")
        K = C.shape[1]
        ax.set(xticks=range(K), yticks=range(C.shape[0]), xticklabels=[str(k + 1) for k in range(K)],
               yticklabels=[str(k + 1) for k in range(C.shape[0])], xlabel="unit k",
               ylabel="eigendirection τ (by eigenvalue)", title=label)
    fig.colorbar(im, ax=list(axes), label="|cos(v_k, ψ_τ)| (dimensionless)")
    fig.suptitle(title)
    return fig


def plot_ode_vs_sgd(panels, title, pca=None):
    """Panels ``name -> {label: (t_ode, ε_ode, t_sgd, ε_sgd)}``: ODE as lines, SGD as dots in the same colour."""
    fig = Figure(figsize=(5.5 * len(panels), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (name, runs) in zip(axes, panels.items()):
        drawn = []  # an ODE curve shared by several SGD runs is drawn once, in black
        for i, (label, (t_ode, e_ode, t_sgd, e_sgd)) in enumerate(runs.items()):
            color = f"C{i}"
            shared = sum(e is e_ode for _, e, _, _ in runs.values()) > 1
            t_ode, t_sgd = np.asarray(t_ode), np.asarray(t_sgd)
            if not any(e is e_ode for e in drawn):
                ax.plot(t_ode[t_ode > 0], np.asarray(e_ode)[t_ode > 0], color="k" if shared else color, lw=1.4,
                        label="ODE" if shared else f"ODE, {label}")
                drawn.append(e_ode)
            ax.plot(t_sgd[t_sgd > 0], np.asarray(e_sgd)[t_sgd > 0], "o", ms=2.5, color=color, alpha=0.8,
                    label=f"SGD, {label}")
        if pca is not None:
            _pca_lines(ax, pca[name] if isinstance(pca, dict) else pca)
        ax.set(xscale="log", yscale="log", xlabel=TIME_LABEL, ylabel=ERROR_LABEL, title=name)
        ax.legend(fontsize=7, loc="lower left", ncol=2)
    fig.suptitle(title)
    return fig


def plot_deviation_vs_dimension(dims, deviations, title):
    """Log–log: the largest relative ODE–SGD deviation of ε over the run against D; ``deviations`` maps a label
    to its values per D, or to ``(means, stds)`` drawn with error bars (a label with "removed" dashed)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    colors = {}
    for label, dev in deviations.items():
        mean, std = (dev if isinstance(dev, tuple) else (dev, None))
        mean = 100 * np.asarray(mean, dtype=float)
        yerr = None if std is None else 100 * np.nan_to_num(np.asarray(std, dtype=float))
        color = colors.setdefault(label.split(",")[0], f"C{len(colors)}")  # one colour per activation
        ax.errorbar(dims, mean, yerr=yerr, fmt="s--" if "removed" in label else "o-", capsize=3, color=color,
                    label=label)
    deviations = {k: (v[0] if isinstance(v, tuple) else v) for k, v in deviations.items()}
    ax.axhline(2.0, color="0.5", ls=":", label="2 % (the goal at D = 1000)")
    ax.set(xscale="log", yscale="log", xlabel="input dimension D", ylabel="max_t |ε_SGD − ε_ODE| / ε_ODE  (%)",
           title=title)
    from matplotlib.ticker import NullFormatter, ScalarFormatter
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo = min(2.0, *(100 * np.nanmin(d) for d in deviations.values()))
    hi = max(100 * np.nanmax(d) for d in deviations.values())
    ax.set_yticks([v for v in (0.5, 1, 2, 3, 5, 10, 20, 50, 100) if 0.7 * lo <= v <= 1.4 * hi])
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8)
    return fig


def plot_mean_vs_ode(panels, title):
    """Columns ``name -> cell`` (``experiments.ae_dynamics.ode_mean_cell``): top, ε(t) of the ODE (black), each SGD
    run (faint) and their mean; bottom, the relative deviation from the ODE (ε − ε_ODE)/ε_ODE of each run (faint)
    and of the mean with its ±2 standard-error band, and the pointwise z = mean/SE on a twin axis."""
    fig = Figure(figsize=(3.9 * len(panels), 6.6), layout="constrained")
    axes = fig.subplots(2, len(panels), squeeze=False, sharex="col")
    for col, (name, c) in enumerate(panels.items()):
        t, ode, runs = np.asarray(c["t"]), np.asarray(c["ode"]), np.asarray(c["runs"])
        pos = t > 0
        ax = axes[0, col]
        for r, run in enumerate(runs):
            ax.plot(t[pos], run[pos], color="C0", alpha=0.25, lw=0.8, label="single SGD runs" if r == 0 else None)
        ax.plot(t[pos], runs.mean(axis=0)[pos], color="C3", lw=1.4, label=f"mean of {len(runs)} runs")
        ax.plot(t[pos], ode[pos], color="k", lw=1.0, ls="--", label="ODE")
        _pca_lines(ax, c["pca_errors"], labels=False)
        ax.set(xscale="log", yscale="log", title=name, ylabel=ERROR_LABEL if col == 0 else None)
        ax.legend(fontsize=7, loc="lower left")
        ax = axes[1, col]
        d = (runs - ode) / ode
        tk, bias, se = np.asarray(c["t_keep"]), np.asarray(c["bias"]), np.asarray(c["se"])
        for r in range(len(runs)):
            ax.plot(t[pos], 100 * d[r, pos], color="C0", alpha=0.25, lw=0.8)
        ax.fill_between(tk, 100 * (bias - 2 * se), 100 * (bias + 2 * se), color="C3", alpha=0.3, lw=0,
                        label="mean ± 2 SE")
        ax.plot(tk, 100 * bias, color="C3", lw=1.4, label="mean of the runs")
        ax.axhline(0.0, color="k", lw=1.0, ls="--")
        spread = np.percentile(np.abs(d[:, pos]), 99)
        ax.set(xscale="log", ylim=(-110 * spread, 110 * spread), xlabel=TIME_LABEL,
               ylabel="(ε − ε_ODE) / ε_ODE  (%)" if col == 0 else None,
               title=f"max |z| = {c['max_abs_z']:.1f}; time-avg. bias {100 * c['time_avg_bias']:+.2f} ± "
                     f"{100 * c['time_avg_bias_se']:.2f} %", )
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_mean_scaling(scaling, R):
    """Log–log against D: the fluctuations of one run (RMS over time of the runs' relative spread; slope −½
    expected) and the ODE's bias (time-averaged |bias| ± SE of the mean of R runs, hollow where |z| ≤ 2;
    slope −1 expected), per activation, with reference slopes drawn through the first point."""
    fig = Figure(figsize=(6.6, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for i, (act, s) in enumerate(scaling.items()):
        dims = np.asarray(s["dims"], dtype=float)
        fl = 100 * np.asarray(s["fluct_rms"])
        ax.plot(dims, fl, "o-", color=f"C{i}", label=f"{act}: fluctuation of one run, slope {s['slope_fluct_rms']:.2f}")
        ax.plot(dims, fl[0] * (dims / dims[0]) ** -0.5, ":", color=f"C{i}", lw=0.9)
        b, se = 100 * np.abs(s["time_avg_bias"]), 100 * np.asarray(s["time_avg_bias_se"])
        res = np.isin(s["dims"], s["bias_resolved_dims"])
        slope = (f"slope {s['slope_time_avg_bias']:.2f}" if s["slope_time_avg_bias"] is not None else
                 "resolved D differ in sign: no slope" if len(s["bias_resolved_dims"]) >= 2 else "not resolved")
        ax.errorbar(dims, b, yerr=se, fmt="s--", color=f"C{i}", mfc="none", capsize=3, lw=0.9,
                    label=f"{act}: |time-averaged bias| of the mean ± SE, {slope}")
        ax.plot(dims[res], b[res], "s", color=f"C{i}")
        ax.plot(dims, b[0] * (dims / dims[0]) ** -1.0, "-.", color=f"C{i}", lw=0.9, alpha=0.6)
    ax.set(xscale="log", yscale="log", xlabel="input dimension D",
           ylabel="relative deviation from the ODE (%)",
           title=f"Fluctuations (dotted: D^−½) and bias (dash-dot: D^−1), {R} runs per D\n"
                 "filled squares: bias resolved (|z| > 2)")
    ax.title.set_fontsize(9)
    from matplotlib.ticker import NullFormatter
    ticks = sorted({d for s in scaling.values() for d in s["dims"]})
    ax.set_xticks(ticks, [str(d) for d in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7)
    return fig
