"""Study 5 — the discriminative recurrent sparse auto-encoder (DrSAE; Rolfe & LeCun, ICLR 2013, arXiv 1301.3775).

``pretrainlab experiment drsae [--quick | --full]``. Three models, as in the paper's Table 1: 784-400¹¹-10
(1.08 % test error in the paper), 784-200¹¹-10 (1.21 %) and 784-200²-10 (1.49 %: the depth effect). Each is
initialised as the author's code does (``DrSAE.init_ista``: a dictionary of noisy training images, then
E = αDᵀ, S = I − αDᵀD), trained unsupervised, then with the classifier and early stopping on the 10 000
validation images (``drsae_train.train_drsae``), and analysed (``drsae_analysis``): counts of part- and
categorical-units, categorical-units per class, and the figures. Inputs: MNIST 50k/10k/10k, each image scaled
to unit L2 norm.

The protocol of ``--full`` is shorter than the paper's
-------------------------------------------------------
The author's code trains 100 unsupervised epochs and up to 1000 discriminative ones with plain SGD at batch 10
(lr 5e-3). Measured here (one BLAS thread, ``OPENBLAS_NUM_THREADS=1``), a batch-10 gradient of the 400-unit
T = 11 model costs ~0.5 ms per example, ~25 s per 50k epoch before the update and projection: the paper's
1100 epochs would take ~10 h for that model alone. So ``--full`` uses batches of 50 (~2.1× cheaper per example
than batch 10, measured) with momentum 0.9 and lr 2.5e-3: per example the weights then move as far as in the
paper's plain SGD (lr/(1 − μ)/batch = 2.5e-3/0.1/50 = 5e-4 = 5e-3/10), and 30 unsupervised epochs instead of
100. The discriminative phase keeps the paper's length: up to 1000 epochs, early stopping with patience 50 but
never before epoch 400, the rate decayed by 0.2 % per epoch (``lr_decay`` 0.998; after 1000 epochs 0.14 × lr).
Why not before 400: at momentum 0.9 the validation error jitters by ±0.2 points from epoch to epoch and spikes
to 3–4 %, so patience alone stopped 400¹¹ at epoch 178 (best 2.02 % at 128; test 2.11 %) while its 200-unit twin,
with the same curve up to there, went on improving until epoch 384 (1.69 %).
Why that schedule: a first ``--full`` protocol (2 % decay, ≤ 150 epochs, patience 15) ended every model with its
validation curve still falling while the rate had fallen 20-fold (3.10 / 3.00 / 5.94 %); on 200¹¹ the slow decay
alone took the error to 2.64 % (patience 15) and 1.85 % (patience 50, capped at 250 epochs;
``docs/probes/drsae_slow_decay.py``, README study 5).
Measured per 50k epoch at batch 50 (one BLAS thread, 2026-12-01, the update, projection and the 10k-image
monitor included, beside one other job): ~6–9 s (200¹¹), ~3 s (200²); the 400¹¹ model ~15–30 s. So the
discriminative phase can take ~1.5 h (200¹¹), ~1 h (200²) and several hours (400¹¹): the run needs several
invocations. Each stops between epochs after ``budget_hours`` (checkpoint on disk), and a rerun with the same
``--out`` skips finished models and continues the unfinished ones. The models are independent sweep units:
``--jobs 2`` trains two at once (400¹¹ on one core, the two 200-unit models after each other on the other).
"""
import time
from functools import partial

import numpy as np
from matplotlib.figure import Figure

from ..data import load_mnist
from ..drsae import DrSAE, normalize_rows
from ..drsae_analysis import plot_decoders, plot_iterations, plot_unit_scatter, unit_summary
from ..drsae_train import DrSAEProtocol, error_rate, train_drsae
from ..plotting import finish_log_axes
from ..sweep import budgeted, run_units
from . import prepare

#: published test errors (paper, Table 1), by model key
PAPER_ERRORS = {"h400-T11": 0.0108, "h200-T11": 0.0121, "h200-T2": 0.0149}

SETTINGS = {
    "quick": dict(n_train=1000, n_valid=300, n_test=300, models=((32, 5), (16, 5), (16, 2)),
                  protocol=dict(unsupervised_epochs=2, discriminative_epochs=4, batch_size=20, lr=5e-2,
                                momentum=0.9, lr_decay=0.98, patience=3), budget_hours=0.5),
    "default": dict(n_train=50000, n_valid=10000, n_test=10000, models=((400, 11), (200, 11), (200, 2)),
                    protocol=dict(unsupervised_epochs=5, discriminative_epochs=20, batch_size=50, lr=2.5e-3,
                                  momentum=0.9, lr_decay=0.98, patience=5), budget_hours=2.5),
    "full": dict(n_train=50000, n_valid=10000, n_test=10000, models=((400, 11), (200, 11), (200, 2)),
                 protocol=dict(unsupervised_epochs=30, discriminative_epochs=1000, batch_size=50, lr=2.5e-3,
                               momentum=0.9, lr_decay=0.998, patience=50, min_epochs=400), budget_hours=2.4),
}


def model_key(n_hidden, n_steps):
    return f"h{n_hidden}-T{n_steps}"


def train_one(data, n_hidden, n_steps, cfg, seed, out, callbacks, verbose):
    """Build, initialise and train one model (resuming from ``out/KEY``); return (model, training result).
    ``callbacks``: the Trainer's (``sweep.budgeted`` hands in the invocation's time budget)."""
    rng = np.random.default_rng([seed, n_hidden, n_steps])
    model = DrSAE(data["x_train"].shape[1], n_hidden, 10, n_steps=n_steps, rng=rng.integers(2**63))
    model.init_ista(data["x_train"])
    result = train_drsae(model, data["x_train"], data["y_train"], data["x_valid"], data["y_valid"],
                         DrSAEProtocol(**cfg["protocol"]), rng=rng.integers(2**63),
                         checkpoint_dir=out / model_key(n_hidden, n_steps), callbacks=callbacks, verbose=verbose)
    return model, result


def record(model, result, data, key):
    """results.json entry of a finished model: errors, timing and the unit analysis."""
    disc, unsup = result["discriminative"], result["unsupervised"]
    return {"model": key, "n_hidden": model.n_hidden, "n_steps": model.n_steps,
            "test_error": error_rate(model, data["x_test"], data["y_test"]),
            "valid_error": float(min(disc["valid_error"])), "paper_test_error": PAPER_ERRORS.get(key),
            "best_epoch": result["best_epoch"], "epochs": [len(unsup), len(disc)],
            "seconds_per_epoch": [float(np.mean(unsup["time"])), float(np.mean(disc["time"]))],
            "train_seconds": float(np.sum(unsup["time"]) + np.sum(disc["time"])),
            "valid_curve": disc["valid_error"], "units": unit_summary(model)}


def save_figures(model, data, key, out):
    tag = f"{key}, T = {model.n_steps}"
    plot_decoders(model, title=f"decoder columns D_i, {tag}").savefig(out / f"drsae_{key}_decoders.png", dpi=110)
    plot_unit_scatter(model, title=tag).savefig(out / f"drsae_{key}_units.png", dpi=110)
    picks = [int(np.flatnonzero(data["y_test"] == k)[0]) for k in (0, 3, 7, 9) if (data["y_test"] == k).any()]
    plot_iterations(model, data["x_test"][picks], data["y_test"][picks],
                    title=f"z^t along the iterations, {tag}").savefig(out / f"drsae_{key}_iterations.png", dpi=110)


def plot_valid_curves(models, lr, lr_decay):
    """Validation error per discriminative epoch of every finished model, the paper's test error as a dashed
    line of the same colour, and the learning rate lr · decay^epoch on a second axis — a missed number shows
    whether the curve had flattened or the rate had run out."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for color, m in zip(("tab:blue", "tab:orange", "tab:green", "tab:red"), models):
        curve = 100 * np.asarray(m["valid_curve"])
        ax.plot(np.arange(1, len(curve) + 1), curve, color=color, label=f"{m['model']} (test {100 * m['test_error']:.2f} %)")
        if m.get("paper_test_error"):
            ax.axhline(100 * m["paper_test_error"], color=color, ls="--", lw=1, label=f"paper {m['model']}")
    finish_log_axes(ax, legend_size=7, xlabel="discriminative epoch", ylabel="validation error (%)",
                    title="DrSAE: validation error during the discriminative phase")
    epochs = np.arange(1, max(len(m["valid_curve"]) for m in models) + 1)
    twin = ax.twinx()
    twin.plot(epochs, lr * lr_decay ** epochs, color="0.5", ls=":", label="learning rate")
    twin.set(yscale="log", ylabel="learning rate (dotted)")
    return fig


def _data(cfg):
    """MNIST as the DrSAE sees it: every image scaled to unit L2 norm."""
    mnist = load_mnist(n_train=cfg["n_train"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
    return {k: (normalize_rows(v) if k.startswith("x_") else v) for k, v in vars(mnist).items()}


def _model_unit(cfg, out, seed, deadline, verbose, unit):
    """A sweep unit: train (or resume, or reload) the model ``unit = (n_hidden, n_steps)`` until it finishes or the
    invocation's ``deadline`` (``time.time()``) passes. Returns its record, with the figures written — or, when the
    time ran out, a ``sweep.Unfinished`` (its checkpoint is on disk: a rerun continues it). A unit whose turn
    comes after the deadline is not started at all (``run_units``' deadline)."""
    n_hidden, n_steps = unit
    key = model_key(n_hidden, n_steps)
    data = _data(cfg)

    def work(callbacks):
        model, result = train_one(data, n_hidden, n_steps, cfg, seed, out, callbacks, verbose)
        save_figures(model, data, key, out)
        return record(model, result, data, key)

    return budgeted(work, deadline)


def run(mode="default", out=None, seed=0, verbose=True, jobs=1, scheduler=None, threads_per_job=None, deadline=None):
    """Train every model of ``cfg["models"]`` not finished yet — one after another, in ``jobs`` processes or on
    the Dask cluster at ``scheduler`` (``sweep.run_units``; each model is one unit) — for at most
    ``cfg["budget_hours"]`` of wall time in this invocation, or until ``deadline`` (``time.time()``; the CLI's
    ``--hours``) if that is sooner; a model still training then stops after its epoch. results.json after each
    model."""
    run_ = prepare("drsae", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    if mode == "quick":
        print("quick mode: tiny models on 1 000 images for a few epochs — it checks the code path; its numbers "
              "mean nothing about DrSAE")
    models = run_.stored_results().get("models", [])
    done = {m["model"] for m in models}
    keys = [model_key(*m) for m in cfg["models"]]
    start = time.perf_counter()
    bars = verbose and jobs == 1 and scheduler is None  # per-epoch progress from one process only

    def report(unit, m):
        paper = f" (paper {100 * PAPER_ERRORS[m['model']]:.2f} %)" if m["model"] in PAPER_ERRORS else ""
        print(f"{m['model']}: test error {100 * m['test_error']:.2f} %{paper}, units {m['units']['counts']}, "
              f"categorical per class {m['units']['categorical_per_class']}, {m['train_seconds']:.0f} s")

    def collect(unit, m):  # in this process, as each model finishes
        models.append(m)
        models.sort(key=lambda r: keys.index(r["model"]))
        if verbose:
            report(unit, m)
        run_.write_results({"models": models, "status": "running"})

    pending = [m for m in cfg["models"] if model_key(*m) not in done]
    stop = min(time.time() + cfg["budget_hours"] * 3600, deadline or float("inf"))
    ran = run_units(partial(_model_unit, cfg, out, seed, stop, bars), pending, jobs=jobs, scheduler=scheduler,
                    threads_per_job=threads_per_job, on_result=collect, verbose=verbose, deadline=stop)
    unfinished = [f"{model_key(*m)}: the time budget was spent; rerun to resume" for m in pending if m not in ran]
    if models:
        plot_valid_curves(models, cfg["protocol"]["lr"], cfg["protocol"]["lr_decay"]).savefig(
            out / "drsae_valid_curves.png", dpi=110)
    status = "unfinished (" + "; ".join(unfinished) + ")" if unfinished else "finished"
    return run_.write_results({"models": models, "status": status,
                               "seconds_this_session": time.perf_counter() - start})
