"""The main job, ``pretrainlab demo``: an RBM learns MNIST by contrastive divergence.

Trains a Bernoulli RBM (500 hidden units, CD-1, momentum 0.5 → 0.9, weight decay 2e-4 — the recipe of
Hinton's practical guide, 2010) on the shipped MNIST, prints the monitors every epoch, and writes the
filters, Gibbs samples and learning curves as images.
"""
import json
import time

import numpy as np

from ..data import IMAGE_SHAPE, load_mnist
from ..plotting import plot_filters, plot_history, plot_images
from ..rbm import BernoulliRBM, ContrastiveDivergence
from ..train import SGD, Trainer, save_model, step_change
from . import prepare

SETTINGS = {
    #            training images, hidden units, epochs
    "quick": dict(n_train=5000, n_hidden=100, epochs=5),
    "default": dict(n_train=50000, n_hidden=500, epochs=15),
    "full": dict(n_train=50000, n_hidden=500, epochs=50),
}


def gibbs_snapshots(rbm, v0, steps=(0, 1, 10, 100, 1000)):
    """Visible probabilities of chains started at ``v0`` after each number of Gibbs steps in ``steps``.

    Returns (len(v0) · len(steps), n_visible), chain-major: row i·len(steps) + s is chain i at steps[s].
    """
    snaps, v, done = [], v0, 0
    for n in steps:
        if n > done:
            v, ph = rbm.gibbs_vhv(v, n - done)
            done = n
            snaps.append(rbm.mean_visibles(ph))
        else:
            snaps.append(v0)
    return np.stack(snaps, axis=1).reshape(-1, v0.shape[1])


def run(mode="default", out="pretrainlab-runs/demo", seed=0, verbose=True):
    """Train the demo RBM; write filters.png, samples.png, learning_curves.png, model.npz, results.json."""
    cfg, out = prepare(mode, SETTINGS, out)
    rng = np.random.default_rng(seed)
    data = load_mnist(n_train=cfg["n_train"])
    x, x_valid = data.x_train, data.x_valid[:1000]
    x_probe = x[:1000]  # equal-sized train sample for the free-energy gap
    # The stochastic pseudo-likelihood flips one unit: meaningful for binary data, so use a thresholded copy.
    x_valid_binary = (x_valid > 0.5).astype(x_valid.dtype)

    rbm = BernoulliRBM(784, cfg["n_hidden"], rng=rng)
    rbm.init_visible_bias(x)
    monitors = {
        "recon_valid": lambda m: m.reconstruction_error(x_valid),
        "free_energy_gap": lambda m: m.free_energy_gap(x_probe, x_valid),
        "pseudo_ll_valid": lambda m: m.pseudo_likelihood(x_valid_binary),
    }
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5, weight_decay=2e-4),
                      step=ContrastiveDivergence(rbm, k=1), batch_size=100,
                      # momentum 0.5 → 0.9 after 5 epochs with the rate cut 5× keeps the effective step
                      # lr / (1 − momentum) at 0.2, so the switch does not jolt the weights
                      schedules={"momentum": step_change(0.5, 0.9, 5), "lr": step_change(0.1, 0.02, 5)},
                      monitors=monitors, checkpoint=out / "checkpoint.npz", rng=rng, verbose=verbose)
    if verbose:
        print(f"training a {rbm.n_visible}×{rbm.n_hidden} RBM by CD-1 on {len(x)} MNIST images "
              f"for {cfg['epochs']} epochs ({mode} mode)")
    start = time.perf_counter()
    history = trainer.fit(x, epochs=cfg["epochs"], resume=True)
    seconds = time.perf_counter() - start

    save_model(rbm, out / "model.npz")
    plot_filters(rbm.W, IMAGE_SHAPE, title="RBM filters (columns of W)").savefig(out / "filters.png", dpi=120)
    steps = (0, 1, 10, 100, 1000)
    snaps = gibbs_snapshots(rbm, data.x_test[:10], steps)
    plot_images(snaps, IMAGE_SHAPE, n_cols=len(steps),
                title="Gibbs chains from test digits: steps " + ", ".join(map(str, steps))).savefig(
        out / "samples.png", dpi=120)
    plot_history(history, keys=["loss", "recon_valid", "free_energy_gap", "pseudo_ll_valid"],
                 title="RBM training (loss = training reconstruction error)").savefig(
        out / "learning_curves.png", dpi=120)

    results = {"mode": mode, "seed": seed, "n_train": len(x), "n_hidden": rbm.n_hidden,
               "epochs": len(history), "seconds": seconds, "history": history.records}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if verbose:
        last = history.last()
        print(f"done in {seconds:.1f} s: reconstruction error train {last['loss']:.2f}, "
              f"valid {last['recon_valid']:.2f}; free-energy gap {last['free_energy_gap']:.2f}")
        print("figures: filters.png, samples.png, learning_curves.png")
    return results
