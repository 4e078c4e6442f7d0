"""``pretrainlab experiment autoencoder-filters``: the filters of a tied denoising autoencoder on MNIST.

The Theano dA tutorial's setting (Vincent et al. 2008): 500 sigmoid hidden units, tied weights, sigmoid
decoder, cross-entropy, masking noise that zeroes 30 % of the pixels, plain SGD with rate 0.1 on batches of 20
for 15 epochs. The same autoencoder is trained without noise for comparison: over-complete and noise-free, it
can reconstruct well with filters that look like noise; with masking noise its filters become localised blobs
and pen strokes (Vincent et al. 2008, Fig. 3). Writes filters.png (the first 100 columns of W, denoising),
filters_no_noise.png, reconstructions.png, learning_curves.png, model.npz and results.json.
"""
import time

import numpy as np

from ...autoencoder import TiedAutoencoder
from ...data import IMAGE_SHAPE, load_mnist
from ...plotting import plot_filters, plot_history, plot_images
from ...checkpoint import save_model
from ...optim import SGD
from ...train import Trainer
from ...runner.experiments import prepare

SETTINGS = {
    #            training images, hidden units, epochs
    "quick": dict(n_train=2000, n_hidden=100, epochs=2),
    "default": dict(n_train=50000, n_hidden=500, epochs=15),
    "full": dict(n_train=50000, n_hidden=500, epochs=50),
}


def train_autoencoder(x, x_valid, n_hidden, noise_level, epochs, seed=0, lr=0.1, momentum=0.0, batch_size=20,
                      verbose=True):
    """Train a tied sigmoid autoencoder (masking noise ``noise_level``, 0 for none); return (model, history, seconds)."""
    ae = TiedAutoencoder(x.shape[1], n_hidden, rng=seed, noise="mask" if noise_level else None,
                         noise_level=noise_level)
    trainer = Trainer(ae, SGD(ae.params, lr=lr, momentum=momentum), batch_size=batch_size,
                      monitors={"recon_valid": lambda m: m.reconstruction_loss(x_valid)}, rng=seed, verbose=verbose)
    start = time.perf_counter()
    history = trainer.fit(x, epochs=epochs)
    return ae, history, time.perf_counter() - start


def run(mode="default", out=None, seed=0, verbose=True, noise_level=0.3,
        lr=0.1, momentum=0.0, batch_size=20):
    """Train the denoising and the noise-free autoencoder; write the figures and results.json into ``out``."""
    run_ = prepare("autoencoder-filters", mode, SETTINGS, out, seed, options=dict(
        noise_level=noise_level, lr=lr, momentum=momentum, batch_size=batch_size))
    cfg, out = run_.cfg, run_.out
    data = load_mnist(n_train=cfg["n_train"])
    x_valid = data.x_valid[:2000]
    runs = {}
    for level in (noise_level, 0.0):
        if verbose:
            print(f"training a tied autoencoder 784-{cfg['n_hidden']} with masking noise {level} on "
                  f"{cfg['n_train']} MNIST images for {cfg['epochs']} epochs ({mode} mode)")
        runs[level] = train_autoencoder(data.x_train, x_valid, cfg["n_hidden"], level, cfg["epochs"], seed, lr,
                                        momentum, batch_size, verbose)

    dae, history, _ = runs[noise_level]
    save_model(dae, out / "model.npz")
    for level, name in ((noise_level, "filters.png"), (0.0, "filters_no_noise.png")):
        plot_filters(runs[level][0].W, IMAGE_SHAPE, title=f"tied autoencoder filters, masking noise {level}").savefig(
            out / name, dpi=120)
    x_test = data.x_test[:10]
    plot_images(np.vstack([x_test, dae.reconstruct(x_test)]), IMAGE_SHAPE, n_cols=10,
                title="test digits (top) and reconstructions (bottom)").savefig(out / "reconstructions.png", dpi=120)
    plot_history(history, keys=["loss", "recon_valid"],
                 title="cross-entropy per image (train: noisy input)").savefig(out / "learning_curves.png", dpi=120)
    results = {"mode": mode, "seed": seed, "n_train": cfg["n_train"], "n_hidden": cfg["n_hidden"], "lr": lr,
               "momentum": momentum, "batch_size": batch_size, "epochs": cfg["epochs"], "runs": {}}
    for level, (ae, hist, seconds) in runs.items():
        results["runs"][f"noise {level}"] = {"noise_level": level, "loss_train": hist.last()["loss"],
                                             "recon_valid": hist.last()["recon_valid"], "seconds": seconds,
                                             "history": hist.records}
    results = run_.write_results(results)
    if verbose:
        print(f"{'masking noise':<15}{'train loss':<12}{'valid recon.':<14}{'time':>8}")
        for label, r in results["runs"].items():
            print(f"{r['noise_level']:<15}{r['loss_train']:<12.2f}{r['recon_valid']:<14.2f}{r['seconds']:>7.0f}s")
        print("figures: filters.png, filters_no_noise.png, reconstructions.png, learning_curves.png")
    return results
