"""Training a DrSAE (Rolfe & LeCun, ICLR 2013, arXiv 1301.3775): an unsupervised phase, then a discriminative one,
both through the lab's one ``Trainer``.

    phase 1 (unsupervised):    minimise L^U = ½‖x − D z^T‖² + λ‖z^T‖₁
    phase 2 (discriminative):  minimise L^U + w · L^S,  L^S = −log softmax(C z^T/‖z^T‖ + c)_y

In both phases the learning rate of each matrix is divided by how often it repeats in the unrolled network
(``DrSAE.lr_scale``: E and b by T, S by T − 1, C and c by 5) and the norm bounds are re-imposed after the
updates (``DrSAE.project_norms``, an ``after_step`` of the Trainer).

The author's update, in the lab's units (``DrSAEProtocol()``'s defaults)
------------------------------------------------------------------------
Rolfe's code (rolfe/recpool, commit 6d1f0ab) trains by plain SGD on minibatches of 10 with lr 5e-3
(``run_recpool_net.lua`` l. 25, 28), and every cost module *sums* over the minibatch (``sizeAverage = false``) with
the reconstruction weighted by 5 (``L2Cost(5, 2)``; L1 weight 0.09, classification weight 1).  Per batch B its
loss is therefore

    L_code(B) = Σ_{n∈B} 5 · [½‖x_n − D z_n‖² + 0.018‖z_n‖₁ + 0.2 · NLL_n] = 5 · |B| · L_lab(B),

where L_lab is the lab's batch *mean* of ½‖x − Dz‖² + λ‖z‖₁ + w·NLL (λ = 0.018, w = 0.2; ``DrSAE``).  A step
−5e-3 · ∇L_code is the step −lr · ∇L_lab with **lr = 5e-3 · 5 · 10 = 0.25**: the lab keeps its batch-mean loss
and uses that rate (``tests/studies/drsae/test_drsae_train.py`` sums the per-example gradients of the code's form and checks
that both give the same update).  Reading "5e-3 at batch 10" as a batch-mean rate makes the steps 50× too small.

The rate decays per update as Torch's ``optim.sgd`` does, clr = lr / (1 + n · 5e-6) over the update count n
(``learning_rate_decay = 5e-7 · minibatch`` l. 143, ``sgd_decayed_weight_decay.lua``), and n goes on counting
from the unsupervised phase into the discriminative one (``trainer.config.evalCounter = 0`` is commented out, l. 276).  D's and E's
norm bounds are re-imposed after every 5th update, the first included (``repair_interval = 5``, l. 72;
``build_recpool_net.lua`` l. 1111–1114), C's after every update.  100 unsupervised epochs, then 1000 with the
classifier (l. 42, 47).  No momentum, no weight decay (l. 144–146).

Which parameters are tested.  The code never stops early: it runs all 1000 discriminative epochs, logs the
validation error, and saves the parameters every 50 epochs — after discriminative epochs 0, 50, …, 950 (the
parameters after epoch 1000 are never written; ``run_recpool_net.lua`` l. 163–176, 269–278); the test error comes
from a separate run with lr 0 on a saved file.  So with ``patience=None`` (the default) phase 2 runs every epoch,
writes ``snapshot-EEEE.npz`` after discriminative epochs 0, ``snapshot_every``, …, and the model ends holding the
snapshot with the lowest validation error (the lab's reading of how a saved file was picked for the test run:
the code does not record the choice), ties to the earlier; the final parameters are kept as ``final.npz`` beside it.
Picking the best of *every* epoch instead would choose among ~1000 noisy evaluations and be optimistic (an audit
of a T = 2 run: 0.5 points).  With a ``patience`` (the quick and default modes) phase 2 early-stops on the
validation error and keeps the best epoch's parameters, as the paper's text describes.

Each phase checkpoints after every epoch into ``checkpoint_dir`` (``unsupervised.npz``, ``discriminative.npz``),
and the finished model is saved as ``model.npz``: calling ``train_drsae`` again with the same arguments
resumes exactly where an interrupted call stopped (``tests/studies/drsae/test_drsae_train.py`` checks that an interrupted
and resumed run equals the uninterrupted one) and returns at once for a finished model.
"""
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...checkpoint import check_history, load_model, read_meta, read_npz, save_model
from ...optim import SGD, exponential_decay
from ...train import EarlyStopping, History, Trainer
from ...validation import as_generator, check_int, check_labels, check_number, check_positive_int


@dataclass(frozen=True)
class DrSAEProtocol:
    """How long and how fast each phase trains. The defaults are the author's code's (module docstring).

    unsupervised_epochs, discriminative_epochs : epochs of phase 1 and the most of phase 2 (100 and 1000).
    batch_size : 10.
    lr : 0.25, on the gradient of the lab's batch-*mean* loss (= the code's 5e-3 on its summed, ×5 loss at
        batch 10); multiplied per epoch by lr_decay^epoch (1: none) and divided per update by
        (1 + n · update_decay), n counting the updates of both phases (``update_decay`` 5e-6, the code's).
    momentum : 0 (plain SGD).
    repair_interval : D's and E's norm bounds are re-imposed after every ``repair_interval``-th update (the
        first included; 5 in the code), C's after every update.
    patience, min_epochs : None (the code's): no early stopping — every discriminative epoch runs, and the
        saved snapshot with the lowest validation error is kept (module docstring).  A number: phase 2 stops
        once the validation error has not improved for ``patience`` epochs, never before epoch ``min_epochs``,
        and the best epoch's parameters are kept (the paper's text: early stopping on the validation images).
    snapshot_every : with ``patience=None``, the parameters are saved after discriminative epochs 0,
        snapshot_every, 2·snapshot_every, … below ``discriminative_epochs`` (50 in the code).
    """

    unsupervised_epochs: int = 100
    discriminative_epochs: int = 1000
    batch_size: int = 10
    lr: float = 0.25
    lr_decay: float = 1.0
    update_decay: float = 5e-6
    momentum: float = 0.0
    repair_interval: int = 5
    patience: int = None
    min_epochs: int = 0
    snapshot_every: int = 50

    def __post_init__(self):
        check_positive_int(self.unsupervised_epochs, "unsupervised_epochs")
        check_positive_int(self.discriminative_epochs, "discriminative_epochs")
        check_positive_int(self.batch_size, "batch_size")
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        check_positive_int(self.snapshot_every, "snapshot_every")
        check_int(self.min_epochs, "min_epochs", 0)
        check_number(self.lr, "lr", low=0.0, low_open=True)
        check_number(self.lr_decay, "lr_decay", low=0.0, high=1.0, low_open=True)
        check_number(self.momentum, "momentum", low=0.0, high=1.0, high_open=True)
        check_number(self.update_decay, "update_decay", low=0.0)
        check_positive_int(self.repair_interval, "repair_interval")

    def to_dict(self):
        return asdict(self)


def _optimizer(model, protocol, start_update=0):
    """SGD whose rate for parameter k at update n is lr · lr_decay^epoch / (1 + n · update_decay) /
    ``model.lr_scale()[k]`` (SGD's lr_scale multiplies); n starts at ``start_update``."""
    divisors = model.lr_scale()
    return SGD(model.params, lr=exponential_decay(protocol.lr, protocol.lr_decay), momentum=protocol.momentum,
               lr_scale={k: 1.0 / d for k, d in divisors.items()}, update_decay=protocol.update_decay,
               start_update=start_update)


def _projector(optimizer, interval):
    """The Trainer's ``after_step``: C's bound after every update, D's and E's after the 1st, (1 + interval)-th, …
    update, counted by the optimiser over both phases (the code's ``repair_counter``), so a resumed run projects
    at the same updates as an uninterrupted one."""
    def project(model):
        due = (optimizer.updates - 1) % interval == 0
        model.project_norms(("D", "E", "C") if due else ("C",))
    return project


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
    x_valid, y_valid : the held-out images that pick phase 2's parameters (the paper: 10 000 MNIST images).
    protocol : DrSAEProtocol (default: the author's code's).
    rng : numpy Generator or int seed; the minibatch order of both phases is drawn from it.
    checkpoint_dir : folder for the per-epoch checkpoints, the snapshots, ``final.npz`` and ``model.npz``; None
        trains without files (then, with ``patience=None``, the snapshots are kept in memory).
    callbacks : callables ``(trainer, epoch)`` run after every epoch of both phases (``Trainer``'s callbacks),
        e.g. a time budget that raises to stop; the checkpoint of that epoch is already written.
    verbose : print the monitors each epoch.

    Returns
    -------
    dict ``unsupervised`` and ``discriminative`` (each a ``History``: loss, lr, time per epoch and the
    monitors ``valid_loss`` = L^U on x_valid, resp. ``valid_error``), ``best_epoch`` (the phase-2 epoch whose
    parameters the model now holds), ``snapshots`` ({epoch: validation error} of the saved snapshots; empty
    with a ``patience``) and ``finished`` (True).
    """
    from .model import DrSAE

    if not isinstance(model, DrSAE):
        raise TypeError(f"model must be a DrSAE, got {type(model).__name__}")
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

    common = dict(batch_size=protocol.batch_size, callbacks=callbacks, verbose=verbose)
    # phase 1: the labels are not used (the step ignores them; the Trainer still checks them)
    opt1 = _optimizer(model, protocol)
    unsup = Trainer(model, opt1, step=lambda xb, yb: model.loss_and_grads(xb),
                    monitors={"valid_loss": lambda m: m.sparse_coding_loss(x_valid)},
                    after_step=[_projector(opt1, protocol.repair_interval)],
                    checkpoint=None if folder is None else folder / "unsupervised.npz", rng=seeds[0], **common)

    # phase 2: fresh velocity, the update count going on from phase 1 (the rate's decay is not restarted), the
    # classifier term on; early stopping on the validation error, or (the code's) every epoch with snapshots
    snapshots = {}  # epoch → saved parameters (copies) when training without files
    author = protocol.patience is None

    def snapshot(trainer, epoch):
        if author and epoch % protocol.snapshot_every == 0 and epoch < protocol.discriminative_epochs:
            _save_snapshot(model, folder, epoch, snapshots)

    def phase_2(start_update):
        stopping = None if author else EarlyStopping("valid_error", patience=protocol.patience,
                                                     min_epochs=protocol.min_epochs)
        opt2 = _optimizer(model, protocol, start_update=start_update)
        return stopping, Trainer(model, opt2, monitors={"valid_error": lambda m: error_rate(m, x_valid, y_valid)},
                                 early_stopping=stopping, after_step=[_projector(opt2, protocol.repair_interval)],
                                 checkpoint=None if folder is None else folder / "discriminative.npz", rng=seeds[1],
                                 **dict(common, callbacks=[snapshot, *callbacks]))  # the snapshot before a budget stop

    # both phases' checkpoints are checked before either is loaded: a corrupt phase-2 file is refused before
    # phase 1's is read into the model
    for trainer in (unsup, phase_2(0)[1]):
        if trainer.checkpoint is not None and trainer.checkpoint.is_file():
            trainer.check_checkpoint()
    unsup.fit(x_train, y_train, epochs=protocol.unsupervised_epochs, resume=True)
    if author and (folder is None or not _snapshot_path(folder, 0).is_file()):
        _save_snapshot(model, folder, 0, snapshots)  # the model holds phase 1's end: "after epoch 0" of phase 2
    stopping, disc = phase_2(opt1.updates)
    disc.fit(x_train, y_train, epochs=protocol.discriminative_epochs, resume=True)
    if author:
        if folder is not None:
            save_model(model, folder / "final.npz")
        best_epoch, errors = _select_snapshot(model, folder, snapshots, protocol, x_valid, y_valid)
    else:
        best_epoch, errors = stopping.best_epoch, {}
    result = {"unsupervised": unsup.history, "discriminative": disc.history, "best_epoch": best_epoch,
              "snapshots": errors, "finished": True}
    if final is not None:
        save_model(model, final, {"__histories__": np.array(_histories_json(result))})
    return result


def _snapshot_path(folder, epoch):
    return Path(folder) / f"snapshot-{epoch:04d}.npz"


def _save_snapshot(model, folder, epoch, memory):
    """The parameters after discriminative epoch ``epoch``: a file in ``folder`` (atomic), or a copy in ``memory``."""
    if folder is None:
        memory[epoch] = {k: p.copy() for k, p in model.params.items()}
    else:
        save_model(model, _snapshot_path(folder, epoch))


def _select_snapshot(model, folder, memory, protocol, x_valid, y_valid):
    """Load into ``model`` the snapshot with the lowest validation error (ties: the earlier); return its epoch and
    ``{epoch: validation error}`` of every snapshot.  A snapshot the protocol should have written but that is
    missing (a process killed between an epoch's checkpoint and its snapshot) is an error, not silently skipped."""
    def snapshot_params(epoch):
        if folder is None:
            return memory[epoch]
        path = _snapshot_path(folder, epoch)
        if not path.is_file():
            raise ValueError(f"checkpoint_dir: the snapshot after discriminative epoch {epoch} ({path}) is "
                             f"missing; the parameters of that epoch cannot be recovered (rerun the model)")
        saved = load_model(path)
        if saved.config() != model.config():
            raise ValueError(f"checkpoint_dir: {path} holds a model of another configuration")
        return saved.params

    def load(values):
        for k, p in model.params.items():
            p[...] = values[k]

    epochs = range(0, protocol.discriminative_epochs, protocol.snapshot_every)
    every = {epoch: snapshot_params(epoch) for epoch in epochs}  # all read and checked before any is evaluated
    errors = {}
    for epoch, values in every.items():
        load(values)
        errors[epoch] = error_rate(model, x_valid, y_valid)
    best = min(errors, key=lambda e: (errors[e], e))
    load(every[best])
    return best, errors


def _histories_json(result):
    import json

    return json.dumps({"unsupervised": result["unsupervised"].records,
                       "discriminative": result["discriminative"].records, "best_epoch": result["best_epoch"],
                       "snapshots": {str(e): err for e, err in result["snapshots"].items()}})


def _load_finished(model, path):
    """Copy a finished model's parameters into ``model`` and return its histories (no training)."""
    arrays = read_npz(path, "checkpoint")  # read once, checked whole, then copied in
    saved = load_model(path, arrays)
    if saved.config() != model.config():
        raise ValueError(f"checkpoint_dir: {path} holds a model of another configuration ({saved.config()})")
    record = read_meta(arrays, path, "__histories__")
    best_epoch = record.get("best_epoch")
    if isinstance(best_epoch, bool) or not isinstance(best_epoch, int):
        raise ValueError(f"path: {path} has a malformed __histories__ entry (best_epoch {best_epoch!r})")
    histories = {phase: History(check_history(record.get(phase), path)) for phase in ("unsupervised",
                                                                                       "discriminative")}
    snapshots = record.get("snapshots", {})  # (files written before snapshots existed have none)
    if not isinstance(snapshots, dict) or not all(
            k.isdigit() and isinstance(v, float) and 0.0 <= v <= 1.0 for k, v in snapshots.items()):
        raise ValueError(f"path: {path} has a malformed __histories__ entry (snapshots)")
    for k, p in model.params.items():
        p[...] = saved.params[k]
    return dict(histories, best_epoch=best_epoch, snapshots={int(k): v for k, v in snapshots.items()},
                finished=True)
