"""``pretrainlab experiment mlp-baseline``: a 784-500-10 MLP from random initialisation on MNIST.

The reference every pretrained network is compared with (study 2), in the Theano MLP tutorial's form: tanh
hidden units with its uniform init U(±√(6/(n_in + n_out))), softmax output, weight decay 1e-4, here trained by
SGD with momentum 0.9 at batch 100 with the learning rate 0.05 decayed by 0.98 per epoch. Early stopping on
the validation error restores the best epoch, whose test error is reported (the Theano tutorial's network
reaches 1.65 %). ``run(activation="sigmoid")`` trains the sigmoid network instead (with the ×4 init).
"""
import time

from ...data import load_mnist
from ...mlp import MLP
from ...plotting import plot_history
from ...checkpoint import save_model
from ...optim import SGD, exponential_decay
from ...train import EarlyStopping, Trainer
from ...runner.experiments import prepare

SETTINGS = {
    #            training images, maximum epochs, early-stopping patience
    "quick": dict(n_train=3000, epochs=3, patience=3),
    "default": dict(n_train=50000, epochs=100, patience=15),
    "full": dict(n_train=50000, epochs=300, patience=40),
}


def run(mode="default", out=None, seed=0, verbose=True, activation="tanh",
        lr=0.05, momentum=0.9, weight_decay=1e-4):
    """Train the MLP; write learning_curves.png, model.npz and results.json (test error at the best epoch)."""
    run_ = prepare("mlp-baseline", mode, SETTINGS, out, seed, options=dict(
        activation=activation, lr=lr, momentum=momentum, weight_decay=weight_decay))
    cfg, out = run_.cfg, run_.out
    data = load_mnist(n_train=cfg["n_train"])
    mlp = MLP([784, 500, 10], rng=seed, activation=activation, weight_decay=weight_decay)
    monitors = {"valid_error": lambda m: 1.0 - m.score(data.x_valid, data.y_valid)}
    # The weight decay lives in the model's loss, so the optimiser's own weight_decay stays 0.
    trainer = Trainer(mlp, SGD(mlp.params, lr=exponential_decay(lr, 0.98), momentum=momentum), batch_size=100,
                      monitors=monitors,
                      early_stopping=EarlyStopping("valid_error", patience=cfg["patience"]),
                      rng=seed, verbose=verbose)
    if verbose:
        print(f"training a 784-500-10 {activation} MLP on {cfg['n_train']} MNIST images for at most "
              f"{cfg['epochs']} epochs ({mode} mode)")
    start = time.perf_counter()
    history = trainer.fit(data.x_train, data.y_train, epochs=cfg["epochs"])
    seconds = time.perf_counter() - start
    test_error = 1.0 - mlp.score(data.x_test, data.y_test)

    save_model(mlp, out / "model.npz")
    plot_history(history, keys=["loss", "valid_error"],
                 title="784-500-10 MLP from random init").savefig(out / "learning_curves.png", dpi=120)
    results = {"mode": mode, "seed": seed, "activation": activation, "lr": lr, "momentum": momentum,
               "weight_decay": weight_decay, "n_train": cfg["n_train"], "epochs_run": len(history),
               "best_epoch": trainer.early_stopping.best_epoch, "valid_error": trainer.early_stopping.best,
               "test_error": test_error, "seconds": seconds, "history": history.records}
    results = run_.write_results(results)
    if verbose:
        print(f"{'epochs run':<14}{'best epoch':<12}{'valid error':<13}{'test error':<12}{'time':>8}")
        print(f"{len(history):<14}{results['best_epoch']:<12}{100 * results['valid_error']:<13.2f}"
              f"{100 * test_error:<12.2f}{seconds:>7.0f}s")
    return results
