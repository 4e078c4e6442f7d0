"""Study 2 — pretraining as a good starting point: the same MLP from random init, DBN and SdA pretraining.

``pretrainlab experiment pretraining [--quick | --full]``. For each seed, a DBN (stacked RBMs, CD-1) and a
stacked denoising autoencoder are pretrained once on all training images *without* labels; then, for each
number of labels (a seeded random subset of the training set), three MLPs of the same shape are fine-tuned by
back-propagation with early stopping on the validation set: from random initialisation, from the DBN and from
the SdA. Published anchors (MNIST): Theano tutorials MLP 1.65 %, SdA 3×1000 1.3 %, DBN 3×1000 1.34 %; Hinton's
784-500-500-2000 DBN fine-tuned by back-propagation 1.15 %.

The dropout arms (``random+dropout``, ``dbn+dropout``, ``sda+dropout``; Srivastava et al., JMLR 15, 2014, Table 2:
the same DBN fine-tuned with dropout 0.92 %, without 1.18 %) fine-tune the same three starts with inverted
dropout masks (``cfg["dropout"]``: 0.2 on the input, 0.5 on the hidden units) for the label counts in
``cfg["dropout_labels"]``, longer and with more patience than the plain arms (a dropout net's validation curve
is noisy and still falling when a plain one has stopped), and never stopped before ``cfg["dropout_min_epochs"]``:
a dropout net from small random weights can sit at chance for dozens of epochs before it starts to learn (seed 0,
1 000 labels: 70 epochs at 89 % validation error, 32 % by epoch 200; ``docs/probes/random_dropout_plateau.py``),
and patience alone ends it on that plateau.
With all labels every arm is also *retrained*
(``cfg["retrain"]``, Hinton's protocol): from the same start, on the 50 000 training + 10 000 validation images,
for the number of epochs early stopping chose; the record then holds both test errors.

The published arms (``dbn-hs``, ``dbn-dropout-srivastava``; ``PUBLISHED`` and ``published.py``) fine-tune the DBN
as its authors did, from a stack of their own: RBMs as in Hinton & Salakhutdinov's ``rbm.m`` (CD-1 with mean-field
negative visibles, W ~ 0.1·N(0, 1), zero biases) pretrained on all 60 000 training images (train + validation,
as ``mnistclassify.m`` does; no labels are read). ``dbn-hs``: conjugate gradients on all 60 000 labelled images
for 200 epochs (``test_error_retrain``; there is no validation run in that protocol). ``dbn-dropout-srivastava``:
the published dropout SGD (``PUBLISHED[mode]["dropout_protocol"]``: Hinton et al. 2012's, the source of the 0.92 %
Srivastava et al. tabulate) for a fixed number of updates on all 60 000 images (``test_error_retrain``) —
in the quick and default modes first on the 50 000 training images with the validation curve recorded
(``test_error``, ``valid_curve``; ``PUBLISHED[mode]["dropout_validation"]`` says why --full skips it).
``run(arms=…)`` (the CLI's ``--arms``) runs a subset of the arms.

Everything is saved as it is computed (each pretrained layer, a checkpoint after every fine-tuning epoch,
results.json after each fine-tuning), and a rerun with the same ``--out`` skips what is done and goes on with what
was interrupted: a long ``--full`` run can be stopped and resumed, losing at most a layer's or an epoch's work.
"""
import time
from functools import partial
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ...data import load_mnist
from ...mlp import MLP
from ...plotting import finish_log_axes
from ...pretrain import LayerSettings, error_rate, fine_tune_subset, load_or_pretrain, retrain_epochs, to_mlp
from ...runner.provenance import environment
from .published import DROPOUT_PROTOCOLS, fine_tune_hs, fine_tune_srivastava, hs_mlp, split_protocol, srivastava_mlp
from ...stats import mean_std
from ...runner.sweep import budgeted, run_units
from ...runner.experiments import prepare, run_and_save

ARMS = ("random", "dbn", "sda", "random+dropout", "dbn+dropout", "sda+dropout")
#: the DBN fine-tuned at its authors' protocols (``published.py``), from the ``dbn-hs`` stack
PUBLISHED_ARMS = ("dbn-hs", "dbn-dropout-srivastava")
ALL_ARMS = ARMS + PUBLISHED_ARMS
# a start's colour, in every figure
COLORS = {"random": "tab:gray", "dbn": "tab:blue", "sda": "tab:orange", "dbn-hs": "tab:green"}

SETTINGS = {
    "quick": dict(n_unlabelled=2000, hidden=(100, 100), pretrain_epochs=2, finetune_epochs=6, patience=3,
                  labels=(100, 2000), seeds=(0,), n_valid=1000, n_test=1000, dropout_labels=(2000,),
                  dropout_epochs=6, dropout_patience=3, dropout_min_epochs=4, retrain=True),
    "default": dict(n_unlabelled=50000, hidden=(500, 500), pretrain_epochs=10, finetune_epochs=50, patience=10,
                    labels=(100, 1000, 10000, 50000), seeds=(0,), n_valid=10000, n_test=10000,
                    dropout_labels=(1000, 50000), dropout_epochs=100, dropout_patience=20, dropout_min_epochs=50,
                    retrain=True),
    # Hinton et al. (2006)'s 784-500-500-2000 shape: cheaper than the Theano tutorials' 3×1000 on 2 cores
    "full": dict(n_unlabelled=50000, hidden=(500, 500, 2000), pretrain_epochs=50, finetune_epochs=100,
                 patience=20, labels=(100, 1000, 10000, 50000), seeds=(0, 1, 2), n_valid=10000, n_test=10000,
                 dropout_labels=(1000, 50000), dropout_epochs=200, dropout_patience=40, dropout_min_epochs=100,
                 retrain=True),
}

# The published arms' lengths per mode (kept out of SETTINGS so that a folder of today's arms resumes as before;
# run.json records them when a published arm runs). "full" is the authors' protocol:
# pretrain_epochs 50 (mnistclassify.m: maxepoch=50); hs_epochs 200 (backpropclassify.m: maxepoch=200), hs_batch
# 1000 (10 × makebatches.m's 100), hs_line_searches 3 (max_iter=3), hs_top_epochs 5 (if epoch<6: w_class alone);
# dropout_protocol "hinton2012" (``published.HINTON_2012``, chosen over deepnet's example on the validation images:
# docs/study2.md, docs/probes/dropout_fine_tuning.py) and srivastava_updates 600 000 in "full" (its 1 000 epochs of
# 600 updates; Srivastava et al. 2014 App. B.1 say "about 1 M" for their dropout nets in general), the
# validation and test errors recorded every monitor_every epochs (never used to stop; in "full", every 5 epochs =
# 2 500 updates on 50 000 images: a 10 000-image pass costs ~5 % of an epoch of 500 updates).
# dropout_validation: whether the dropout arm first trains on the 50 000 training images with the validation curve
# recorded (the lab's look at where the curve flattens) before the protocol's own run on all 60 000. In "full" it
# is off: seed 0's validation run (3–4 Dec 2026, epochs 1–1 033 of 1 200, docs/results/
# pretraining-published-dropout-progress.json) showed the curve flat from epoch ≈ 600, when the momentum reaches
# 0.99, so every seed goes straight to the published 600 000 updates on 60 000 images (issue 30: "measure where the
# validation curve flattens on one seed first and justify the length used for the others").
PUBLISHED = {
    "quick": dict(pretrain_epochs=2, hs_epochs=3, hs_batch=1000, hs_line_searches=3, hs_top_epochs=1,
                  dropout_protocol="hinton2012", srivastava_updates=200, monitor_every=1, dropout_validation=True),
    "default": dict(pretrain_epochs=10, hs_epochs=20, hs_batch=1000, hs_line_searches=3, hs_top_epochs=5,
                    dropout_protocol="hinton2012", srivastava_updates=50_000, monitor_every=1,
                    dropout_validation=True),
    "full": dict(pretrain_epochs=50, hs_epochs=200, hs_batch=1000, hs_line_searches=3, hs_top_epochs=5,
                 dropout_protocol="hinton2012", srivastava_updates=600_000, monitor_every=5,
                 dropout_validation=False),
}
# Hinton & Salakhutdinov's rbm.m (as mnistclassify.m calls it for 500, 500 and 2000 units): epsilonw = epsilonvb =
# epsilonhb = 0.1, weightcost 0.0002, momentum 0.5 then 0.9 from epoch 6 (LayerSettings' switch after 5 epochs),
# batches of 100 (makebatches.m), vishid = 0.1*randn, biases 0, negdata = p(v | h) (mean field).
PUBLISHED_LAYERS = dict(kind="rbm", lr=0.1, final_lr=0.1, weight_decay=2e-4, init_scale=0.1, init_visible_bias=False,
                        extra=dict(mean_field_visibles=True))

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
# Dropout fine-tuning (Srivastava et al. 2014 §B.1, MNIST): keep each input pixel with probability 0.8 and each
# hidden unit with 0.5; no max-norm bound here — a pretrained layer's incoming weight vectors are already long
# (a bound would rewrite the very weights pretraining chose). The rate decays more slowly (0.99 per epoch) since
# a dropout net keeps learning for longer.
DROPOUT = dict(dropout_input=0.2, dropout_hidden=0.5)
DROPOUT_FINE_TUNE = dict(FINE_TUNE, lr_decay=0.99)


def arm_start(arm):
    """The starting point of an arm: "random", "dbn", "sda" (``"dbn+dropout"`` → ``"dbn"``) or, for the published
    arms, "dbn-hs" (the stack pretrained as rbm.m does)."""
    return "dbn-hs" if arm in PUBLISHED_ARMS else arm.split("+")[0]


def arm_units(cfg, n_train, seeds, arms=ALL_ARMS):
    """Every (arm, seed, n_labels) unit of a run among ``arms``: the plain arms at every label count, the dropout
    arms at ``cfg["dropout_labels"]``, the published arms with all labels."""
    units = []
    for s in seeds:
        for n in cfg["labels"]:
            n_used = len(labelled_subset(n, n_train, s))
            units += [(arm, s, n_used) for arm in ARMS if arm in arms
                      and (not arm.endswith("+dropout") or n in cfg.get("dropout_labels", ()))]
        units += [(arm, s, n_train) for arm in PUBLISHED_ARMS if arm in arms]
    return units


def check_arms(arms):
    """``arms`` as a tuple in ``ALL_ARMS``' order (None: all), or a ValueError naming the unknown ones."""
    if arms is None:
        return ALL_ARMS
    arms = [arms] if isinstance(arms, str) else list(arms)
    unknown = sorted(set(arms) - set(ALL_ARMS))
    if unknown or not arms:
        raise ValueError(f"arms: unknown arm(s) {unknown or arms!r}; choose among {', '.join(ALL_ARMS)}")
    return tuple(a for a in ALL_ARMS if a in arms)


def labelled_subset(n_labels, n_train, seed):
    """Indices of a seeded random subset of ``n_labels`` training images (all of them if n_labels ≥ n_train)."""
    if n_labels >= n_train:
        return np.arange(n_train)
    return np.sort(np.random.default_rng(10_000 + seed).choice(n_train, n_labels, replace=False))


def pretrained_stack(kind, x, cfg, seed, out, verbose, epochs=None):
    """Pretrain the ``kind`` ("dbn"/"sda", or "dbn-hs": ``PUBLISHED_LAYERS`` for ``epochs`` epochs) stack for
    ``seed``, or reload it from ``out`` if saved before."""
    paths = [out / f"stack-{kind}-seed{seed}-layer{i}.npz" for i in range(1, len(cfg["hidden"]) + 1)]
    if kind == "dbn-hs":
        settings = LayerSettings(epochs=epochs, **PUBLISHED_LAYERS)
    else:
        settings = LayerSettings(epochs=cfg["pretrain_epochs"], **LAYERS[kind])
    return load_or_pretrain(paths, x, cfg["hidden"], settings, np.random.default_rng(seed), verbose=verbose)


def start_mlp(arm, stack, sizes, seed):
    """The arm's MLP before fine-tuning — the same weights for the same seed, so a retraining starts where the
    early-stopped run started — and the generator its fine-tuning goes on with."""
    rng = np.random.default_rng(seed)
    extra = DROPOUT if arm.endswith("+dropout") else {}
    mlp = MLP(sizes, rng=rng, **extra) if arm_start(arm) == "random" else to_mlp(stack, 10, rng=rng, **extra)
    return mlp, rng


def run_one(arm, stack, data, idx, cfg, seed, verbose, checkpoints=None, callbacks=()):
    """Fine-tune one MLP on the labelled subset ``idx`` with early stopping on the validation images; with all
    labels and ``cfg["retrain"]``, retrain it from the same start on training + validation images for the chosen
    number of epochs (``test_error_retrain``). Return its record.

    ``checkpoints``: a folder for the two fine-tunings' per-epoch checkpoints (an interrupted unit goes on from
    its last epoch — a dropout unit with all labels is over an hour); they are deleted once the record exists.
    ``callbacks``: Trainer callbacks of both fine-tunings (a ``TimeBudget`` that stops the unit between epochs).
    ``seconds`` counts this process's part only; ``train_seconds`` sums the epochs' update time (validation
    passes excluded) recorded in the history, which the checkpoints carry: a resumed unit's whole cost.
    """
    sizes = [data.x_train.shape[1], *cfg["hidden"], 10]
    dropout = arm.endswith("+dropout")
    protocol = dict(DROPOUT_FINE_TUNE if dropout else FINE_TUNE, epochs=cfg["dropout_epochs" if dropout else
                    "finetune_epochs"], verbose=verbose)
    paths = {what: None if checkpoints is None else Path(checkpoints) / f"{arm}-seed{seed}-{len(idx)}-{what}.npz"
             for what in ("fine-tune", "retrain")}
    mlp, rng = start_mlp(arm, stack, sizes, seed)
    start = time.perf_counter()
    history = fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid, rng=rng,
                               patience=cfg["dropout_patience" if dropout else "patience"],
                               min_epochs=cfg.get("dropout_min_epochs", 0) if dropout else 0,
                               checkpoint=paths["fine-tune"], callbacks=callbacks, **protocol)
    record = {"arm": arm, "seed": seed, "n_labels": int(len(idx)),
              "test_error": error_rate(mlp, data.x_test, data.y_test), "valid_error": float(min(history["valid_error"])),
              "epochs": len(history), "seconds": time.perf_counter() - start,
              "train_seconds": float(sum(history["time"])), "valid_curve": history["valid_error"]}
    if cfg.get("retrain") and len(idx) == len(data.x_train):
        start, epochs = time.perf_counter(), retrain_epochs(history["valid_error"])
        mlp, rng = start_mlp(arm, stack, sizes, seed)
        x_all = np.concatenate([data.x_train[idx], data.x_valid])
        y_all = np.concatenate([data.y_train[idx], data.y_valid])
        retrained = fine_tune_subset(mlp, x_all, y_all, None, None, rng=rng, checkpoint=paths["retrain"],
                                     callbacks=callbacks, **dict(protocol, epochs=epochs))
        record.update(test_error_retrain=error_rate(mlp, data.x_test, data.y_test), retrain_epochs=epochs,
                      seconds_retrain=time.perf_counter() - start, train_seconds_retrain=float(sum(retrained["time"])))
    for path in paths.values():
        if path is not None:
            path.unlink(missing_ok=True)
    return record


def all_images(data):
    """The 60 000 training images (train + validation) and their labels: the published protocols train on them."""
    return np.concatenate([data.x_train, data.x_valid]), np.concatenate([data.y_train, data.y_valid])


def run_published(arm, stack, data, pub, seed, verbose, checkpoints=None, callbacks=()):
    """One published arm's unit from the ``dbn-hs`` stack; return its record (``checkpoints``, ``callbacks`` as in
    ``run_one``; its checkpoints are deleted once the record exists).

    ``dbn-hs``: ``published.fine_tune_hs`` on all 60 000 images for ``pub["hs_epochs"]`` epochs; the test error
    after each epoch is recorded as backpropclassify.m prints it (``test_curve``), never used to choose anything.
    ``dbn-dropout-srivastava``: ``published.fine_tune_srivastava`` for ``pub["srivastava_updates"]`` updates on the
    training images (``valid_curve``, ``test_error``; only if ``pub["dropout_validation"]``), then from the same
    start on all 60 000 for the same number (``test_curve_retrain``, ``test_error_retrain``). Each fine-tuning
    starts from the same MLP for the same seed (``np.random.default_rng(seed)``).
    """
    x_all, y_all = all_images(data)
    paths = {what: None if checkpoints is None else Path(checkpoints) / f"{arm}-seed{seed}-{what}.npz"
             for what in ("fine-tune", "retrain")}
    test_error = {"test_error": lambda m: error_rate(m, data.x_test, data.y_test)}
    record = {"arm": arm, "seed": seed, "n_labels": int(len(data.x_train))}
    start = time.perf_counter()
    if arm == "dbn-hs":
        rng = np.random.default_rng(seed)
        mlp = hs_mlp(stack, 10, rng)
        history = fine_tune_hs(mlp, x_all, y_all, epochs=pub["hs_epochs"], batch_size=pub["hs_batch"],
                               line_searches=pub["hs_line_searches"], top_epochs=pub["hs_top_epochs"], rng=rng,
                               monitors=test_error, verbose=verbose, callbacks=callbacks, checkpoint=paths["retrain"])
        record.update(test_error_retrain=error_rate(mlp, data.x_test, data.y_test), retrain_epochs=len(history),
                      updates_retrain=len(history) * -(-len(x_all) // pub["hs_batch"]),
                      test_curve_retrain=history["test_error"], loss_curve_retrain=history["loss"],
                      seconds_retrain=time.perf_counter() - start, train_seconds_retrain=float(sum(history["time"])))
    else:
        start_net, kw = split_protocol(DROPOUT_PROTOCOLS[pub["dropout_protocol"]])
        kw["updates"] = pub["srivastava_updates"]
        mlp = srivastava_mlp(stack, 10, np.random.default_rng(seed), **start_net)
        if pub["dropout_validation"]:
            valid_error = {"valid_error": lambda m: error_rate(m, data.x_valid, data.y_valid)}
            history, opt = fine_tune_srivastava(mlp, data.x_train, data.y_train, rng=mlp.rng, monitors=valid_error,
                                                monitor_every=pub["monitor_every"], verbose=verbose,
                                                callbacks=callbacks, checkpoint=paths["fine-tune"], **kw)
            curve = np.asarray(history["valid_error"])
            record.update(test_error=error_rate(mlp, data.x_test, data.y_test), valid_error=float(np.nanmin(curve)),
                          valid_error_last=float(curve[-1]), best_valid_epoch=int(np.nanargmin(curve)) + 1,
                          epochs=len(history), updates=int(opt.updates), valid_curve=history["valid_error"],
                          seconds=time.perf_counter() - start, train_seconds=float(sum(history["time"])))
            start = time.perf_counter()
            mlp = srivastava_mlp(stack, 10, np.random.default_rng(seed), **start_net)
        history, opt = fine_tune_srivastava(mlp, x_all, y_all, rng=mlp.rng, monitors=test_error,
                                            monitor_every=pub["monitor_every"], verbose=verbose, callbacks=callbacks,
                                            checkpoint=paths["retrain"], **kw)
        record.update(test_error_retrain=error_rate(mlp, data.x_test, data.y_test), retrain_epochs=len(history),
                      updates_retrain=int(opt.updates), test_curve_retrain=history["test_error"],
                      seconds_retrain=time.perf_counter() - start, train_seconds_retrain=float(sum(history["time"])))
    for path in paths.values():
        if path is not None:
            path.unlink(missing_ok=True)
    return record


def summarize(runs, key="test_error"):
    """{arm: {n_labels: {"mean", "std", "n"}}} of ``key`` (the early-stopped test error, or
    ``"test_error_retrain"``) over the runs that have it (sample std over seeds, ``stats.mean_std``)."""
    table = {}
    for r in runs:
        if key in r:
            table.setdefault(r["arm"], {}).setdefault(r["n_labels"], []).append(r[key])
    return {arm: {n: dict(zip(("mean", "std"), map(float, mean_std(v))), n=len(v)) for n, v in sorted(by_n.items())}
            for arm, by_n in table.items()}


def _cell(s):
    """One table cell: mean ± sample std over the seeds, the mean alone for one seed (no std yet), or a dash."""
    if s is None:
        return "—"
    if s["n"] < 2:
        return f"{100 * s['mean']:.2f} % (1 seed)"
    return f"{100 * s['mean']:.2f} ± {100 * s['std']:.2f} %"


def format_table(summary):
    labels = sorted({n for by_n in summary.values() for n in by_n})
    arms = [arm for arm in ALL_ARMS if arm in summary]
    width = [max(18, len(arm) + 2) for arm in arms]
    lines = ["labels   " + "".join(f"{arm:>{w}}" for arm, w in zip(arms, width))]
    for n in labels:
        lines.append(f"{n:<9d}" + "".join(f"{_cell(summary[arm].get(n)):>{w}}" for arm, w in zip(arms, width)))
    return "\n".join(lines)


def plot_curves(runs, n_labels):
    """Validation error per epoch of each of today's arms (every seed) for the run with ``n_labels`` labels (the
    published arms' curves are ``plot_published_curves``')."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in runs:
        if r["n_labels"] == n_labels and r["arm"] in ARMS:
            ax.plot(np.arange(1, len(r["valid_curve"]) + 1), 100 * np.array(r["valid_curve"]),
                    color=COLORS[arm_start(r["arm"])], ls="--" if "dropout" in r["arm"] else "-",
                    label=r["arm"] if r["seed"] == min(x["seed"] for x in runs) else None)
    finish_log_axes(ax, xlabel="fine-tuning epoch", ylabel="validation error (%)",
                    title=f"fine-tuning with {n_labels} labels")
    return fig


def plot_published_curves(runs):
    """The published arms' curves: Srivastava's validation error (training images) and the test error of every
    fine-tuning on all 60 000 (recorded, never used to choose), against the updates made; None if none ran."""
    mine = [r for r in runs if r["arm"] in PUBLISHED_ARMS]
    if not mine:
        return None
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for r in mine:
        for key, n_key, what in (("valid_curve", "updates", "validation"),
                                 ("test_curve_retrain", "updates_retrain", "test, trained on train + valid")):
            if key in r:
                curve = np.array(r[key], dtype=float)
                updates = np.linspace(r[n_key] / len(curve), r[n_key], len(curve))
                keep = np.isfinite(curve)
                ax.plot(updates[keep], 100 * curve[keep], ls="-" if what == "validation" else ":",
                        color="tab:green" if r["arm"] == "dbn-hs" else "tab:purple",
                        label=f"{r['arm']} {what}" if r["seed"] == min(x["seed"] for x in mine) else None)
    finish_log_axes(ax, xscale="log", xlabel="updates", ylabel="error (%)",
                    title="the DBN at its authors' fine-tuning protocols")
    return fig


def plot_error_vs_labels(summary):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for arm in ARMS:  # (the published arms have one label count: their numbers are in the tables)
        if arm in summary:
            n = sorted(summary[arm])
            mean = [100 * summary[arm][k]["mean"] for k in n]
            std = [100 * summary[arm][k]["std"] for k in n]
            dropout = arm.endswith("+dropout")
            ax.errorbar(n, mean, yerr=std, marker="s" if dropout else "o", ls="--" if dropout else "-", capsize=3,
                        color=COLORS[arm_start(arm)], label=arm)
    finish_log_axes(ax, xscale="log", xlabel="number of labelled training images", ylabel="test error (%)",
                    title="pretraining vs random initialisation")
    return fig


def save_results(run_, runs, **extra):
    """Write everything known so far to results.json and return it."""
    return run_.write_results({"layers": LAYERS, "published_layers": PUBLISHED_LAYERS,
                               "dropout_protocols": DROPOUT_PROTOCOLS,
                               "fine_tune": FINE_TUNE, "dropout": DROPOUT,
                               "dropout_fine_tune": DROPOUT_FINE_TUNE, "runs": runs, "summary": summarize(runs),
                               "summary_retrain": summarize(runs, "test_error_retrain"), **extra})


def _stack_unit(cfg, pub, out, verbose, unit):
    """A sweep unit: pretrain (or reload) the ``kind`` stack of ``seed``; it is saved in ``out``. ``verbose``:
    per-epoch progress bars (a serial run's; parallel units report only when they finish). The "dbn-hs" stack
    learns from train + validation images (``pub["pretrain_epochs"]`` epochs), the others from the training
    images."""
    kind, seed = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"] if kind == "dbn-hs" else 1, n_test=1)
    x = all_images(data)[0] if kind == "dbn-hs" else data.x_train
    pretrained_stack(kind, x, cfg, seed, out, verbose=verbose, epochs=pub and pub["pretrain_epochs"])
    return kind


def _finetune_unit(cfg, pub, out, verbose, deadline, unit):
    """A sweep unit: fine-tune ``arm`` for ``seed`` on ``n_labels`` labels (the stack is read from ``out``).
    Past ``deadline`` (``time.time()``, or None) it stops after its current epoch and returns a
    ``sweep.Unfinished``; its checkpoints under ``out/units`` let the next invocation go on from there."""
    arm, seed, n_labels = unit
    data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    kind = arm_start(arm)
    if kind == "dbn-hs":
        stack = pretrained_stack(kind, all_images(data)[0], cfg, seed, out, verbose=False, epochs=pub["pretrain_epochs"])
        return budgeted(lambda callbacks: run_published(arm, stack, data, pub, seed, verbose=verbose,
                                                        checkpoints=out / "units", callbacks=callbacks), deadline)
    stack = None if kind == "random" else pretrained_stack(kind, data.x_train, cfg, seed, out, verbose=False)
    subset = labelled_subset(n_labels, len(data.x_train), seed)
    return budgeted(lambda callbacks: run_one(arm, stack, data, subset, cfg, seed, verbose=verbose,
                                              checkpoints=out / "units", callbacks=callbacks), deadline)


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None, deadline=None,
        arms=None, seeds=None):
    """Pretrain the stacks, then fine-tune every (arm, seed, labels) unit not done yet — serially, in ``jobs``
    processes, or on the Dask cluster at ``scheduler`` (``sweep.run_units``); results.json after each unit.
    ``deadline`` (``time.time()``; the CLI's ``--hours``): no unit starts after it, and a running one stops after
    the epoch in which it passes (checkpointed) — the rest waits for a rerun, which goes on from there.
    ``arms`` (the CLI's ``--arms``; default all of ``ALL_ARMS``): run only these arms' units (and their stacks).
    ``seeds`` (``--seeds``): these seeds instead of ``seed`` + the mode's ``cfg["seeds"]``. Neither enters
    run.json (units are keyed by arm and seed, so a folder can be filled arm by arm); the published arms' lengths
    (``PUBLISHED[mode]``) do, once one of them runs, with the environment of each invocation
    (``provenance.environment``)."""
    arms = check_arms(arms)
    published = any(a in PUBLISHED_ARMS for a in arms)
    pub = PUBLISHED[mode] if mode in PUBLISHED and published else None
    run_ = prepare("pretraining", mode, SETTINGS, out, seed, options={"published": pub} if pub else None,
                   environment=environment(threads_per_job=threads_per_job, jobs=jobs))
    cfg, out = run_.cfg, run_.out
    n_train = cfg["n_unlabelled"]
    runs = run_.stored_results().get("runs", [])
    done = {(r["arm"], r["seed"], r["n_labels"]) for r in runs}
    if seeds is None:
        seeds = [seed + s for s in cfg["seeds"]]
    elif isinstance(seeds, (int, str)) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                  for s in seeds) or not len(seeds):
        raise ValueError(f"seeds must be a non-empty list of integers ≥ 0, got {seeds!r}")
    seeds = list(seeds)
    start = time.perf_counter()
    sweep = dict(jobs=jobs, scheduler=scheduler, threads_per_job=threads_per_job, verbose=verbose, deadline=deadline)
    bars = verbose and jobs == 1 and scheduler is None  # progress bars from one process only
    kinds = [k for k in ("dbn", "sda") if any(arm_start(a) == k for a in arms)] + (["dbn-hs"] if published else [])
    run_units(partial(_stack_unit, cfg, pub, out, bars), [(kind, s) for s in seeds for kind in kinds], **sweep)
    units = arm_units(cfg, n_train, seeds, arms)

    def report(unit, record):
        parts = [f"seed {unit[1]}  {unit[2]:>6d} labels  {unit[0]:<14s}"]
        if "test_error" in record:
            parts.append(f"test error {100 * record['test_error']:.2f} %  ({record['epochs']} epochs, "
                         f"{record['train_seconds']:.0f} s)")
        if "test_error_retrain" in record:
            n_all = f"{unit[2] + cfg['n_valid']:,}".replace(",", " ")  # training + validation: 60 000 in --full
            parts.append(f"trained on {n_all} for {record['retrain_epochs']} epochs: "
                         f"{100 * record['test_error_retrain']:.2f} % ({record['train_seconds_retrain']:.0f} s)")
        print("  ".join(parts))

    run_and_save(partial(_finetune_unit, cfg, pub, out, bars, deadline), [u for u in units if u not in done], runs,
                 order=lambda r: (r["seed"], r["n_labels"], ALL_ARMS.index(r["arm"])),
                 save=lambda: save_results(run_, runs), report=report, **sweep)
    left = len([u for u in units if u not in {(r["arm"], r["seed"], r["n_labels"]) for r in runs}])  # of ``arms``
    results = save_results(run_, runs, seconds_this_session=time.perf_counter() - start,
                           status=f"unfinished: {left} units left, rerun to do them" if left else "finished")
    if any("valid_curve" in r and r["arm"] in ARMS for r in runs):
        plot_curves(runs, max(r["n_labels"] for r in runs)).savefig(out / "learning_curves.png", dpi=120)
        plot_error_vs_labels(results["summary"]).savefig(out / "error_vs_labels.png", dpi=120)
    if plot_published_curves(runs) is not None:
        plot_published_curves(runs).savefig(out / "published_curves.png", dpi=120)
    if verbose:
        print("test error (mean ± std over seeds):")
        print(format_table(results["summary"]))
        if results["summary_retrain"]:
            print("retrained on training + validation images for the chosen number of epochs:")
            print(format_table(results["summary_retrain"]))
    return results
