"""Study 1 — does unsupervised pretraining make hidden codes (moderately) sparse, and does sparseness go with
faster training and lower error?

After Li, Luo, Yang & Yuan, "Why does the unsupervised pretraining encourage moderate-sparseness?" (arXiv
1312.5813, 2013/2014) and Li et al., "Sparseness Analysis in the Pretraining of Deep Neural Networks" (IEEE TNNLS
28(6):1425–1438, 2017). ``pretrainlab experiment sparseness [--quick | --full]``.

For each seed the same network is fine-tuned from four starts — ``sigmoid-random``, ``sigmoid-dbn`` (stacked
RBMs, CD-1), ``sigmoid-sda`` (stacked denoising autoencoders) and ``relu-random`` — with a small and a large
number of labels (study 2's protocol and helpers: ``labelled_subset``, its layer and fine-tuning settings).
Every measure of ``sparseness.summary`` is recorded for every hidden layer on held-out test images (never used
for any decision) at the start of fine-tuning (random initialisation, or right after pretraining), every
``probe_every`` epochs during fine-tuning (the parameters as trained, before early stopping restores the best
epoch) and after fine-tuning (the restored best parameters). The *moderate* question: RBM stacks pretrained with a
KL sparsity target ρ ∈ ``rhos`` (Hinton 2010 §11; ``ContrastiveDivergence(sparsity_target=ρ, ...)``) and DAE
stacks with the same KL targets on their codes, each fine-tuned; test error against the sparseness measured
after pretraining. Last, sparseness against training speed (epochs to reach ``reach[n_labels]`` validation error)
and test error across arms and seeds: Spearman's rank correlation (``spearman``) with a bootstrap spread.

Network: 784-500-500-10 in ``--full``, not Hinton et al.'s 784-500-500-2000-10: the 500→2000 RBM alone is 60 % of a
DBN's pretraining time (measured below) and the budget (≤ 2.5 h on 2 cores) must hold 5 seeds × 4 arms × 2 label
counts plus 20 extra stacks for the ρ sweep; two hidden layers still show whether sparseness differs by depth.

Time of ``--full`` (estimated from a probe, 2 cores shared with other runs, 2026-11-30: one epoch over 5 000 images
of RBM 784→500 0.58 s, 500→500 0.26 s, 500→2000 0.98 s, DAE 784→500 0.40 s, MLP 784-500-500-10 0.38 s, so at
50 000 images ≈ 8.4 s per DBN-stack epoch, ≈ 6 s per SdA-stack epoch, ≈ 4.3 s per fine-tuning epoch with
validation): 10 main stacks × 15 epochs ≈ 18 min; 20 fine-tunings on 50 000 labels × ≤ 30 epochs ≤ 43 min; 20 on
1 000 labels ≈ 7 min; 20 sweep stacks ≈ 37 min and their 24 fine-tunings ≈ 8 min: **≈ 1.9 h** (not yet run).

Everything is saved as it is computed (stacks as .npz, results.json after each fine-tuning); a rerun with the
same ``--out`` skips what is done. The stacks, then the fine-tunings (main, then the ρ sweep's) are independent
units: ``--jobs N`` runs them in N processes, ``--scheduler ADDRESS`` on a Dask cluster (``sweep.run_units``),
with the same results as a serial run.
"""
import time
from functools import partial

import numpy as np

from ...data import load_mnist
from ...mlp import MLP
from ...pretrain import LayerSettings, error_rate, fine_tune_subset, load_or_pretrain, to_mlp
from .measures import summary
from ...runner.sweep import run_units
from ...stats import bootstrap_spearman, epochs_to_reach, mean_std
from ...runner.experiments import prepare, run_and_save
from ..pretraining.experiment import FINE_TUNE, LAYERS, labelled_subset
from .plots import plot_bars, plot_correlations, plot_histograms, plot_sweep, plot_vs_epoch

ARMS = ("sigmoid-random", "sigmoid-dbn", "sigmoid-sda", "relu-random")
MEASURES = ("population_hoyer", "lifetime_hoyer", "population_gini", "lifetime_gini", "mean_activation",
            "fraction_below", "fraction_zero")
SETTINGS = {
    "quick": dict(n_unlabelled=1500, hidden=(100, 100), pretrain_epochs=2, finetune_epochs=4, patience=4,
                  labels=(200, 1500), reach={200: 0.6, 1500: 0.4}, seeds=(0, 1), n_valid=500, n_test=500,
                  n_probe=300, probe_every=2, rhos=(None, 0.1, 0.02), sweep_seeds=(0,), sweep_labels=200,
                  sparsity_weight={"dbn": 0.1, "sda": 1.0}, n_boot=200),
    "default": dict(n_unlabelled=20000, hidden=(500, 500), pretrain_epochs=10, finetune_epochs=30, patience=8,
                    labels=(1000, 20000), reach={1000: 0.15, 20000: 0.04}, seeds=(0, 1), n_valid=10000,
                    n_test=10000, n_probe=2000, probe_every=2, rhos=(None, 0.1, 0.02), sweep_seeds=(0,),
                    sweep_labels=1000, sparsity_weight={"dbn": 0.1, "sda": 1.0}, n_boot=1000),
    "full": dict(n_unlabelled=50000, hidden=(500, 500), pretrain_epochs=15, finetune_epochs=30, patience=8,
                 labels=(1000, 50000), reach={1000: 0.15, 50000: 0.03}, seeds=(0, 1, 2, 3, 4), n_valid=10000,
                 n_test=10000, n_probe=2000, probe_every=2, rhos=(None, 0.2, 0.1, 0.05, 0.02, 0.01),
                 sweep_seeds=(0, 1), sweep_labels=1000, sparsity_weight={"dbn": 0.1, "sda": 1.0}, n_boot=1000),
}
# The KL weight per stack kind, from a probe (784-200-200, 5 000 images, 4 epochs): on RBMs a weight of 1 drove
# the second layer to every unit firing at ≈ ρ for every image (population Hoyer 0.00 for ρ = 0.05: a low but
# *dense* code), 0.1 lowered the rates gradually; on DAEs a weight of 1 lowered the rates and raised Hoyer.


# -------------------------------------------------------------------------------------------- statistics
def layer_summaries(mlp, x):
    """``sparseness.summary`` of each hidden layer of ``mlp`` on images x: a list, layer 1 first."""
    return [summary(h) for h in mlp.hidden_activations(x)]


def layer_histograms(mlp, x, bins=40):
    """Per hidden layer: counts of its activations in ``bins`` equal bins on [0, max h] (sigmoid: [0, 1])."""
    out = []
    for h in mlp.hidden_activations(x):
        top = 1.0 if mlp.activation == "sigmoid" else max(float(h.max()), 1e-6)
        counts, edges = np.histogram(h, bins=bins, range=(0.0, top))
        out.append({"edges": edges.tolist(), "counts": counts.tolist()})
    return out


def stack_paths(tag, cfg, seed, out):
    """Where the stack ``tag`` of ``seed`` is saved: ``out/stack-TAG-seedS-layerL.npz``, one file a layer."""
    return [out / f"stack-{tag}-seed{seed}-layer{i}.npz" for i in range(1, len(cfg["hidden"]) + 1)]


def stack_tag(kind, rho):
    """The file tag of a ``kind`` stack pretrained with KL target ``rho`` (None: the plain stack, ``kind``)."""
    return kind if rho is None else f"{kind}-rho{rho:g}"


def stack(kind, extra, tag, x, cfg, seed, out):
    """The ``kind`` stack ("dbn"/"sda") with ``LayerSettings.extra`` = ``extra`` for ``seed``: reloaded from
    ``out/stack-TAG-seedS-layerL.npz`` if saved, else pretrained and saved."""
    settings = LayerSettings(epochs=cfg["pretrain_epochs"], extra=extra, **LAYERS[kind])
    return load_or_pretrain(stack_paths(tag, cfg, seed, out), x, cfg["hidden"], settings, np.random.default_rng(seed))


def sparsity_extra(kind, rho, weight):
    """``LayerSettings.extra`` for a KL sparsity target ρ (None: no penalty) on an RBM or a DAE."""
    if rho is None:
        return {}
    extra = dict(sparsity_target=rho, sparsity_weight=weight)
    return extra if kind == "dbn" else dict(extra, sparsity="kl")


def fine_tune_one(arm, layers, data, idx, cfg, seed, histograms=False):
    """Fine-tune one MLP (``arm``: "sigmoid-random", "relu-random" or pretrained from ``layers``) on the
    labelled rows ``idx``, measuring sparseness at the start, every ``probe_every`` epochs and at the end."""
    rng = np.random.default_rng(seed)
    sizes = [data.x_train.shape[1], *cfg["hidden"], 10]
    if layers is None:
        mlp = MLP(sizes, rng=rng, activation=arm.split("-")[0], init="uniform" if arm.startswith("sig") else "he")
    else:
        mlp = to_mlp(layers, 10, rng=rng)
    probe = data.x_test[: cfg["n_probe"]]
    record = {"arm": arm, "seed": seed, "n_labels": int(len(idx)), "start": layer_summaries(mlp, probe),
              "during": [{"epoch": 0, "layers": None}]}
    record["during"][0]["layers"] = record["start"]
    if histograms:
        record["histograms"] = {"start": layer_histograms(mlp, probe)}

    def monitor(trainer, epoch):
        if epoch % cfg["probe_every"] == 0:
            record["during"].append({"epoch": epoch, "layers": layer_summaries(trainer.model, probe)})

    start = time.perf_counter()
    history = fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid,
                               epochs=cfg["finetune_epochs"], patience=cfg["patience"], rng=rng, callbacks=[monitor],
                               **FINE_TUNE)
    curve = history["valid_error"]
    record.update(end=layer_summaries(mlp, probe), test_error=error_rate(mlp, data.x_test, data.y_test),
                  valid_curve=curve, epochs=len(history), seconds=time.perf_counter() - start,
                  epochs_to_reach=epochs_to_reach(curve, cfg["reach"][len(idx)] if len(idx) in cfg["reach"]
                                                  else cfg["reach"][max(cfg["reach"])]))
    if histograms:
        record["histograms"]["end"] = layer_histograms(mlp, probe)
    return record


# -------------------------------------------------------------------------------------------- tables
def layer_mean(summaries, measure):
    return float(np.mean([s[measure] for s in summaries]))


def correlations(runs, seed, n_boot=1000):
    """Spearman ρ_s (bootstrap spread) of each measure (mean over layers, at the start and end of fine-tuning)
    against epochs-to-reach (runs that reached it) and test error, per label count, pooled over arms and seeds."""
    rng = np.random.default_rng(20_000 + seed)
    table = {}
    for n in sorted({r["n_labels"] for r in runs}):
        rows = [r for r in runs if r["n_labels"] == n]
        for stage in ("start", "end"):
            for measure in MEASURES:
                s = np.array([layer_mean(r[stage], measure) for r in rows])
                for target in ("test_error", "epochs_to_reach"):
                    t = np.array([np.nan if r[target] is None else r[target] for r in rows], dtype=float)
                    ok = np.isfinite(t)
                    if ok.sum() >= 3 and np.ptp(s[ok]) > 0 and np.ptp(t[ok]) > 0:
                        entry = bootstrap_spearman(s[ok], t[ok], rng, n_boot)
                    else:
                        entry = {"rho": None, "n": int(ok.sum())}
                    table.setdefault(str(n), {}).setdefault(stage, {}).setdefault(measure, {})[target] = entry
    return table


def summarize(runs):
    """{n_labels: {arm: {"test_error", "epochs_to_reach", measure@stage per layer: mean/std over seeds}}}."""
    table = {}
    for r in runs:
        table.setdefault(str(r["n_labels"]), {}).setdefault(r["arm"], []).append(r)
    out = {}
    for n, by_arm in table.items():
        for arm, rs in by_arm.items():
            e = [r["test_error"] for r in rs]
            reach = [r["epochs_to_reach"] for r in rs if r["epochs_to_reach"] is not None]
            cell = {"test_error": dict(zip(("mean", "std"), map(float, mean_std(e))), n=len(e)),
                    "epochs_to_reach": {"mean": float(np.mean(reach)) if reach else None, "reached": len(reach)}}
            for stage in ("start", "end"):
                for m in MEASURES:
                    v = np.array([[s[m] for s in r[stage]] for r in rs])
                    mean, std = mean_std(v, axis=0)
                    cell[f"{m}@{stage}"] = {"mean": mean.tolist(), "std": std.tolist()}
            out.setdefault(n, {})[arm] = cell
    return out


def format_table(summary_):
    lines = [f"{'labels':>7} {'arm':<15} {'test error':>16} {'reach ep':>9}   population Hoyer per layer "
             "(start → end)   mean activation (start → end)"]
    for n, by_arm in summary_.items():
        for arm in ARMS:
            c = by_arm.get(arm)
            if c is None:
                continue
            te, reach = c["test_error"], c["epochs_to_reach"]["mean"]
            hoyer = " ".join(f"{a:.2f}→{b:.2f}" for a, b in zip(c["population_hoyer@start"]["mean"],
                                                                  c["population_hoyer@end"]["mean"]))
            act = " ".join(f"{a:.2f}→{b:.2f}" for a, b in zip(c["mean_activation@start"]["mean"],
                                                                c["mean_activation@end"]["mean"]))
            lines.append(f"{n:>7} {arm:<15} {100 * te['mean']:>7.2f} ± {100 * te['std']:.2f} % "
                         f"{'—' if reach is None else f'{reach:.1f}':>9}   {hoyer:<30} {act}")
    return "\n".join(lines)


def markdown_table(summary_, n_labels, measures=MEASURES, digits=3):
    """The README's table for one label count: a row per (measure, layer), a column per arm and stage
    (start of fine-tuning = initialisation or right after pretraining, end = after fine-tuning), each cell
    mean ± sample std over the seeds; the test error as the last row."""
    by_arm = summary_[str(n_labels)]
    arms = [a for a in ARMS if a in by_arm]
    head = "| measure | layer | " + " | ".join(f"{a} {st}" for a in arms for st in ("start", "end")) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(arms))]
    n_layers = len(by_arm[arms[0]][f"{measures[0]}@start"]["mean"])
    for m in measures:
        for l in range(n_layers):
            cells = []
            for a in arms:
                for st in ("start", "end"):
                    c = by_arm[a][f"{m}@{st}"]
                    cells.append(f"{c['mean'][l]:.{digits}f} ± {c['std'][l]:.{digits}f}")
            lines.append(f"| {m.replace('_', ' ')} | {l + 1} | " + " | ".join(cells) + " |")
    errors = [f"{100 * by_arm[a]['test_error']['mean']:.2f} ± {100 * by_arm[a]['test_error']['std']:.2f} %"
              for a in arms]
    lines.append("| test error | — | " + " | ".join(f"— | {e}" for e in errors) + " |")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- the run
def _load(cfg):
    return load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])


def _sweep_stack(kind, rho, data, cfg, seed, out):
    """The ``kind`` stack of ``seed`` with KL target ``rho`` (None: the main arm's plain stack)."""
    extra = sparsity_extra(kind, rho, cfg["sparsity_weight"][kind])
    return stack(kind, extra, stack_tag(kind, rho), data.x_train, cfg, seed, out)


def _stack_unit(cfg, out, unit):
    """A sweep unit ``(kind, rho, seed)``: pretrain that stack and save it in ``out``."""
    kind, rho, seed = unit
    _sweep_stack(kind, rho, load_mnist(n_train=cfg["n_unlabelled"], n_valid=1, n_test=1), cfg, seed, out)
    return stack_tag(kind, rho)


def _finetune_unit(cfg, out, first_seed, unit):
    """A sweep unit ``(arm, seed, n_labels)``: fine-tune ``arm`` (its stack is read from ``out``); activation
    histograms for the first seed only, as the serial loop records them."""
    arm, seed, n_labels = unit
    data = _load(cfg)
    kind = arm.split("-")[1]
    layers = None if kind == "random" else _sweep_stack(kind, None, data, cfg, seed, out)
    idx = labelled_subset(n_labels, len(data.x_train), seed)
    return fine_tune_one(arm, layers, data, idx, cfg, seed, histograms=seed == first_seed)


def _sweep_unit(cfg, out, unit):
    """A sweep unit ``(kind, rho, seed)`` of the ρ sweep: fine-tune the stack with KL target ``rho`` on
    ``cfg["sweep_labels"]`` labels; the record without its probes during fine-tuning."""
    kind, rho, seed = unit
    data = _load(cfg)
    idx = labelled_subset(cfg["sweep_labels"], len(data.x_train), seed)
    r = fine_tune_one(f"sigmoid-{kind}", _sweep_stack(kind, rho, data, cfg, seed, out), data, idx, cfg, seed)
    r.pop("during")
    r.update(kind=kind, rho=rho)
    return r


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None):
    """Pretrain every stack, fine-tune every (arm, seed, labels) unit and every (kind, ρ, seed) unit of the ρ
    sweep not done yet — serially, in ``jobs`` processes or on the Dask cluster at ``scheduler``
    (``sweep.run_units``); results.json after each unit, the correlations and figures at the end."""
    run_ = prepare("sparseness", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    run_.say_quick("tiny nets, 2 epochs of pretraining and 4 of fine-tuning on 1 500 images", verbose)
    n_train = cfg["n_unlabelled"]
    stored = run_.stored_results()
    runs, sweep = stored.get("runs", []), stored.get("sweep", [])
    done = {(r["arm"], r["seed"], r["n_labels"]) for r in runs}
    done_sweep = {(r["kind"], r["rho"], r["seed"]) for r in sweep}
    seeds = [seed + s for s in cfg["seeds"]]
    sweep_seeds = [seed + s for s in cfg["sweep_seeds"]]
    options = dict(jobs=jobs, scheduler=scheduler, threads_per_job=threads_per_job, verbose=verbose)

    def save(**extra):  # after every unit; the (bootstrapped) correlations only at the end
        return run_.write_results({"layers": LAYERS, "fine_tune": FINE_TUNE, "summary": summarize(runs),
                                   **extra, "runs": runs, "sweep": sweep})

    # every stack first, each once (a sweep seed's plain stack is its main stack), so that no two processes
    # ever pretrain the same one; the saved ones are not even reloaded
    stacks = [(kind, None, s) for s in seeds for kind in ("dbn", "sda")]
    stacks += [(kind, rho, s) for s in sweep_seeds for kind in ("dbn", "sda") for rho in cfg["rhos"]]
    stacks = [u for u in dict.fromkeys(stacks)
              if not all(p.is_file() for p in stack_paths(stack_tag(u[0], u[1]), cfg, u[2], out))]
    run_units(partial(_stack_unit, cfg, out), stacks, **options)

    # labelled counts as the records hold them (n_labels ≥ n_train: all n_train rows)
    units = [(arm, s, len(labelled_subset(n, n_train, s))) for s in seeds for n in cfg["labels"] for arm in ARMS]

    def report(unit, r):
        print(f"seed {unit[1]} {unit[2]:>6d} labels {unit[0]:<15} test error {100 * r['test_error']:.2f} %  "
              f"population Hoyer {layer_mean(r['start'], 'population_hoyer'):.3f} → "
              f"{layer_mean(r['end'], 'population_hoyer'):.3f}  ({r['epochs']} epochs, {r['seconds']:.0f} s)")

    run_and_save(partial(_finetune_unit, cfg, out, seeds[0]), [u for u in units if u not in done], runs,
                 order=lambda r: (r["seed"], r["n_labels"], ARMS.index(r["arm"])), save=save, report=report,
                 **options)

    def report_sweep(unit, r):
        print(f"sweep seed {r['seed']} {r['kind']} ρ={r['rho']} test error {100 * r['test_error']:.2f} %  population "
              f"Hoyer after pretraining {layer_mean(r['start'], 'population_hoyer'):.3f}, mean activation "
              f"{layer_mean(r['start'], 'mean_activation'):.3f}")

    def sweep_order(r):
        return r["seed"], ("dbn", "sda").index(r["kind"]), cfg["rhos"].index(r["rho"])

    pending, reused = [], []
    for s in sweep_seeds:
        n_used = len(labelled_subset(cfg["sweep_labels"], n_train, s))
        for kind in ("dbn", "sda"):
            for rho in cfg["rhos"]:
                if (kind, rho, s) in done_sweep:
                    continue
                same = [m for m in runs if (m["arm"], m["seed"], m["n_labels"]) == (f"sigmoid-{kind}", s, n_used)]
                if rho is None and same:  # the unpenalised stack is the main arm's: reuse its fine-tuning
                    r = {k: v for k, v in same[0].items() if k not in ("during", "histograms")}
                    reused.append(dict(r, kind=kind, rho=rho))
                else:
                    pending.append((kind, rho, s))
    for r in reused:
        if verbose:
            report_sweep((r["kind"], r["rho"], r["seed"]), r)
    if reused:  # saved with the sweep's records in order, as a finished unit would be
        sweep.extend(reused)
        sweep.sort(key=sweep_order)
        save()
    run_and_save(partial(_sweep_unit, cfg, out), pending, sweep, order=sweep_order, save=save,
                 report=report_sweep, **options)
    results = save(correlations=correlations(runs, seed, cfg["n_boot"]))
    figures = {"sparseness_bars.png": plot_bars(runs, "population_hoyer"),
               "mean_activation_bars.png": plot_bars(runs, "mean_activation"),
               "sparseness_vs_epoch.png": plot_vs_epoch(runs, "population_hoyer"),
               "error_vs_sparseness.png": plot_sweep(sweep),
               "activation_histograms.png": plot_histograms(runs),
               "speed_vs_sparseness.png": plot_correlations(runs)}
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110)
    if verbose:
        print(format_table(results["summary"]))
    return results
