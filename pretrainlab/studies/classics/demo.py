"""The main job, ``pretrainlab demo``: an RBM learns MNIST by contrastive divergence.

Trains a Bernoulli RBM (500 hidden units, CD-1, momentum 0.5 → 0.9, weight decay 2e-4 — the recipe of
Hinton's practical guide, 2010) on the shipped MNIST, prints the monitors every epoch, and writes the
filters, Gibbs samples and learning curves as images.
"""
import time

import numpy as np

from ...cd import ContrastiveDivergence
from ...checkpoint import save_model
from ...data import IMAGE_SHAPE, load_mnist
from ...optim import SGD, step_change
from ...plotting import plot_filters, plot_history, plot_images
from ...rbm import BernoulliRBM
from ...train import Trainer
from ...runner.experiments import prepare

SETTINGS = {
    #            training images, hidden units, epochs
    "quick": dict(n_train=5000, n_hidden=100, epochs=5),
    "default": dict(n_train=50000, n_hidden=500, epochs=15),
    "full": dict(n_train=50000, n_hidden=500, epochs=50),
}


def run(mode="default", out=None, seed=0, verbose=True):
    """Train the demo RBM; write filters.png, samples.png, learning_curves.png, model.npz, results.json."""
    run_ = prepare("demo", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
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
    # momentum 0.5 → 0.9 after 5 epochs with the rate cut 5× keeps the effective step lr / (1 − momentum)
    # at 0.2, so the switch does not jolt the weights
    optimizer = SGD(rbm.params, lr=step_change(0.1, 0.02, 5), momentum=step_change(0.5, 0.9, 5))
    trainer = Trainer(rbm, optimizer, step=ContrastiveDivergence(rbm, k=1, weight_decay=2e-4), batch_size=100,
                      monitors=monitors, checkpoint=out / "checkpoint.npz", rng=rng, verbose=verbose)
    if verbose:
        print(f"training a {rbm.n_visible}×{rbm.n_hidden} RBM by CD-1 on {len(x)} MNIST images "
              f"for {cfg['epochs']} epochs ({mode} mode)")
        print(f"monitors are noisy estimates: pseudo_ll_valid flips one random unit per image (a single-sample "
              f"estimate: it swings from epoch to epoch), free_energy_gap compares {len(x_probe)} training with "
              f"{len(x_valid)} validation images; read their trend over epochs, not one epoch's value")
    start = time.perf_counter()
    history = trainer.fit(x, epochs=cfg["epochs"], resume=True)
    seconds = time.perf_counter() - start

    save_model(rbm, out / "model.npz")
    plot_filters(rbm.W, IMAGE_SHAPE, title="RBM filters (columns of W)").savefig(out / "filters.png", dpi=120)
    steps = (0, 1, 10, 100, 1000)
    snaps = rbm.gibbs_snapshots(data.x_test[:10], steps)
    plot_images(snaps, IMAGE_SHAPE, n_cols=len(steps),
                title="Gibbs chains from test digits: steps " + ", ".join(map(str, steps))).savefig(
        out / "samples.png", dpi=120)
    plot_history(history, title=f"{rbm.n_visible}×{rbm.n_hidden} RBM trained by CD-1 on MNIST", panels=[
        ("reconstruction error", "squared error per image", {"training": "loss", "validation": "recon_valid"}),
        (f"free-energy gap (noisy: {len(x_probe)} training, {len(x_valid)} validation images)",
         "validation − training (nats)", {"gap": "free_energy_gap"}),
        ("pseudo-log-likelihood (validation; noisy\nsingle-sample estimate: one unit flipped)", "nats per image",
         {"validation": "pseudo_ll_valid"}),
    ]).savefig(out / "learning_curves.png", dpi=120)

    results = run_.write_results({"n_train": len(x), "n_hidden": rbm.n_hidden, "epochs": len(history),
                                  "seconds": seconds, "history": history.records})
    if verbose:
        last = history.last()
        print(f"done in {seconds:.1f} s: reconstruction error train {last['loss']:.2f}, "
              f"valid {last['recon_valid']:.2f}; free-energy gap {last['free_energy_gap']:.2f}")
        print("figures: filters.png, samples.png, learning_curves.png")
    return results
