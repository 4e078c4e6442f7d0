"""``pretrainlab experiment autoencoder-filters``: the filters of a tied denoising autoencoder on MNIST.

The Theano dA tutorial's setting (Vincent et al. 2008): 500 sigmoid hidden units, tied weights, sigmoid
decoder, cross-entropy, masking noise that zeroes 30 % of the pixels. Without noise the filters of such an
over-complete autoencoder look like noise; with it they turn into localised pen strokes and blobs.
Writes filters.png (the first 100 columns of W), reconstructions.png and learning_curves.png.
"""
import json
import time
from pathlib import Path

import numpy as np

from ..autoencoder import TiedAutoencoder
from ..data import IMAGE_SHAPE, load_mnist
from ..plotting import plot_filters, plot_history, plot_images
from ..train import SGD, Trainer, save_model

SETTINGS = {
    #            training images, hidden units, epochs
    "quick": dict(n_train=2000, n_hidden=100, epochs=2),
    "default": dict(n_train=50000, n_hidden=500, epochs=15),
    "full": dict(n_train=50000, n_hidden=500, epochs=50),
}


def run(mode="default", out="pretrainlab-runs/autoencoder-filters", seed=0, verbose=True, noise_level=0.3,
        lr=0.1, momentum=0.0, batch_size=20):
    """Train the denoising autoencoder; write filters.png, reconstructions.png, learning_curves.png, results.json."""
    if mode not in SETTINGS:
        raise ValueError(f"mode must be one of {sorted(SETTINGS)}, got {mode!r}")
    cfg = SETTINGS[mode]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_mnist(n_train=cfg["n_train"])
    x_valid = data.x_valid[:2000]
    ae = TiedAutoencoder(784, cfg["n_hidden"], rng=seed, noise="mask" if noise_level else None,
                         noise_level=noise_level)
    trainer = Trainer(ae, SGD(ae.params, lr=lr, momentum=momentum), batch_size=batch_size,
                      monitors={"recon_valid": lambda m: m.reconstruction_loss(x_valid)}, rng=seed,
                      verbose=verbose)
    if verbose:
        print(f"training a tied denoising autoencoder 784-{cfg['n_hidden']} (masking noise {noise_level}) on "
              f"{cfg['n_train']} MNIST images for {cfg['epochs']} epochs ({mode} mode)")
    start = time.perf_counter()
    history = trainer.fit(data.x_train, epochs=cfg["epochs"])
    seconds = time.perf_counter() - start

    save_model(ae, out / "model.npz")
    plot_filters(ae.W, IMAGE_SHAPE, title=f"tied denoising AE filters (noise {noise_level})").savefig(
        out / "filters.png", dpi=120)
    x_test = data.x_test[:10]
    plot_images(np.vstack([x_test, ae.reconstruct(x_test)]), IMAGE_SHAPE, n_cols=10,
                title="test digits (top) and reconstructions (bottom)").savefig(out / "reconstructions.png", dpi=120)
    plot_history(history, keys=["loss", "recon_valid"],
                 title="cross-entropy per image (train: noisy input)").savefig(out / "learning_curves.png", dpi=120)
    last = history.last()
    results = {"mode": mode, "seed": seed, "n_train": cfg["n_train"], "n_hidden": cfg["n_hidden"],
               "noise_level": noise_level, "lr": lr, "momentum": momentum, "batch_size": batch_size,
               "epochs": len(history),
               "loss_train": last["loss"], "recon_valid": last["recon_valid"], "seconds": seconds,
               "history": history.records}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    if verbose:
        print(f"{'epochs':<8}{'train loss':<12}{'valid recon.':<14}{'time':>8}")
        print(f"{len(history):<8}{last['loss']:<12.2f}{last['recon_valid']:<14.2f}{seconds:>7.0f}s")
        print("figures: filters.png, reconstructions.png, learning_curves.png")
    return results
