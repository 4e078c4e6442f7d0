"""Study 3 — diversifying regularisation (DR): penalise similar hidden codes for inputs of different classes.

After Sulimov, Sukmanova, Chereshnev & Kertész-Farkas, arXiv 1911.02048 (2019; AIST 2019) — **reconstructed**:
the terms are the lab's own (``pretrainlab/studies/diversify/regularizers.py``), and no number here comes from the paper.
``pretrainlab experiment diversify [--quick | --full]``.

Two questions, each with ``labels`` labelled training images (a seeded subset, study 2's ``labelled_subset``)
and the rest unlabelled:

1. **DR as a prior in greedy pretraining.** A DBN (stacked RBMs, CD-1, study 2's settings) is pretrained on all
   training images with ``BhattacharyyaDR(α)`` on every layer's p(h | v): the labelled rows carry their labels,
   the others −1 (they enter the likelihood, not the penalty); α = 0 is the plain DBN (one stack per seed, shared
   by both label counts). Each stack is then fine-tuned with study 2's protocol (arm ``dbn``).
2. **DR in the discriminative objective.** The same MLP from random initialisation, with and without
   ``InnerProductDR(α)`` on every hidden layer (arm ``mlp``).

**Controls** (issue 34): beside each diversifying arm, the same term at the same α on pairs chosen *without*
regard to class — ``pairs="random"`` (label-blind) and ``pairs="same"`` (equal labels) — drawn from the same rows,
as many (``diversify.PAIRINGS``). A gain the diversifying term shares with them is not the labels' doing.
``paired_comparisons`` gives each arm's mean paired difference of test error over the seeds (one seed = one
labelled subset and one initialisation for every arm) with a 95 % t interval, against α = 0 and against the
controls.

Measured per run: validation error per epoch, epochs to reach ``reach[labels]`` validation error, test error, and
during the first ``grad_steps`` updates of fine-tuning (every ``grad_every``) the norm ‖∂L/∂W_l‖_F of each layer on
a fixed batch of labelled images — of the cross-entropy alone (on a penalty-free twin that shares the parameters)
and of the whole objective — the "DR against vanishing gradients" claim.

Network: 784-500-500-10 in ``--full``, not the brief's 784-500-500-2000: the 500→2000 RBM is 60 % of a stack's
time, and with DR the stacks depend on the labels (and, for the controls, on the pairs). α of the RBM term from a
probe (RBM 784-200, 5 000 images, 5 epochs, mean Bhattacharyya coefficient of different-label pairs of held-out
codes): 0.804 at α = 0, 0.799 at 10, 0.761 at 100, 0.616–0.630 at 1 000 (mean-field reconstruction error
18.0 → 20.2–20.8: the penalty starts to cost likelihood).

``--full`` (issue 34): 5 seeds, α ∈ {0, 10} for the RBM prior and {0, 1} for the MLP term, each α > 0 with the
diversifying pairs and both controls; α = 1 000 (which hurt in the first, 3-seed run: 14.46 vs 6.01 % with 1 000
labels) and α = 100 (no better than α = 0 there) are dropped to fit, not seeds. Units: 40 MLP fine-tunings, then per
seed 7 stacks and 8 DBN fine-tunings — ≈ 3.4 h on one free core (a stack ≈ 150 s, a fine-tuning on 50 000 labels
≈ 100–230 s, on 1 000 labels ≈ 20–30 s; docs/study3.md), so ``--hours`` splits it into invocations: the MLP arm
runs first, then the DBN arm seed by seed, and a rerun of the same command goes on from there. Resumable: stacks as
.npz, results.json after each unit. ``--jobs N`` runs the units of a batch in N processes, ``--scheduler ADDRESS``
on a Dask cluster (``sweep.run_units``), with the same results as a serial run.
"""
import time
from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ...data import load_mnist
from .regularizers import BhattacharyyaDR, InnerProductDR
from ...mlp import MLP
from ...plotting import figure_grid, finish_log_axes
from ...pretrain import LayerSettings, error_rate, fine_tune_subset, load_or_pretrain, to_mlp
from ...stats import epochs_to_reach, mean_std, paired_difference
from ...runner.sweep import run_units
from ...runner.experiments import prepare, run_and_save
from ..pretraining.experiment import FINE_TUNE, LAYERS, labelled_subset

SETTINGS = {
    "quick": dict(n_unlabelled=1500, hidden=(100, 100), pretrain_epochs=2, finetune_epochs=5, patience=5,
                  labels=(200, 1500), reach={200: 0.5, 1500: 0.3}, seeds=(0, 1), alphas_rbm=(0, 300),
                  alphas_mlp=(0, 1.0), pairs=("different", "random", "same"), n_valid=500, n_test=500,
                  grad_steps=40, grad_every=5),
    "default": dict(n_unlabelled=20000, hidden=(500, 500), pretrain_epochs=5, finetune_epochs=30, patience=8,
                    labels=(1000, 20000), reach={1000: 0.15, 20000: 0.04}, seeds=(0,), alphas_rbm=(0, 100, 1000),
                    alphas_mlp=(0, 1.0), pairs=("different",), n_valid=10000, n_test=10000, grad_steps=200,
                    grad_every=10),
    "full": dict(n_unlabelled=50000, hidden=(500, 500), pretrain_epochs=10, finetune_epochs=30, patience=8,
                 labels=(1000, 50000), reach={1000: 0.15, 50000: 0.03}, seeds=(0, 1, 2, 3, 4),
                 alphas_rbm=(0, 10), alphas_mlp=(0, 1.0), pairs=("different", "random", "same"), n_valid=10000,
                 n_test=10000, grad_steps=500, grad_every=10),
}
COLORS = ("tab:gray", "tab:blue", "tab:orange", "tab:red", "tab:purple")


def partial_labels(y, idx):
    """Labels for the rows ``idx``, −1 (unlabelled) elsewhere: what a DR prior in pretraining may see."""
    out = np.full(len(y), -1, dtype=np.int64)
    out[idx] = y[idx]
    return out


def dr_stack_paths(alpha, n_labels, cfg, seed, out, pairs="different"):
    """Where ``dr_stack`` saves its layers: α = 0 has one stack per seed, every α > 0 one per label count (and per
    choice of pairs: the controls' stacks carry it in their name)."""
    tag = "a0" if alpha == 0 else f"a{alpha:g}-l{n_labels}" if pairs == "different" else f"a{alpha:g}-{pairs}-l{n_labels}"
    return [out / f"stack-dbn-{tag}-seed{seed}-layer{i}.npz" for i in range(1, len(cfg["hidden"]) + 1)]


def dr_stack(alpha, n_labels, data, cfg, seed, out, pairs="different"):
    """The DBN pretrained with ``BhattacharyyaDR(alpha, pairs=pairs)`` on the rows of the ``n_labels`` labelled images
    (α = 0: no labels, the plain DBN), reloaded from ``out`` if saved before. ``pairs``: "different" (the
    diversifying prior), "random" or "same" (study 3's controls: the same rows, the same α, other pairs)."""
    extra = dict(penalties=[BhattacharyyaDR(alpha, pairs=pairs)]) if alpha else {}
    y = partial_labels(data.y_train, labelled_subset(n_labels, len(data.x_train), seed)) if alpha else None
    settings = LayerSettings(epochs=cfg["pretrain_epochs"], extra=extra, **LAYERS["dbn"])
    return load_or_pretrain(dr_stack_paths(alpha, n_labels, cfg, seed, out, pairs), data.x_train, cfg["hidden"], settings,
                            np.random.default_rng(seed), y=y)


class GradientProbe:
    """``after_step`` hook: every ``every`` updates up to ``steps``, ‖∂L/∂W_l‖_F of each layer on a fixed batch —
    of the cross-entropy alone (a penalty-free twin MLP sharing the parameter arrays) and of the full objective."""

    def __init__(self, mlp, x, y, steps, every):
        self.mlp, self.x, self.y, self.steps, self.every = mlp, x, y, steps, every
        self.twin = MLP(mlp.layer_sizes, activation=mlp.activation, dtype=mlp.dtype, rng=0)
        self.twin.params = mlp.params  # the same arrays: the twin sees every update
        self.count = 0
        self.record = {"step": [], "ce": [], "total": []}
        self.measure()

    def _norms(self, model):
        grads = model.loss_and_grads(self.x, self.y)[1]
        return [float(np.linalg.norm(grads[f"W{l}"])) for l in range(1, model.n_layers + 1)]

    def measure(self):
        self.record["step"].append(self.count)
        self.record["ce"].append(self._norms(self.twin))
        self.record["total"].append(self._norms(self.mlp))

    def __call__(self, model):
        self.count += 1
        if self.count <= self.steps and self.count % self.every == 0:
            self.measure()


def fine_tune_one(arm, alpha, layers, data, idx, cfg, seed, pairs="different"):
    """Fine-tune one MLP (``arm`` "dbn": from ``layers``; "mlp": random init with ``InnerProductDR(alpha, pairs=pairs)``)
    on the labelled rows ``idx`` with study 2's protocol; return its record. The same seed gives every arm the same
    labelled rows and, for "mlp", the same initial weights: arms of one seed are paired."""
    rng = np.random.default_rng(seed)
    if arm == "dbn":
        mlp = to_mlp(layers, 10, rng=rng)
    else:
        mlp = MLP([data.x_train.shape[1], *cfg["hidden"], 10], rng=rng,
                  penalties=[InnerProductDR(alpha, pairs=pairs)] if alpha else ())
    probe = GradientProbe(mlp, data.x_train[idx[:100]], data.y_train[idx[:100]], cfg["grad_steps"], cfg["grad_every"])
    start = time.perf_counter()
    history = fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid,
                               epochs=cfg["finetune_epochs"], patience=cfg["patience"], rng=rng, after_step=[probe],
                               **FINE_TUNE)
    curve = history["valid_error"]
    return {"arm": arm, "alpha": alpha, "pairs": pairs if alpha else "none", "seed": seed, "n_labels": int(len(idx)),
            "test_error": error_rate(mlp, data.x_test, data.y_test), "valid_curve": curve, "epochs": len(history),
            "epochs_to_reach": epochs_to_reach(curve, cfg["reach"][len(idx)] if len(idx) in cfg["reach"]
                                               else cfg["reach"][max(cfg["reach"])]),
            "grad_norms": probe.record, "seconds": time.perf_counter() - start}


def variant(r):
    """The name of a run's arm in tables: "mlp α=0", "mlp α=1" (the diversifying term), "mlp α=1 random pairs"."""
    pairs = r.get("pairs", "different")
    return f"{r['arm']} α={r['alpha']:g}" + ("" if pairs in ("none", "different") else f" {pairs} pairs")


def summarize(runs):
    """{n_labels: {variant: {"test_error": mean/std/n, "epochs_to_reach": mean over the runs that reached it}}}."""
    groups = {}
    for r in runs:
        groups.setdefault(str(r["n_labels"]), {}).setdefault(variant(r), []).append(r)
    return {n: {k: {"test_error": dict(zip(("mean", "std"), map(float, mean_std([r["test_error"] for r in rs]))),
                                       n=len(rs)),
                    "epochs_to_reach": {"mean": (float(np.mean(e)) if (e := [r["epochs_to_reach"] for r in rs
                                                                             if r["epochs_to_reach"]]) else None),
                                        "reached": len(e)}}
                for k, rs in sorted(by.items())} for n, by in groups.items()}


def paired_comparisons(runs):
    """Paired differences of test error (``stats.paired_difference``: mean, 95 % t interval, p) over the seeds both
    runs share, per label count and arm, for each α > 0 and choice of pairs: against α = 0 ("vs α=0"), and for the
    diversifying term against each control at its α ("vs random pairs", "vs same pairs"). Negative: lower error."""
    by = {(r["n_labels"], r["arm"], r["alpha"], r.get("pairs", "different")): {} for r in runs}
    for r in runs:
        by[(r["n_labels"], r["arm"], r["alpha"], r.get("pairs", "different"))][r["seed"]] = r["test_error"]
    out = {}

    def compare(a, b):
        seeds = sorted(set(by.get(a, {})) & set(by.get(b, {})))
        return paired_difference([by[a][s] for s in seeds], [by[b][s] for s in seeds]) | {"seeds": seeds} \
            if seeds else None

    for (n, arm, alpha, pairs) in sorted(by, key=lambda k: (k[0], k[1], k[2], k[3])):
        if alpha == 0:
            continue
        name = variant({"arm": arm, "alpha": alpha, "pairs": pairs})
        cell = {"vs α=0": compare((n, arm, alpha, pairs), (n, arm, 0, "none"))}
        if pairs == "different":
            for control in ("random", "same"):
                if (n, arm, alpha, control) in by:
                    cell[f"vs {control} pairs"] = compare((n, arm, alpha, pairs), (n, arm, alpha, control))
        out.setdefault(str(n), {})[name] = {k: v for k, v in cell.items() if v is not None}
    return out


def format_comparisons(comparisons):
    """The paired differences as lines: "labels  variant  vs …  Δ mean [95 % interval] (n seeds, p)" in points."""
    lines = [f"{'labels':>7}  {'variant':<26} {'against':<16} {'Δ test error, points [95 % CI]':>34}"]
    for n, by in comparisons.items():
        for name, cell in by.items():
            for against, d in cell.items():
                ci = "n < 2" if d["n"] < 2 else f"[{100 * d['lo']:+.2f}, {100 * d['hi']:+.2f}]"
                lines.append(f"{n:>7}  {name:<26} {against:<16} {100 * d['mean']:+7.2f} {ci:>18} "
                             f"(n={d['n']}, p={d['p']:.2g})")
    return "\n".join(lines)


def format_table(summary_):
    lines = [f"{'labels':>7}  {'arm':<26} {'test error':>17} {'epochs to reach':>16}"]
    for n, by in summary_.items():
        for k, c in by.items():
            te, reach = c["test_error"], c["epochs_to_reach"]
            when = "—" if reach["mean"] is None else f"{reach['mean']:.1f}"
            lines.append(f"{n:>7}  {k:<26} {100 * te['mean']:>8.2f} ± {100 * te['std']:.2f} % "
                         f"{when:>12} ({reach['reached']}/{te['n']})")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- figures
def _alphas(runs, arm):
    return sorted({r["alpha"] for r in runs if r["arm"] == arm})


def _diversifying(runs):
    """The runs of α = 0 and of the diversifying terms (the controls' runs left out): what the α figures show."""
    return [r for r in runs if r.get("pairs", "different") in ("none", "different")]


def plot_convergence(runs):
    """Validation error per fine-tuning epoch (mean over seeds), one panel per label count and arm."""
    labels = sorted({r["n_labels"] for r in runs})
    fig, axes = figure_grid(len(labels), 2, 9, 3.4)
    for row, n in enumerate(labels):
        for col, (arm, name) in enumerate((("dbn", "DBN pretrained with DR(α), fine-tuned"),
                                           ("mlp", "MLP from random init, DR(α) in the loss"))):
            ax = axes[row, col]
            for color, a in zip(COLORS, _alphas(runs, arm)):
                curves = [r["valid_curve"] for r in runs if (r["arm"], r["alpha"], r["n_labels"]) == (arm, a, n)]
                if not curves:
                    continue
                m = min(map(len, curves))
                mean = 100 * np.mean([c[:m] for c in curves], axis=0)
                ax.plot(np.arange(1, m + 1), mean, marker=".", color=color, label=f"α = {a:g}")
            finish_log_axes(ax, 8, xlabel="fine-tuning epoch", ylabel="validation error (%)",
                            title=f"{name}\n{n} labels")
    fig.suptitle("convergence of fine-tuning with and without diversifying regularisation (mean over seeds)",
                 fontsize=10)
    return fig


def plot_error_vs_alpha(runs):
    """Test error against α (symmetric-log axis: α = 0 included), mean ± std over seeds, per arm and label count."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (arm, name) in zip(axes, (("dbn", "α of the Bhattacharyya prior in pretraining"),
                                      ("mlp", "α of the inner-product term in the loss"))):
        for color, n in zip(COLORS[1:], sorted({r["n_labels"] for r in runs})):
            a = _alphas(runs, arm)
            e = [[100 * r["test_error"] for r in runs if (r["arm"], r["alpha"], r["n_labels"]) == (arm, x, n)] for x in a]
            ax.errorbar(a, [np.mean(v) for v in e], yerr=[mean_std(v)[1] for v in e], marker="o", capsize=3, color=color,
                        label=f"{n} labels")
        a = _alphas(runs, arm)
        ax.set_xscale("symlog", linthresh=min([x for x in a if x > 0], default=1.0))
        finish_log_axes(ax, 8, xlabel=name, ylabel="test error (%)", xticks=a, xticklabels=[f"{x:g}" for x in a],
                        title="DBN + fine-tuning" if arm == "dbn" else "MLP from random init")
    fig.suptitle("test error vs the strength α of diversifying regularisation (error bars: std over seeds)",
                 fontsize=10)
    return fig


def plot_grad_norms(runs, kind="ce"):
    """‖∂L/∂W_l‖ per layer over the first updates of fine-tuning (mean over seeds, the largest label count):
    α = 0 (dashed) against the largest α (solid), DBN and MLP."""
    n = max(r["n_labels"] for r in runs)
    n_layers = len(runs[0]["grad_norms"]["ce"][0])
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, arm in zip(axes, ("dbn", "mlp")):
        a = _alphas(runs, arm)
        for alpha, style in ((a[0], "--"), (a[-1], "-")):
            rs = [r["grad_norms"] for r in runs if (r["arm"], r["alpha"], r["n_labels"]) == (arm, alpha, n)]
            if not rs:
                continue
            norms = np.mean([g[kind] for g in rs], axis=0)
            for l, color in zip(range(n_layers), COLORS[1:]):
                ax.plot(rs[0]["step"], norms[:, l], style, color=color, label=f"layer {l + 1}, α = {alpha:g}")
        ax.set(yscale="log", xlabel="update (minibatch step) of fine-tuning", ylabel="gradient norm ‖∂L/∂W_l‖_F",
               title=f"{'DBN' if arm == 'dbn' else 'MLP'}, {n} labels")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, ncol=2)
    what = "cross-entropy alone" if kind == "ce" else "whole objective"
    fig.suptitle(f"per-layer gradient norms ({what}) on a fixed batch of 100 labelled images", fontsize=10)
    return fig


def plot_paired_differences(comparisons):
    """One panel per label count: each paired difference of test error (points) with its 95 % t interval — every
    α > 0 against α = 0 (blue), and the diversifying arms against the controls at their α (orange)."""
    labels = list(comparisons)
    n_rows = max(sum(len(c) for c in comparisons[n].values()) for n in labels)
    fig = Figure(figsize=(6.8 * len(labels), 1.2 + 0.38 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(labels)))
    for ax, n in zip(axes, labels):
        rows = [(f"{name}  vs {against[3:]}", against, d) for name, cell in comparisons[n].items()
                for against, d in cell.items()]
        y = np.arange(len(rows))[::-1]
        for yi, (label, against, d) in zip(y, rows):
            lo, hi = (d["lo"], d["hi"]) if d["n"] >= 2 else (d["mean"], d["mean"])
            ax.errorbar(100 * d["mean"], yi, xerr=[[100 * (d["mean"] - lo)], [100 * (hi - d["mean"])]], fmt="o",
                        color="tab:blue" if against == "vs α=0" else "tab:orange", capsize=3)
            ax.annotate(f"n={d['n']}", (1.0, yi), xycoords=("axes fraction", "data"), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_yticks(y, [label for label, _, _ in rows], fontsize=7)
        ax.set(xlabel="Δ test error (points; < 0: the first arm is better)", title=f"{n} labels")
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("paired differences over seeds, 95 % t intervals (blue: against α = 0; orange: against a control)",
                 fontsize=9)
    return fig


# -------------------------------------------------------------------------------------------- the run
def _stack_unit(cfg, out, unit):
    """A sweep unit ``(alpha, n_labels, seed, pairs)``: pretrain that ``dr_stack`` and save it in ``out``."""
    alpha, n_labels, seed, pairs = unit
    dr_stack(alpha, n_labels, load_mnist(n_train=cfg["n_unlabelled"], n_valid=1, n_test=1), cfg, seed, out, pairs)
    return alpha


def _finetune_unit(cfg, out, unit):
    """A sweep unit ``(arm, alpha, pairs, seed, n_labels)`` (``n_labels`` as configured): fine-tune that arm; a
    DBN's stack is read from ``out``."""
    arm, alpha, pairs, seed, n_labels = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    layers = dr_stack(alpha, n_labels, data, cfg, seed, out, pairs) if arm == "dbn" else None
    return fine_tune_one(arm, alpha, layers, data, labelled_subset(n_labels, len(data.x_train), seed), cfg, seed,
                         pairs)


def planned_units(cfg, seeds):
    """The fine-tuning units ``(arm, α, pairs, seed, n_labels)`` in the order they run: the MLP arm first (no
    stacks; every label count, then every seed), then the DBN arm seed by seed, so a run stopped by its budget
    leaves whole seeds. α = 0 has pairs "none"; every α > 0 the diversifying pairs and each control."""
    def variants(alphas):
        return [(a, "none") for a in alphas if a == 0] + [(a, p) for a in alphas if a for p in cfg["pairs"]]

    mlp = [("mlp", a, p, s, n) for n in cfg["labels"] for s in seeds for a, p in variants(cfg["alphas_mlp"])]
    dbn = [("dbn", a, p, s, n) for s in seeds for n in cfg["labels"] for a, p in variants(cfg["alphas_rbm"])]
    return mlp + dbn


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None, deadline=None):
    """Fine-tune the MLP arm's units, then, seed by seed, pretrain the DBN arm's stacks and fine-tune them — every
    unit not done yet, serially, in ``jobs`` processes or on the Dask cluster at ``scheduler``
    (``sweep.run_units``); results.json after each. ``deadline`` (``time.time()``, the CLI's ``--hours``): no unit
    starts after it (a running one finishes), and the rerun of the same command goes on from there."""
    run_ = prepare("diversify", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    run_.say_quick("tiny nets, 2 epochs of pretraining and 5 of fine-tuning on 1 500 images", verbose)
    n_train = cfg["n_unlabelled"]
    runs = run_.stored_results().get("runs", [])
    done = {(r["arm"], r["alpha"], r.get("pairs", "different" if r["alpha"] else "none"), r["seed"], r["n_labels"])
            for r in runs}
    seeds = [seed + k for k in cfg["seeds"]]
    options = dict(jobs=jobs, scheduler=scheduler, threads_per_job=threads_per_job, verbose=verbose,
                   deadline=deadline)
    order_of = {u: i for i, u in enumerate(planned_units(cfg, seeds))}

    def key(r):  # the done key holds the labelled count (n_labels ≥ n_train: n_train)
        return (r["arm"], r["alpha"], r.get("pairs", "none"), r["seed"],
                next(n for n in cfg["labels"] if len(labelled_subset(n, n_train, r["seed"])) == r["n_labels"]))

    def save():
        return run_.write_results({"layers": LAYERS, "fine_tune": FINE_TUNE, "summary": summarize(runs),
                                   "paired": paired_comparisons(runs), "runs": runs,
                                   "complete": all(u in {key(r) for r in runs} for u in order_of)})

    def report(unit, r):
        arm, alpha, pairs, s, n_labels = unit
        print(f"seed {s} {n_labels:>6d} labels {arm} α={alpha:<6g} {pairs:<9} test error {100 * r['test_error']:.2f} %"
              f"  reached target at epoch {r['epochs_to_reach']}  ({r['epochs']} epochs, {r['seconds']:.0f} s)",
              flush=True)

    pending = [u for u in order_of if (u[0], u[1], u[2], u[3], len(labelled_subset(u[4], n_train, u[3]))) not in done]
    # batches: the MLP units, then one batch per seed of the DBN arm whose stacks are pretrained first — each stack
    # once (α = 0: one per seed), before the fine-tunings that read it: no two processes pretrain the same stack
    batches = [[u for u in pending if u[0] == "mlp"]] + [[u for u in pending if u[0] == "dbn" and u[3] == s]
                                                         for s in seeds]
    for batch in batches:
        if not batch or (deadline is not None and time.time() >= deadline):
            continue
        stacks = dict.fromkeys((a, n if a else None, s, p if a else "different") for arm, a, p, s, n in batch
                               if arm == "dbn")
        run_units(partial(_stack_unit, cfg, out),
                  [u for u in stacks if not all(x.is_file() for x in dr_stack_paths(u[0], u[1], cfg, u[2], out, u[3]))],
                  **options)
        run_and_save(partial(_finetune_unit, cfg, out), batch, runs, save=save, report=report,
                     order=lambda r: order_of[key(r)], **options)
    results = save()
    shown = _diversifying(runs)
    if shown:
        figures = {"convergence.png": plot_convergence(shown), "error_vs_alpha.png": plot_error_vs_alpha(shown),
                   "grad_norms.png": plot_grad_norms(shown, "ce"), "grad_norms_total.png": plot_grad_norms(shown, "total")}
        if results["paired"]:
            figures["paired_differences.png"] = plot_paired_differences(results["paired"])
        for name, fig in figures.items():
            fig.savefig(out / name, dpi=110)
    if verbose:
        print(format_table(results["summary"]))
        print(format_comparisons(results["paired"]))
    return results
