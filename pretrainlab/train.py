"""One training loop for every model: SGD with momentum, schedules, history, early stopping, checkpoints.

The trainer knows a model only through ``model.params`` (a dict name → array, updated in place) and a
gradient function ``step(x_batch, y_batch) → (loss, grads)`` whose ``grads`` has the same keys. For an
autoencoder or MLP that function is ``model.loss_and_grads``; for an RBM it is a
``ContrastiveDivergence`` estimator. Nothing here is specific to one model.
"""
import importlib
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from . import kernels
from .data import minibatches
from .validation import as_generator, check_positive_int


class TrainingDiverged(RuntimeError):
    """Raised when the loss or a gradient becomes NaN/inf; the model keeps its last good parameters."""


# ---------------------------------------------------------------------------------------------- optimiser
class SGD:
    """Stochastic gradient descent with classical momentum and L2 weight decay.

        velocity ← momentum · velocity − lr · (grad + weight_decay · θ)
        θ        ← θ + velocity

    Weight decay is applied to matrices only (arrays with ndim ≥ 2), never to biases — the usual
    convention (Hinton 2010, §9). ``lr`` and ``momentum`` are plain attributes, so schedules can set them
    between epochs. ``lr_scale`` multiplies the rate per parameter name (e.g. to slow one matrix).
    """

    def __init__(self, params, lr=0.1, momentum=0.0, weight_decay=0.0, lr_scale=None):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be ≥ 0, got {weight_decay}")
        self.params = params
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.lr_scale = dict(lr_scale or {})
        unknown = set(self.lr_scale) - set(params)
        if unknown:
            raise ValueError(f"lr_scale names unknown parameters {sorted(unknown)}")
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def step(self, grads):
        """Apply one update in place from ``grads`` (a dict with the keys of ``params``).

        The update is memory-bound, so where ``kernels.sgd_step`` can run (contiguous arrays of one
        dtype) it does the same arithmetic in one pass; ``kernels.set_backend("numpy")`` keeps this loop.
        """
        for name, p in self.params.items():
            g = grads[name]
            v = self.velocity[name]
            lr = self.lr * self.lr_scale.get(name, 1.0)
            decay = self.weight_decay if p.ndim >= 2 else 0.0
            if (kernels.use_kernel() and p.dtype == g.dtype == v.dtype
                    and p.flags.c_contiguous and g.flags.c_contiguous and v.flags.c_contiguous):
                t = p.dtype.type
                kernels.sgd_step(p.reshape(-1), v.reshape(-1), g.reshape(-1), t(lr), t(self.momentum), t(decay))
                continue
            if decay:
                g = g + decay * p
            v *= self.momentum
            v -= lr * g
            p += v

    def state(self):
        return {f"velocity/{k}": v for k, v in self.velocity.items()}

    def load_state(self, arrays):
        for k in self.velocity:
            self.velocity[k][...] = arrays[f"velocity/{k}"]


# ---------------------------------------------------------------------------------------------- schedules
def exponential_decay(initial, rate):
    """Schedule epoch ↦ initial · rate^epoch (epochs count from 0)."""
    return lambda epoch: initial * rate ** epoch


def step_change(before, after, at_epoch):
    """Schedule epoch ↦ ``before`` for epochs < at_epoch, then ``after`` (e.g. momentum 0.5 → 0.9, Hinton 2010 §9)."""
    return lambda epoch: before if epoch < at_epoch else after


# ---------------------------------------------------------------------------------------------- history
class History:
    """Per-epoch record of every monitored quantity: ``history["loss"]`` is a list, one entry per epoch."""

    def __init__(self, records=None):
        self.records = {k: list(v) for k, v in (records or {}).items()}

    def append(self, **values):
        for k, v in values.items():
            self.records.setdefault(k, []).append(float(v))

    def __getitem__(self, key):
        return self.records[key]

    def __contains__(self, key):
        return key in self.records

    def keys(self):
        return self.records.keys()

    def __len__(self):
        return len(self.records.get("epoch", []))

    def last(self):
        """The most recent epoch's values as a dict."""
        return {k: v[-1] for k, v in self.records.items() if v}

    def to_json(self):
        return json.dumps(self.records)


# ---------------------------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs and restore the best parameters.

    mode "min" for errors and losses, "max" for accuracies and likelihoods.
    """

    def __init__(self, monitor="valid_error", patience=10, mode="min", min_delta=0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.best_params = None

    def update(self, epoch, value, params):
        """Record ``value`` for ``epoch``; return True when training should stop."""
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = value, epoch
            self.best_params = {k: v.copy() for k, v in params.items()}
        return epoch - self.best_epoch >= self.patience

    def restore(self, params):
        if self.best_params is not None:
            for k, v in self.best_params.items():
                params[k][...] = v


# ---------------------------------------------------------------------------------------------- checkpoints
def _atomic_savez(path, arrays):
    """Write an .npz next to ``path`` and rename it into place: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_model(model, path, extra=None):
    """Save ``model.params`` and how to rebuild the model (its class and ``config()``) to ``path`` (.npz).

    ``extra`` maps further names to arrays (the trainer stores optimiser state and history there).
    The write is atomic.
    """
    cls = type(model)
    meta = {"class": f"{cls.__module__}.{cls.__qualname__}", "config": model.config()}
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    arrays["__meta__"] = np.array(json.dumps(meta))
    arrays.update(extra or {})
    _atomic_savez(path, arrays)


def _read_checkpoint(path):
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:
        raise ValueError(f"path: cannot read checkpoint {path} ({err})") from err


def load_model(path):
    """Rebuild a model saved by ``save_model``: import its class, construct it from its config, copy the params."""
    arrays = _read_checkpoint(path)
    if "__meta__" not in arrays:
        raise ValueError(f"path: {path} is not a pretrainlab checkpoint (no __meta__ entry)")
    meta = json.loads(str(arrays["__meta__"]))
    module_name, _, class_name = meta["class"].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    model = cls(**meta["config"])
    for k in model.params:
        model.params[k][...] = arrays[f"param/{k}"]
    return model


# ---------------------------------------------------------------------------------------------- the loop
class Trainer:
    """Minibatch training of any model exposing ``params``.

    Parameters
    ----------
    model : object with ``params`` (dict name → array, updated in place) and ``config()``.
    optimizer : SGD over ``model.params``.
    step : callable ``(x_batch, y_batch) → (loss, grads)``; default ``model.loss_and_grads``.
    batch_size : int.
    schedules : dict attribute → (epoch ↦ value), applied to the optimiser before each epoch,
        e.g. ``{"lr": exponential_decay(0.1, 0.98), "momentum": step_change(0.5, 0.9, 5)}``.
    monitors : dict name → (model ↦ float), evaluated after each epoch and stored in the history.
    early_stopping : EarlyStopping, optional (its monitor must be one of ``monitors``).
    callbacks : callables ``(trainer, epoch) → None`` run after each epoch (e.g. save a figure every N).
    checkpoint : path of an .npz written atomically after every epoch; with ``resume=True`` in ``fit``
        training continues from it (parameters, optimiser velocity, history, random states).
    rng : numpy Generator or seed for the minibatch order.
    verbose : show a tqdm progress bar and print the monitors each epoch.
    """

    def __init__(self, model, optimizer, step=None, batch_size=100, schedules=None, monitors=None,
                 early_stopping=None, callbacks=(), checkpoint=None, rng=None, verbose=True):
        self.model = model
        self.optimizer = optimizer
        self.step = step if step is not None else model.loss_and_grads
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.schedules = dict(schedules or {})
        for attr in self.schedules:
            if not hasattr(optimizer, attr):
                raise ValueError(f"schedules: the optimiser has no attribute {attr!r}")
        self.monitors = dict(monitors or {})
        self.early_stopping = early_stopping
        if early_stopping is not None and early_stopping.monitor not in self.monitors:
            raise ValueError(f"early_stopping monitors {early_stopping.monitor!r}, which is not in monitors "
                             f"{sorted(self.monitors)}")
        self.callbacks = list(callbacks)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.rng = as_generator(rng)
        self.verbose = verbose
        self.history = History()
        self.epoch = 0  # number of epochs completed

    # -- checkpoints ---------------------------------------------------------------------------
    def _random_states(self):
        states = {"trainer": self.rng.bit_generator.state}
        if isinstance(getattr(self.model, "rng", None), np.random.Generator):
            states["model"] = self.model.rng.bit_generator.state
        return states

    def save_checkpoint(self, path=None):
        path = Path(path or self.checkpoint)
        extra = self.optimizer.state()
        extra["__trainer__"] = np.array(json.dumps({
            "epoch": self.epoch, "history": self.history.records, "rng": self._random_states(),
            "early_stopping": None if self.early_stopping is None else
            {"best": self.early_stopping.best, "best_epoch": self.early_stopping.best_epoch},
        }))
        if self.early_stopping is not None and self.early_stopping.best_params is not None:
            extra.update({f"best/{k}": v for k, v in self.early_stopping.best_params.items()})
        save_model(self.model, path, extra)

    def load_checkpoint(self, path=None):
        arrays = _read_checkpoint(path or self.checkpoint)
        for k in self.model.params:
            self.model.params[k][...] = arrays[f"param/{k}"]
        self.optimizer.load_state(arrays)
        state = json.loads(str(arrays["__trainer__"]))
        self.epoch = state["epoch"]
        self.history = History(state["history"])
        self.rng.bit_generator.state = state["rng"]["trainer"]
        if "model" in state["rng"]:
            self.model.rng.bit_generator.state = state["rng"]["model"]
        if self.early_stopping is not None and state["early_stopping"] is not None:
            self.early_stopping.best = state["early_stopping"]["best"]
            self.early_stopping.best_epoch = state["early_stopping"]["best_epoch"]
            if any(k.startswith("best/") for k in arrays):
                self.early_stopping.best_params = {k: arrays[f"best/{k}"].copy() for k in self.model.params}

    # -- the loop ------------------------------------------------------------------------------
    def fit(self, x, y=None, epochs=10, resume=False):
        """Train for ``epochs`` epochs in total (counting those done before a resume); return the History.

        Raises ``TrainingDiverged`` if a loss or gradient becomes non-finite: the parameters are then
        reset to those at the start of the failing epoch (the last ones known good) and, if a checkpoint
        path is set, the last good checkpoint is left untouched on disk.
        """
        from tqdm.auto import tqdm

        epochs = check_positive_int(epochs, "epochs")
        if resume and self.checkpoint is not None and self.checkpoint.is_file():
            self.load_checkpoint()
            if self.verbose:
                print(f"resumed from {self.checkpoint} after epoch {self.epoch}")
        params = self.model.params
        n_batches = math.ceil(len(x) / self.batch_size)
        while self.epoch < epochs:
            epoch = self.epoch
            for attr, schedule in self.schedules.items():
                setattr(self.optimizer, attr, schedule(epoch))
            last_good = {k: v.copy() for k, v in params.items()}
            start = time.perf_counter()
            total, count = 0.0, 0
            batches = minibatches(x, y, self.batch_size, rng=self.rng)
            bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                       disable=not self.verbose)
            for xb, yb in bar:
                loss, grads = self.step(xb, yb)
                if not (math.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())):
                    for k, v in last_good.items():
                        params[k][...] = v
                    raise TrainingDiverged(
                        f"training diverged in epoch {epoch + 1}: the loss or a gradient became NaN/inf "
                        f"(loss = {loss}). Parameters were reset to their values at the start of that epoch; "
                        f"try a smaller learning rate (lr = {self.optimizer.lr:g}).")
                self.optimizer.step(grads)
                total += loss * len(xb)
                count += len(xb)
            bar.close()
            record = {"epoch": epoch + 1, "loss": total / count, "lr": self.optimizer.lr,
                      "time": time.perf_counter() - start}
            record.update({name: fn(self.model) for name, fn in self.monitors.items()})
            self.history.append(**record)
            self.epoch = epoch + 1
            stop = False
            if self.early_stopping is not None:
                stop = self.early_stopping.update(self.epoch, record[self.early_stopping.monitor], params)
            if self.checkpoint is not None:
                self.save_checkpoint()
            if self.verbose:
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
            for callback in self.callbacks:
                callback(self, self.epoch)
            if stop:
                if self.verbose:
                    print(f"early stopping: no improvement of {self.early_stopping.monitor} for "
                          f"{self.early_stopping.patience} epochs; restoring epoch {self.early_stopping.best_epoch}")
                break
        if self.early_stopping is not None:
            self.early_stopping.restore(params)
        return self.history
