"""Figures of study 1 (``experiment.py``): records in, ``matplotlib.figure.Figure`` out (no pyplot).

Every function reads the run records that ``sparseness.run`` writes to results.json, so the figures can be
rebuilt from a finished (or half-finished) run folder.
"""
import itertools

import numpy as np
from matplotlib.figure import Figure

from ...plotting import figure_grid
from ...stats import mean_std, spearman

ARMS = ("sigmoid-random", "sigmoid-dbn", "sigmoid-sda", "relu-random")
COLORS = {"sigmoid-random": "tab:gray", "sigmoid-dbn": "tab:blue", "sigmoid-sda": "tab:orange",
          "relu-random": "tab:green"}
LABELS = {"population_hoyer": "population Hoyer (0 dense, 1 one-hot)",
          "lifetime_hoyer": "lifetime Hoyer (0 … 1)",
          "mean_activation": "mean activation |h|",
          "fraction_below": "fraction of activations ≤ 0.1"}


def _layer_mean(summaries, measure):
    return float(np.mean([s[measure] for s in summaries]))


def plot_bars(runs, measure):
    """Bars: ``measure`` per hidden layer and arm (mean over seeds, error bar = std), one panel per stage —
    at random initialisation, after pretraining (the pretrained arms' start), and after fine-tuning with each
    number of labels."""
    labels = sorted({r["n_labels"] for r in runs})
    panels = [("at initialisation", "start", None, ("sigmoid-random", "relu-random")),
              ("after pretraining", "start", None, ("sigmoid-dbn", "sigmoid-sda"))]
    panels += [(f"after fine-tuning, {n} labels", "end", n, ARMS) for n in labels]
    n_layers = len(runs[0]["start"])
    fig = Figure(figsize=(3.3 * len(panels), 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (title, stage, n, arms) in zip(axes, panels):
        n = n if n is not None else labels[0]  # the start does not depend on the labels: take one count
        width = 0.8 / len(arms)
        for i, arm in enumerate(arms):
            v = np.array([[s[measure] for s in r[stage]] for r in runs if r["arm"] == arm and r["n_labels"] == n])
            if len(v):
                mean, std = mean_std(v, axis=0)
                ax.bar(np.arange(n_layers) + (i - (len(arms) - 1) / 2) * width, mean, width, yerr=std,
                       capsize=3, color=COLORS[arm], label=arm)
        ax.set(title=title, xticks=range(n_layers), xticklabels=[f"layer {l + 1}" for l in range(n_layers)])
        ax.grid(alpha=0.3, axis="y")
        if stage == "start" or n == labels[0]:  # the last panels repeat the third's legend
            ax.legend(fontsize=7, loc="upper left", ncols=2)
    axes[0].set_ylim(0, 1.3 * axes[0].get_ylim()[1])  # shared y: headroom for the legends above the bars
    axes[0].set_ylabel(LABELS.get(measure, measure))
    fig.suptitle(f"{LABELS.get(measure, measure)} of each hidden layer on held-out images (bars: mean over seeds, "
                 "lines: sample std)", fontsize=9)
    return fig


def plot_vs_epoch(runs, measure):
    """``measure`` of each hidden layer against the fine-tuning epoch (epoch 0 = start), one line per arm and
    seed, one row per number of labels."""
    labels = sorted({r["n_labels"] for r in runs})
    n_layers = len(runs[0]["start"])
    fig, axes = figure_grid(len(labels), n_layers, 4 * n_layers, 3.2)
    for row, n in enumerate(labels):
        for l in range(n_layers):
            ax = axes[row, l]
            for arm in ARMS:
                first = True
                for r in runs:
                    if r["arm"] == arm and r["n_labels"] == n:
                        e = [d["epoch"] for d in r["during"]]
                        v = [d["layers"][l][measure] for d in r["during"]]
                        ax.plot(e, v, marker=".", color=COLORS[arm], alpha=0.8, label=arm if first else None)
                        first = False
            ax.set(title=f"layer {l + 1}, {n} labels", xlabel="fine-tuning epoch", ylabel=LABELS.get(measure, measure))
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("sparseness during fine-tuning (held-out images; every line one seed)", fontsize=10)
    return fig


def plot_sweep(sweep):
    """Test error against the sparseness measured after pretraining (mean over layers), for stacks pretrained
    with KL sparsity targets ρ: population Hoyer in one panel, mean activation in the other."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    markers = {"dbn": ("o", "tab:blue", "RBM stack (DBN)"), "sda": ("s", "tab:orange", "DAE stack (SdA)")}
    for ax, measure in zip(axes, ("population_hoyer", "mean_activation")):
        for kind, (marker, color, name) in markers.items():
            rs = [r for r in sweep if r["kind"] == kind]
            if not rs:
                continue
            x = [_layer_mean(r["start"], measure) for r in rs]
            y = [100 * r["test_error"] for r in rs]
            ax.scatter(x, y, marker=marker, color=color, label=name)
            for xi, yi, r in zip(x, y, rs):
                ax.annotate("none" if r["rho"] is None else f"ρ={r['rho']:g}", (xi, yi), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        ax.set(xlabel=f"{LABELS[measure]}, after pretraining", ylabel="test error (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    n = sorted({r["n_labels"] for r in sweep})
    fig.suptitle(f"pretraining with a sparsity target ρ, then fine-tuning on {', '.join(map(str, n))} labels",
                 fontsize=10)
    return fig


def plot_histograms(runs):
    """Histograms of the hidden activations per layer (columns) and arm (rows) at the start of fine-tuning and
    after it (the first seed, the largest number of labels); log counts."""
    n = max(r["n_labels"] for r in runs)
    rs = {r["arm"]: r for r in runs if "histograms" in r and r["n_labels"] == n}
    arms = [a for a in ARMS if a in rs]
    n_layers = len(runs[0]["start"])
    fig, axes = figure_grid(len(arms), n_layers, 4 * n_layers, 2.3)
    for i, arm in enumerate(arms):
        for l in range(n_layers):
            ax = axes[i, l]
            for stage, style in (("start", dict(color="black", linestyle="--", label="start of fine-tuning")),
                                 ("end", dict(color=COLORS[arm], label="after fine-tuning"))):
                h = rs[arm]["histograms"][stage][l]
                edges, counts = np.array(h["edges"]), np.array(h["counts"])
                frac = counts / counts.sum()
                ax.stairs(np.maximum(frac, 1e-6), edges, **style)
            ax.set(yscale="log", ylim=(1e-4, 1), title=f"{arm}, layer {l + 1}", xlabel="activation",
                   ylabel="fraction of values")
            ax.legend(fontsize=7)
    fig.suptitle(f"hidden activations on held-out images ({n} labels, seed {min(r['seed'] for r in rs.values())})",
                 fontsize=10)
    return fig


def plot_correlations(runs, measure="population_hoyer"):
    """Scatter of ``measure`` after fine-tuning (mean over layers) against epochs to reach the target validation
    error and against test error, one marker per run, coloured by arm, one row per number of labels."""
    labels = sorted({r["n_labels"] for r in runs})
    fig, axes = figure_grid(len(labels), 2, 9, 3.3)
    targets = (("epochs_to_reach", "epochs to reach the target validation error"), ("test_error", "test error (%)"))
    for (row, n), (col, (key, name)) in itertools.product(enumerate(labels), enumerate(targets)):
        ax = axes[row, col]
        for arm in ARMS:
            rs = [r for r in runs if r["arm"] == arm and r["n_labels"] == n and r[key] is not None]
            ax.scatter([_layer_mean(r["end"], measure) for r in rs],
                       [r[key] * (100 if key == "test_error" else 1) for r in rs], color=COLORS[arm], label=arm)
        rs = [r for r in runs if r["n_labels"] == n and r[key] is not None]
        x, y = [_layer_mean(r["end"], measure) for r in rs], [r[key] for r in rs]
        rho = spearman(x, y) if len(rs) >= 2 else float("nan")
        ax.set(xlabel=f"{LABELS[measure]}, after fine-tuning", ylabel=name,
               title=f"{n} labels: Spearman ρ_s = {rho:.2f} (n = {len(rs)})")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("sparseness vs training speed and test error (every marker one run)", fontsize=10)
    return fig
