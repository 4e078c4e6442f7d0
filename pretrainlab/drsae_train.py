"""Training a DrSAE (Rolfe & LeCun, ICLR 2013, arXiv 1301.3775): an unsupervised phase, then a discriminative one,
both through the lab's one ``Trainer``.

    phase 1 (unsupervised):    minimise L^U = ½‖x − D z^T‖² + λ‖z^T‖₁
    phase 2 (discriminative):  minimise L^U + w · L^S,  L^S = −log softmax(C z^T/‖z^T‖ + c)_y,
                               early stopping on the validation error (best parameters kept)

In both phases the learning rate of each matrix is divided by how often it repeats in the unrolled network
(``DrSAE.lr_scale``: E by T, S by T − 1) and the norm bounds are re-imposed after every update
(``DrSAE.project_norms``, an ``after_step`` of the Trainer). The paper's protocol — plain SGD, lr 5e-3, batches
of 10, 100 unsupervised epochs, then up to 1000 with the classifier — is ``DrSAEProtocol()``'s default shape;
experiments choose shorter ones (``experiments/drsae.py``).

Each phase checkpoints after every epoch into ``checkpoint_dir`` (``unsupervised.npz``, ``discriminative.npz``),
and the finished model is saved as ``model.npz``: calling ``train_drsae`` again with the same arguments
resumes exactly where an interrupted call stopped (``tests/test_drsae_train.py`` checks that an interrupted
and resumed run equals the uninterrupted one) and returns at once for a finished model.
"""
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .checkpoint import load_model, save_model
from .optim import SGD, exponential_decay
from .train import EarlyStopping, History, Trainer
from .validation import as_generator, check_int, check_labels, check_number, check_positive_int


@dataclass(frozen=True)
class DrSAEProtocol:
    """How long and how fast each phase trains. The defaults are the author's code's (``STUDIES.md``).

    unsupervised_epochs, discriminative_epochs : epochs of phase 1 and the most of phase 2 (100 and 1000).
    batch_size : 10.   lr : 5e-3, on the batch-mean gradient, decayed to lr · lr_decay^epoch in each phase.
    momentum : 0 (plain SGD).   patience : epochs of phase 2 without a better validation error before stopping.
    min_epochs : phase 2 never stops before that many epochs (0; the early-stopping ``min_epochs``).
    """

    unsupervised_epochs: int = 100
    discriminative_epochs: int = 1000
    batch_size: int = 10
    lr: float = 5e-3
    lr_decay: float = 1.0
    momentum: float = 0.0
    patience: int = 50
    min_epochs: int = 0

    def __post_init__(self):
        check_positive_int(self.unsupervised_epochs, "unsupervised_epochs")
        check_positive_int(self.discriminative_epochs, "discriminative_epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.patience, "patience")
        check_int(self.min_epochs, "min_epochs", 0)
        check_number(self.lr, "lr", low=0.0, low_open=True)
        check_number(self.lr_decay, "lr_decay", low=0.0, high=1.0, low_open=True)
        check_number(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)

    def to_dict(self):
        return asdict(self)


def _optimizer(model, protocol):
    """Momentum SGD whose rate for parameter k is lr / ``model.lr_scale()[k]`` (SGD's lr_scale multiplies)."""
    divisors = model.lr_scale()
    return SGD(model.params, lr=exponential_decay(protocol.lr, protocol.lr_decay), momentum=protocol.momentum,
               lr_scale={k: 1.0 / d for k, d in divisors.items()})


def _project(model):
    model.project_norms()


def error_rate(model, x, y):
    """Fraction of rows of x the model misclassifies."""
    return 1.0 - model.score(x, y)


def train_drsae(model, x_train, y_train, x_valid, y_valid, protocol=None, rng=None, checkpoint_dir=None,
                callbacks=(), verbose=False):
    """Train ``model`` (a ``DrSAE``, already initialised, e.g. by ``init_ista``) in the paper's two phases.

    Parameters
    ----------
    model : DrSAE, trained in place.
    x_train, y_train : training images (rows, scaled as the model expects: unit L2 norm) and labels.
    x_valid, y_valid : the held-out images of phase 2's early stopping (the paper: 10 000 MNIST images).
    protocol : DrSAEProtocol (default: the author's code's).
    rng : numpy Generator or int seed; the minibatch order of both phases is drawn from it.
    checkpoint_dir : folder for the per-epoch checkpoints and ``model.npz``; None trains without files.
    callbacks : callables ``(trainer, epoch)`` run after every epoch of both phases (``Trainer``'s callbacks),
        e.g. a time budget that raises to stop; the checkpoint of that epoch is already written.
    verbose : print the monitors each epoch.

    Returns
    -------
    dict ``unsupervised`` and ``discriminative`` (each a ``History``: loss, lr, time per epoch and the
    monitors ``valid_loss`` = L^U on x_valid, resp. ``valid_error``), ``best_epoch`` (the phase-2 epoch whose
    parameters the model now holds) and ``finished`` (True).  The model holds the best phase-2 parameters.
    """
    protocol = DrSAEProtocol() if protocol is None else protocol
    if not isinstance(protocol, DrSAEProtocol):
        raise TypeError(f"protocol must be a DrSAEProtocol, got {type(protocol).__name__}")
    x_train = model.check_x(x_train, "x_train")
    y_train = check_labels(y_train, "y_train", model.n_classes, n_samples=len(x_train))
    x_valid = model.check_x(x_valid, "x_valid")
    y_valid = check_labels(y_valid, "y_valid", model.n_classes, n_samples=len(x_valid))
    seeds = as_generator(rng).integers(2**63, size=2)  # one stream per phase, the same on every resume
    folder = None if checkpoint_dir is None else Path(checkpoint_dir)
    final = None if folder is None else folder / "model.npz"
    if final is not None and final.is_file():
        return _load_finished(model, final)

    common = dict(batch_size=protocol.batch_size, callbacks=callbacks, after_step=[_project], verbose=verbose)
    # phase 1: the labels are not used (the step ignores them; the Trainer still checks them)
    unsup = Trainer(model, _optimizer(model, protocol), step=lambda xb, yb: model.loss_and_grads(xb),
                    monitors={"valid_loss": lambda m: m.sparse_coding_loss(x_valid)},
                    checkpoint=None if folder is None else folder / "unsupervised.npz", rng=seeds[0], **common)
    unsup.fit(x_train, y_train, epochs=protocol.unsupervised_epochs, resume=True)

    # phase 2: fresh velocity, the classifier term on, early stopping on the validation error
    stopping = EarlyStopping("valid_error", patience=protocol.patience, min_epochs=protocol.min_epochs)
    disc = Trainer(model, _optimizer(model, protocol), monitors={"valid_error": lambda m: error_rate(m, x_valid,
                                                                                                     y_valid)},
                   early_stopping=stopping, checkpoint=None if folder is None else folder / "discriminative.npz",
                   rng=seeds[1], **common)
    disc.fit(x_train, y_train, epochs=protocol.discriminative_epochs, resume=True)
    result = {"unsupervised": unsup.history, "discriminative": disc.history, "best_epoch": stopping.best_epoch,
              "finished": True}
    if final is not None:
        save_model(model, final, {"__histories__": np.array(_histories_json(result))})
    return result


def _histories_json(result):
    import json

    return json.dumps({"unsupervised": result["unsupervised"].records,
                       "discriminative": result["discriminative"].records, "best_epoch": result["best_epoch"]})


def _load_finished(model, path):
    """Copy a finished model's parameters into ``model`` and return its histories (no training)."""
    import json

    from .checkpoint import read_npz

    saved = load_model(path)
    if saved.config() != model.config():
        raise ValueError(f"checkpoint_dir: {path} holds a model of another configuration ({saved.config()})")
    for k, p in model.params.items():
        p[...] = saved.params[k]
    record = json.loads(str(read_npz(path)["__histories__"]))
    return {"unsupervised": History(record["unsupervised"]), "discriminative": History(record["discriminative"]),
            "best_epoch": record["best_epoch"], "finished": True}
