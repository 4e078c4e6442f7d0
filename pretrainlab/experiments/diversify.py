"""Study 3 — diversifying regularisation (DR): penalise similar hidden codes for inputs of different classes.

After Sulimov, Sukmanova, Chereshnev & Kertész-Farkas, arXiv 1911.02048 (2019; AIST 2019) — **reconstructed**:
the terms are the lab's own (``pretrainlab/diversify.py``), and no number here comes from the paper.
``pretrainlab experiment diversify [--quick | --full]``.

Two questions, each with ``labels`` labelled training images (a seeded subset, study 2's ``labelled_subset``)
and the rest unlabelled:

1. **DR as a prior in greedy pretraining.** A DBN (stacked RBMs, CD-1, study 2's settings) is pretrained on all
   training images with ``BhattacharyyaDR(α)`` on every layer's p(h | v): the labelled rows carry their labels,
   the others −1 (they enter the likelihood, not the penalty); α = 0 is the plain DBN (one stack per seed, shared
   by both label counts). Each stack is then fine-tuned with study 2's protocol (arm ``dbn``).
2. **DR in the discriminative objective.** The same MLP from random initialisation, with and without
   ``InnerProductDR(α)`` on every hidden layer (arm ``mlp``).

Measured per run: validation error per epoch, epochs to reach ``reach[labels]`` validation error, test error, and
during the first ``grad_steps`` updates of fine-tuning (every ``grad_every``) the norm ‖∂L/∂W_l‖_F of each layer on
a fixed batch of labelled images — of the cross-entropy alone (on a penalty-free twin that shares the parameters)
and of the whole objective — the "DR against vanishing gradients" claim.

Network: 784-500-500-10 in ``--full``, not the brief's 784-500-500-2000: the 500→2000 RBM is 60 % of a stack's
time, and the budget (≤ 2.5 h on 2 cores) must hold 21 stacks (3 seeds × (1 + 3 α × 2 label counts)) — with DR
the stacks depend on the labels. α of the RBM term from a probe (RBM 784-200, 5 000 images, 5 epochs, mean
Bhattacharyya coefficient of different-label pairs of held-out codes): 0.804 at α = 0, 0.799 at 10, 0.761 at 100,
0.616–0.630 at 1 000 (mean-field reconstruction error 18.0 → 20.2–20.8: the penalty starts to cost likelihood).

Time of ``--full`` (estimated from a probe, 2 cores shared, 2026-11-30: one epoch over 5 000 images of RBM
784→500 with DR 0.58 s, 500→500 0.26 s, MLP 784-500-500-10 0.38 s (×1.35 with DR, measured on 784-500-500-2000)):
21 stacks × 10 epochs × ≈ 8.4 s ≈ 30 min; 18 fine-tunings (3 seeds × 6 arms) on 50 000 labels × ≤ 30 epochs ×
≈ 4.3–5.8 s ≤ 45 min; 18 on 1 000 labels ≈ 6 min: **≈ 1.4 h** (not yet run). Resumable: stacks as .npz, results.json after each run.
The stacks, then the fine-tunings (arm, α, seed, labels) are independent units: ``--jobs N`` runs them in N
processes, ``--scheduler ADDRESS`` on a Dask cluster (``sweep.run_units``), with the same results as a serial run.
"""
import time
from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..data import load_mnist
from ..diversify import BhattacharyyaDR, InnerProductDR
from ..mlp import MLP
from ..plotting import figure_grid, finish_log_axes
from ..pretrain import LayerSettings, error_rate, fine_tune_subset, load_or_pretrain, to_mlp
from ..stats import epochs_to_reach, mean_std
from ..sweep import run_units
from . import prepare, run_and_save
from .pretraining import FINE_TUNE, LAYERS, labelled_subset

SETTINGS = {
    "quick": dict(n_unlabelled=1500, hidden=(100, 100), pretrain_epochs=2, finetune_epochs=5, patience=5,
                  labels=(200, 1500), reach={200: 0.5, 1500: 0.3}, seeds=(0,), alphas_rbm=(0, 300),
                  alphas_mlp=(0, 1.0), n_valid=500, n_test=500, grad_steps=40, grad_every=5),
    "default": dict(n_unlabelled=20000, hidden=(500, 500), pretrain_epochs=5, finetune_epochs=30, patience=8,
                    labels=(1000, 20000), reach={1000: 0.15, 20000: 0.04}, seeds=(0,), alphas_rbm=(0, 100, 1000),
                    alphas_mlp=(0, 1.0), n_valid=10000, n_test=10000, grad_steps=200, grad_every=10),
    "full": dict(n_unlabelled=50000, hidden=(500, 500), pretrain_epochs=10, finetune_epochs=30, patience=8,
                 labels=(1000, 50000), reach={1000: 0.15, 50000: 0.03}, seeds=(0, 1, 2),
                 alphas_rbm=(0, 10, 100, 1000), alphas_mlp=(0, 1.0), n_valid=10000, n_test=10000,
                 grad_steps=500, grad_every=10),
}
COLORS = ("tab:gray", "tab:blue", "tab:orange", "tab:red", "tab:purple")


def partial_labels(y, idx):
    """Labels for the rows ``idx``, −1 (unlabelled) elsewhere: what a DR prior in pretraining may see."""
    out = np.full(len(y), -1, dtype=np.int64)
    out[idx] = y[idx]
    return out


def dr_stack_paths(alpha, n_labels, cfg, seed, out):
    """Where ``dr_stack`` saves its layers: α = 0 has one stack per seed, every α > 0 one per label count."""
    tag = "a0" if alpha == 0 else f"a{alpha:g}-l{n_labels}"
    return [out / f"stack-dbn-{tag}-seed{seed}-layer{i}.npz" for i in range(1, len(cfg["hidden"]) + 1)]


def dr_stack(alpha, n_labels, data, cfg, seed, out):
    """The DBN pretrained with ``BhattacharyyaDR(alpha)`` using the labels of ``n_labels`` rows (α = 0: no labels,
    the plain DBN), reloaded from ``out`` if saved before."""
    extra = dict(penalties=[BhattacharyyaDR(alpha)]) if alpha else {}
    y = partial_labels(data.y_train, labelled_subset(n_labels, len(data.x_train), seed)) if alpha else None
    settings = LayerSettings(epochs=cfg["pretrain_epochs"], extra=extra, **LAYERS["dbn"])
    return load_or_pretrain(dr_stack_paths(alpha, n_labels, cfg, seed, out), data.x_train, cfg["hidden"], settings,
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


def fine_tune_one(arm, alpha, layers, data, idx, cfg, seed):
    """Fine-tune one MLP (``arm`` "dbn": from ``layers``; "mlp": random init with ``InnerProductDR(alpha)``) on
    the labelled rows ``idx`` with study 2's protocol; return its record."""
    rng = np.random.default_rng(seed)
    if arm == "dbn":
        mlp = to_mlp(layers, 10, rng=rng)
    else:
        mlp = MLP([data.x_train.shape[1], *cfg["hidden"], 10], rng=rng,
                  penalties=[InnerProductDR(alpha)] if alpha else ())
    probe = GradientProbe(mlp, data.x_train[idx[:100]], data.y_train[idx[:100]], cfg["grad_steps"], cfg["grad_every"])
    start = time.perf_counter()
    history = fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid,
                               epochs=cfg["finetune_epochs"], patience=cfg["patience"], rng=rng, after_step=[probe],
                               **FINE_TUNE)
    curve = history["valid_error"]
    return {"arm": arm, "alpha": alpha, "seed": seed, "n_labels": int(len(idx)),
            "test_error": error_rate(mlp, data.x_test, data.y_test), "valid_curve": curve, "epochs": len(history),
            "epochs_to_reach": epochs_to_reach(curve, cfg["reach"][len(idx)] if len(idx) in cfg["reach"]
                                               else cfg["reach"][max(cfg["reach"])]),
            "grad_norms": probe.record, "seconds": time.perf_counter() - start}


def summarize(runs):
    """{n_labels: {"arm α": {"test_error": mean/std/n, "epochs_to_reach": mean over the runs that reached it}}}."""
    groups = {}
    for r in runs:
        groups.setdefault(str(r["n_labels"]), {}).setdefault(f"{r['arm']} α={r['alpha']:g}", []).append(r)
    return {n: {k: {"test_error": dict(zip(("mean", "std"), map(float, mean_std([r["test_error"] for r in rs]))),
                                       n=len(rs)),
                    "epochs_to_reach": {"mean": (float(np.mean(e)) if (e := [r["epochs_to_reach"] for r in rs
                                                                             if r["epochs_to_reach"]]) else None),
                                        "reached": len(e)}}
                for k, rs in sorted(by.items())} for n, by in groups.items()}


def format_table(summary_):
    lines = [f"{'labels':>7}  {'arm':<16} {'test error':>17} {'epochs to reach':>16}"]
    for n, by in summary_.items():
        for k, c in by.items():
            te, reach = c["test_error"], c["epochs_to_reach"]
            when = "—" if reach["mean"] is None else f"{reach['mean']:.1f}"
            lines.append(f"{n:>7}  {k:<16} {100 * te['mean']:>8.2f} ± {100 * te['std']:.2f} % "
                         f"{when:>12} ({reach['reached']}/{te['n']})")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- figures
def _alphas(runs, arm):
    return sorted({r["alpha"] for r in runs if r["arm"] == arm})


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


# -------------------------------------------------------------------------------------------- the run
def _stack_unit(cfg, out, unit):
    """A sweep unit ``(alpha, n_labels, seed)``: pretrain that ``dr_stack`` and save it in ``out``."""
    alpha, n_labels, seed = unit
    dr_stack(alpha, n_labels, load_mnist(n_train=cfg["n_unlabelled"], n_valid=1, n_test=1), cfg, seed, out)
    return alpha


def _finetune_unit(cfg, out, unit):
    """A sweep unit ``(arm, alpha, seed, n_labels)`` (``n_labels`` as configured): fine-tune that arm; a DBN's
    stack is read from ``out``."""
    arm, alpha, seed, n_labels = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    layers = dr_stack(alpha, n_labels, data, cfg, seed, out) if arm == "dbn" else None
    return fine_tune_one(arm, alpha, layers, data, labelled_subset(n_labels, len(data.x_train), seed), cfg, seed)


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None):
    """Pretrain every DR stack, then fine-tune every (arm, α, seed, labels) unit not done yet — serially, in
    ``jobs`` processes or on the Dask cluster at ``scheduler`` (``sweep.run_units``); results.json after each."""
    run_ = prepare("diversify", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    run_.say_quick("tiny nets, 2 epochs of pretraining and 5 of fine-tuning on 1 500 images", verbose)
    n_train = cfg["n_unlabelled"]
    runs = run_.stored_results().get("runs", [])
    done = {(r["arm"], r["alpha"], r["seed"], r["n_labels"]) for r in runs}
    seeds = [seed + k for k in cfg["seeds"]]
    options = dict(jobs=jobs, scheduler=scheduler, threads_per_job=threads_per_job, verbose=verbose)

    def save():
        return run_.write_results({"layers": LAYERS, "fine_tune": FINE_TUNE, "summary": summarize(runs),
                                   "runs": runs})

    # the units in the serial loop's order; the done key holds the labelled count (n_labels ≥ n_train: n_train)
    arms = [("dbn", a) for a in cfg["alphas_rbm"]] + [("mlp", a) for a in cfg["alphas_mlp"]]
    units = [(arm, a, s, n) for s in seeds for n in cfg["labels"] for arm, a in arms
             if (arm, a, s, len(labelled_subset(n, n_train, s))) not in done]
    # every stack the pending units need, each once (α = 0: one per seed), before any fine-tuning: no two
    # processes ever pretrain the same stack
    stacks = dict.fromkeys((a, n if a else None, s) for arm, a, s, n in units if arm == "dbn")
    run_units(partial(_stack_unit, cfg, out),
              [u for u in stacks if not all(p.is_file() for p in dr_stack_paths(*u[:2], cfg, u[2], out))], **options)

    def report(unit, r):
        arm, alpha, s, n_labels = unit
        print(f"seed {s} {n_labels:>6d} labels {arm} α={alpha:<6g} test error {100 * r['test_error']:.2f} %"
              f"  reached target at epoch {r['epochs_to_reach']}  ({r['epochs']} epochs, {r['seconds']:.0f} s)")

    run_and_save(partial(_finetune_unit, cfg, out), units, runs, save=save, report=report,
                 order=lambda r: (r["seed"], r["n_labels"], arms.index((r["arm"], r["alpha"]))), **options)
    results = save()
    figures = {"convergence.png": plot_convergence(runs), "error_vs_alpha.png": plot_error_vs_alpha(runs),
               "grad_norms.png": plot_grad_norms(runs, "ce"), "grad_norms_total.png": plot_grad_norms(runs, "total")}
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110)
    if verbose:
        print(format_table(results["summary"]))
    return results
