"""Study 2 — pretraining as a good starting point: the same MLP from random init, DBN and SdA pretraining.

``pretrainlab experiment pretraining [--quick | --full]``. For each seed, a DBN (stacked RBMs, CD-1) and a
stacked denoising autoencoder are pretrained once on all training images *without* labels; then, for each
number of labels (a seeded random subset of the training set), three MLPs of the same shape are fine-tuned by
back-propagation with early stopping on the validation set: from random initialisation, from the DBN and from
the SdA. Published anchors (MNIST): Theano tutorials MLP 1.65 %, SdA 3×1000 1.3 %, DBN 3×1000 1.34 %; Hinton's
784-500-500-2000 DBN fine-tuned by back-propagation 1.15 %.

Everything is saved as it is computed (pretrained layers, results.json after each fine-tuning), and a rerun
with the same ``--out`` skips what is done: a long ``--full`` run can be stopped and resumed.
"""
import time
from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..checkpoint import load_model, save_model
from ..data import load_mnist
from ..mlp import MLP
from ..plotting import finish_log_axes
from ..pretrain import LayerSettings, error_rate, fine_tune_subset, greedy_pretrain, to_mlp
from ..stats import mean_std
from ..sweep import run_units
from . import prepare

ARMS = ("random", "dbn", "sda")
COLORS = {"random": "tab:gray", "dbn": "tab:blue", "sda": "tab:orange"}  # the same in both figures

SETTINGS = {
    "quick": dict(n_unlabelled=2000, hidden=(100, 100), pretrain_epochs=2, finetune_epochs=6, patience=3,
                  labels=(100, 2000), seeds=(0,), n_valid=1000, n_test=1000),
    "default": dict(n_unlabelled=50000, hidden=(500, 500), pretrain_epochs=10, finetune_epochs=50, patience=10,
                    labels=(100, 1000, 10000, 50000), seeds=(0,), n_valid=10000, n_test=10000),
    # Hinton et al. (2006)'s 784-500-500-2000 shape: cheaper than the Theano tutorials' 3×1000 on 2 cores
    "full": dict(n_unlabelled=50000, hidden=(500, 500, 2000), pretrain_epochs=50, finetune_epochs=100,
                 patience=20, labels=(100, 1000, 10000, 50000), seeds=(0, 1, 2), n_valid=10000, n_test=10000),
}

# Layer-wise training. RBMs by CD-1 with the settings of Hinton & Salakhutdinov's (2006) MNIST code: ε = 0.1 on
# the batch-mean gradient, momentum 0.5 → 0.9 after 5 epochs *without* cutting ε (so the long-run step grows
# to ε / (1 − 0.9) = 1), weight cost 2e-4, batches of 100. Denoising autoencoders with 25 % masking noise
# (Vincent et al. 2008).
LAYERS = {
    "dbn": dict(kind="rbm", lr=0.1, final_lr=0.1, weight_decay=2e-4),
    "sda": dict(kind="dae", lr=0.1, noise_level=0.25, weight_decay=0.0),
}
# Fine-tuning: lr 0.1 with momentum 0.9 at batch 100 moves about as far per example as the Theano tutorials'
# lr 0.1 without momentum at batch 10 (batches of 10 get lr 0.01); the rate decays by 2 % per epoch.
FINE_TUNE = dict(lr=0.1, momentum=0.9, lr_decay=0.98)


def labelled_subset(n_labels, n_train, seed):
    """Indices of a seeded random subset of ``n_labels`` training images (all of them if n_labels ≥ n_train)."""
    if n_labels >= n_train:
        return np.arange(n_train)
    return np.sort(np.random.default_rng(10_000 + seed).choice(n_train, n_labels, replace=False))


def pretrained_stack(kind, x, cfg, seed, out, verbose):
    """Pretrain the ``kind`` ("dbn"/"sda") stack for ``seed``, or reload it from ``out`` if saved before."""
    paths = [out / f"stack-{kind}-seed{seed}-layer{i}.npz" for i in range(1, len(cfg["hidden"]) + 1)]
    if all(p.is_file() for p in paths):
        return [load_model(p) for p in paths]
    settings = LayerSettings(epochs=cfg["pretrain_epochs"], **LAYERS[kind])
    stack = greedy_pretrain(x, cfg["hidden"], settings, rng=np.random.default_rng(seed), verbose=verbose)
    for layer, path in zip(stack, paths):
        save_model(layer, path)
    return stack


def run_one(arm, stack, data, idx, cfg, seed, verbose):
    """Fine-tune one MLP on the labelled subset ``idx``; return its record."""
    rng = np.random.default_rng(seed)
    sizes = [data.x_train.shape[1], *cfg["hidden"], 10]
    mlp = MLP(sizes, rng=rng) if arm == "random" else to_mlp(stack, 10, rng=rng)
    start = time.perf_counter()
    history = fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid,
                               epochs=cfg["finetune_epochs"], patience=cfg["patience"], rng=rng, verbose=verbose,
                               **FINE_TUNE)
    return {"arm": arm, "seed": seed, "n_labels": int(len(idx)), "test_error": error_rate(mlp, data.x_test, data.y_test),
            "valid_error": float(min(history["valid_error"])), "epochs": len(history),
            "seconds": time.perf_counter() - start, "valid_curve": history["valid_error"]}


def summarize(runs):
    """{arm: {n_labels: {"mean", "std", "n"}}} of the test errors (sample std over seeds, ``stats.mean_std``)."""
    table = {}
    for r in runs:
        table.setdefault(r["arm"], {}).setdefault(r["n_labels"], []).append(r["test_error"])
    return {arm: {n: dict(zip(("mean", "std"), map(float, mean_std(v))), n=len(v)) for n, v in sorted(by_n.items())}
            for arm, by_n in table.items()}


def format_table(summary):
    labels = sorted({n for by_n in summary.values() for n in by_n})
    lines = ["labels   " + "".join(f"{arm:>18}" for arm in ARMS)]
    for n in labels:
        cells = []
        for arm in ARMS:
            s = summary.get(arm, {}).get(n)
            cells.append(f"{100 * s['mean']:>9.2f} ± {100 * s['std']:.2f} %" if s else f"{'—':>18}")
        lines.append(f"{n:<9d}" + "".join(f"{c:>18}" for c in cells))
    return "\n".join(lines)


def plot_curves(runs, n_labels):
    """Validation error per epoch of each arm (every seed) for the run with ``n_labels`` labels."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in runs:
        if r["n_labels"] == n_labels:
            ax.plot(np.arange(1, len(r["valid_curve"]) + 1), 100 * np.array(r["valid_curve"]), color=COLORS[r["arm"]],
                    label=r["arm"] if r["seed"] == min(x["seed"] for x in runs) else None)
    finish_log_axes(ax, xlabel="fine-tuning epoch", ylabel="validation error (%)",
                    title=f"fine-tuning with {n_labels} labels")
    return fig


def plot_error_vs_labels(summary):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for arm in ARMS:
        if arm in summary:
            n = sorted(summary[arm])
            mean = [100 * summary[arm][k]["mean"] for k in n]
            std = [100 * summary[arm][k]["std"] for k in n]
            ax.errorbar(n, mean, yerr=std, marker="o", capsize=3, color=COLORS[arm], label=arm)
    finish_log_axes(ax, xscale="log", xlabel="number of labelled training images", ylabel="test error (%)",
                    title="pretraining vs random initialisation")
    return fig


def save_results(run_, runs, **extra):
    """Write everything known so far to results.json and return it."""
    return run_.write_results({"layers": LAYERS, "fine_tune": FINE_TUNE, "runs": runs, "summary": summarize(runs),
                               **extra})


def _stack_unit(cfg, out, unit):
    """A sweep unit: pretrain (or reload) the ``kind`` stack of ``seed``; it is saved in ``out``."""
    kind, seed = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=1, n_test=1)
    pretrained_stack(kind, data.x_train, cfg, seed, out, verbose=False)
    return kind


def _finetune_unit(cfg, out, unit):
    """A sweep unit: fine-tune ``arm`` for ``seed`` on ``n_labels`` labels (the stack is read from ``out``)."""
    arm, seed, n_labels = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    stack = None if arm == "random" else pretrained_stack(arm, data.x_train, cfg, seed, out, verbose=False)
    return run_one(arm, stack, data, labelled_subset(n_labels, len(data.x_train), seed), cfg, seed, verbose=False)


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None):
    """Pretrain the stacks, then fine-tune every (arm, seed, labels) unit not done yet — serially, in ``jobs``
    processes, or on the Dask cluster at ``scheduler`` (``sweep.run_units``); results.json after each unit."""
    run_ = prepare("pretraining", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    n_train = cfg["n_unlabelled"]
    runs = run_.stored_results().get("runs", [])
    done = {(r["arm"], r["seed"], r["n_labels"]) for r in runs}
    seeds = [seed + s for s in cfg["seeds"]]
    start = time.perf_counter()
    sweep = dict(jobs=jobs, scheduler=scheduler, threads_per_job=threads_per_job, verbose=verbose)
    run_units(partial(_stack_unit, cfg, out), [(kind, s) for s in seeds for kind in ("dbn", "sda")], **sweep)
    units = [(arm, s, len(labelled_subset(n, n_train, s))) for s in seeds for n in cfg["labels"] for arm in ARMS]

    def save(unit, record):
        runs.append(record)
        if verbose:
            print(f"seed {unit[1]}  {unit[2]:>6d} labels  {unit[0]:<6s}  test error "
                  f"{100 * record['test_error']:.2f} %  ({record['epochs']} epochs, {record['seconds']:.0f} s)")
        save_results(run_, sorted(runs, key=lambda r: (r["seed"], r["n_labels"], ARMS.index(r["arm"]))))

    run_units(partial(_finetune_unit, cfg, out), [u for u in units if u not in done], on_result=save, **sweep)
    runs.sort(key=lambda r: (r["seed"], r["n_labels"], ARMS.index(r["arm"])))
    results = save_results(run_, runs, seconds_this_session=time.perf_counter() - start)
    plot_curves(runs, max(r["n_labels"] for r in runs)).savefig(out / "learning_curves.png", dpi=120)
    plot_error_vs_labels(results["summary"]).savefig(out / "error_vs_labels.png", dpi=120)
    if verbose:
        print("test error (mean ± std over seeds):")
        print(format_table(results["summary"]))
    return results
