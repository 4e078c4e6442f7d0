"""One training loop for every model: the Trainer, its History, and early stopping.

The trainer knows a model only through ``model.params`` (a dict name → array, updated in place) and a
gradient function ``step(x_batch, y_batch) → (loss, grads)`` whose ``grads`` has the same keys. For an
autoencoder, MLP or DrSAE that function is ``model.loss_and_grads``; for an RBM it is a
``ContrastiveDivergence`` estimator. Nothing here is specific to one model. The optimiser and schedules are in
``optim.py``, the file formats in ``checkpoint.py``.
"""
import json
import math
import time
from pathlib import Path

import numpy as np

from .checkpoint import (check_history, check_params, check_same_config, generator_state_fits, read_meta, read_npz,
                         save_model)
from .data import minibatches
from .validation import as_generator, check_array, check_int, check_labels, check_number, check_positive_int


class TrainingDiverged(RuntimeError):
    """Raised when the loss, a gradient or a parameter becomes NaN/inf; the model keeps its last good parameters."""


def _all_finite(arrays):
    """Whether every array is finite: one summing pass each (NaN and ±inf propagate into the sum), no copies."""
    return all(math.isfinite(float(a.sum())) for a in arrays)


# ---------------------------------------------------------------------------------------------- history
class BudgetExhausted(RuntimeError):
    """Raised by ``TimeBudget`` after an epoch once the budget is spent (that epoch's checkpoint is written)."""


class TimeBudget:
    """A Trainer callback that stops a long run between epochs after ``seconds`` of wall time (from creation).

    Raise-and-resume: the Trainer writes its checkpoint before it calls the callbacks, so the epoch just
    finished is on disk and rerunning continues from it. This is how a long sweep is split into invocations
    of bounded length (the CLI's ``--hours``): every running unit stops after the epoch in which time runs out.
    """

    def __init__(self, seconds):
        self.seconds = check_number(seconds, "seconds", low=0.0, low_open=True)
        self._clock = time.perf_counter
        self.start = self._clock()

    @classmethod
    def until(cls, deadline):
        """The budget that runs out at ``deadline`` (a ``time.time()`` value); at least one epoch if it has
        passed already (the caller started the work before it)."""
        return cls(max(deadline - time.time(), 1e-3))

    def __call__(self, trainer, epoch):
        if self._clock() - self.start > self.seconds:
            raise BudgetExhausted(f"time budget of {self.seconds:.0f} s spent after epoch {epoch}; rerun to resume")


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

    mode "min" for errors and losses, "max" for accuracies and likelihoods. ``min_epochs``: never stop before
    that many epochs (a net that sits on a plateau before it starts to learn would otherwise be stopped there;
    the best epoch is still the one restored).
    """

    def __init__(self, monitor="valid_error", patience=10, mode="min", min_delta=0.0, min_epochs=0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.mode = monitor, mode
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_number(min_delta, "min_delta", low=0.0)
        self.min_epochs = check_int(min_epochs, "min_epochs", 0)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.best_params = None

    def update(self, epoch, value, params):
        """Record ``value`` for ``epoch``; return True when training should stop."""
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = value, epoch
            self.best_params = {k: v.copy() for k, v in params.items()}
        return self.stopped(epoch)

    def stopped(self, epoch):
        """True when ``epoch`` is ``patience`` or more epochs past the best one and at least ``min_epochs``
        (training is over)."""
        return epoch >= self.min_epochs and epoch - self.best_epoch >= self.patience

    def restore(self, params):
        if self.best_params is not None:
            for k, v in self.best_params.items():
                params[k][...] = v


# ---------------------------------------------------------------------------------------------- the loop
def _check_trainer_arguments(model, optimizer, step, monitors, early_stopping, callbacks, after_step):
    """The Trainer's arguments checked before anything is built: a wrong type is a TypeError naming the argument
    here, not an AttributeError (or a TypeError after an epoch of training) later."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not all(isinstance(p, np.ndarray) for p in params.values()):
        raise TypeError(f"model must be one of the lab's models (a params dict name → array), got "
                        f"{type(model).__name__}")
    missing = [m for m in ("step", "set_epoch", "state", "load_state", "check_state")
               if not callable(getattr(optimizer, m, None))]
    if missing:
        raise TypeError(f"optimizer must be an optimiser of optim.py (e.g. SGD(model.params, lr=0.1)), got "
                        f"{type(optimizer).__name__} (no {', '.join(missing)})")
    if step is None and not callable(getattr(model, "loss_and_grads", None)):
        raise TypeError(f"step is required: a {type(model).__name__} has no loss_and_grads (an RBM trains with "
                        "step=ContrastiveDivergence(rbm))")
    if step is not None and not callable(step):
        raise TypeError(f"step must be callable (x_batch, y_batch) → (loss, grads), got {type(step).__name__}")
    if monitors is not None and (not isinstance(monitors, dict) or not all(callable(f) for f in monitors.values())):
        raise TypeError("monitors must be a dict name → callable(model) → float")
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}")
    for name, fns in (("callbacks", callbacks), ("after_step", after_step)):
        if isinstance(fns, (str, bytes)) or not hasattr(fns, "__iter__") or not all(callable(f) for f in fns):
            raise TypeError(f"{name} must be a list of callables, got {fns!r}")


def _checkpoint_path(checkpoint):
    """``checkpoint`` as a Path of a file that can be written, or a TypeError/ValueError naming it (a folder, or
    a path under a file, must be refused now, not when the first epoch's checkpoint is written)."""
    if isinstance(checkpoint, bool) or not isinstance(checkpoint, (str, bytes, Path)) and not hasattr(
            checkpoint, "__fspath__"):
        raise TypeError(f"checkpoint must be a file path, got {type(checkpoint).__name__}")
    path = Path(checkpoint.decode() if isinstance(checkpoint, bytes) else checkpoint)
    if path.is_dir():
        raise ValueError(f"checkpoint: {path} is a folder; give a file path such as {path / 'checkpoint.npz'}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"checkpoint: {parent} is a file, so {path} cannot be written")
            break
    return path


class Trainer:
    """Minibatch training of any model exposing ``params``.

    Parameters
    ----------
    model : object with ``params`` (dict name → array, updated in place) and ``config()``.
    optimizer : ``optim.SGD`` over ``model.params``; its rate and momentum may be schedules of the epoch. An
        optimiser with ``takes_closure = True`` (conjugate gradients) gets ``step(closure)`` instead of the
        gradients, ``closure() → (loss, grads)`` evaluating the batch at the current parameters.
    step : callable ``(x_batch, y_batch) → (loss, grads)``; default ``model.loss_and_grads``. If it has
        ``set_epoch(epoch)`` (e.g. CD's k schedule) the trainer calls it before each epoch; if it has
        ``state()`` / ``load_state(arrays)`` (PCD's fantasy particles) that state goes into the checkpoint.
    batch_size : int.
    monitors : dict name → (model ↦ float), evaluated after each epoch and stored in the history.
    early_stopping : EarlyStopping, optional (its monitor must be one of ``monitors``).
    callbacks : callables ``(trainer, epoch) → None`` run after each epoch (e.g. save a figure every N).
        ``after_step`` : callables ``(model) → None`` run after every update (e.g. DrSAE's norm bounds).
    checkpoint : path of an .npz written atomically after every epoch; with ``resume=True`` in ``fit``
        training continues from it exactly (parameters, optimiser velocity, estimator state, history,
        random states).
    rng : numpy Generator or seed for the minibatch order.
    verbose : show a tqdm progress bar and print the monitors each epoch.
    """

    def __init__(self, model, optimizer, step=None, batch_size=100, monitors=None, early_stopping=None,
                 callbacks=(), after_step=(), checkpoint=None, rng=None, verbose=True):
        _check_trainer_arguments(model, optimizer, step, monitors, early_stopping, callbacks, after_step)
        self.model = model
        self.optimizer = optimizer
        self.step = step if step is not None else model.loss_and_grads
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.monitors = dict(monitors or {})
        self.early_stopping = early_stopping
        if early_stopping is not None and early_stopping.monitor not in self.monitors:
            raise ValueError(f"early_stopping monitors {early_stopping.monitor!r}, which is not in monitors "
                             f"{sorted(self.monitors)}")
        self.callbacks = list(callbacks)
        self.after_step = list(after_step)
        self.checkpoint = None if checkpoint is None else _checkpoint_path(checkpoint)
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

    def _step_state(self):
        state = getattr(self.step, "state", None)
        return state() if callable(state) else {}

    def save_checkpoint(self, path=None):
        """Write parameters, optimiser and estimator state, history and random states (atomic, finite only)."""
        path = Path(path or self.checkpoint)
        extra = self.optimizer.state()
        extra.update({f"step/{k}": v for k, v in self._step_state().items()})
        extra["__trainer__"] = np.array(json.dumps({
            "epoch": self.epoch, "history": self.history.records, "rng": self._random_states(),
            "early_stopping": None if self.early_stopping is None else
            {"best": self.early_stopping.best, "best_epoch": self.early_stopping.best_epoch},
        }))
        if self.early_stopping is not None and self.early_stopping.best_params is not None:
            extra.update({f"best/{k}": v for k, v in self.early_stopping.best_params.items()})
        save_model(self.model, path, extra)

    def _check_checkpoint(self, arrays, path):
        """Everything ``load_checkpoint`` will write, checked first: returns the parsed trainer state.

        The class, the configuration (``config()``: a ReLU MLP's file never resumes a sigmoid MLP), the
        parameters, the optimiser's velocity, the estimator's state (PCD's chains), the epoch, the history,
        the generator states and the early-stopping state with its ``best/*`` parameters: each of its kind,
        shape and dtype, and finite.
        """
        meta = read_meta(arrays, path)
        if str(meta.get("class", "")).rpartition(".")[2] != type(self.model).__name__:
            raise ValueError(f"path: {path} holds a {meta.get('class')}, not a {type(self.model).__name__}")
        check_same_config(meta, self.model, path)
        check_params(arrays, self.model.params, path)
        try:
            self.optimizer.check_state(arrays)
        except ValueError as err:  # (the optimiser does not know the file's name)
            raise ValueError(f"path: {path}: {str(err).removeprefix('path: ')}") from err
        state = read_meta(arrays, path, "__trainer__")
        try:
            epoch = state["epoch"]
            history = History(check_history(state["history"], path))
            rngs = state["rng"]
            if not isinstance(rngs, dict):
                raise TypeError("rng is not a dict")
            bad = [key for key in rngs if not generator_state_fits(rngs[key], self.rng)]
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"path: {path} has malformed trainer state ({err})") from err
        if "model" in rngs and not isinstance(getattr(self.model, "rng", None), np.random.Generator):
            bad.append("model")  # a generator for a model that has none: another kind of model's file
        if bad or "trainer" not in rngs:
            raise ValueError(f"path: {path} has malformed trainer state (generator state {bad or ['trainer']})")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"path: {path} has a malformed epoch count {epoch!r}")
        check_state = getattr(self.step, "check_state", None)
        if callable(check_state):
            check_state({k[len("step/"):]: v for k, v in arrays.items() if k.startswith("step/")}, path)
        stopping = state.get("early_stopping")
        if self.early_stopping is not None and stopping is not None:
            self._check_stopping_state(stopping, epoch, arrays, path)
        return epoch, history, rngs, stopping

    def _check_stopping_state(self, stopping, epoch, arrays, path):
        """The early-stopping record (best value, best epoch) and its ``best/*`` parameters, checked."""
        best, best_epoch = (stopping.get("best"), stopping.get("best_epoch")) if isinstance(stopping, dict) else (
            None, None)
        if (isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best)
                or isinstance(best_epoch, bool) or not isinstance(best_epoch, int) or not -1 <= best_epoch <= epoch):
            raise ValueError(f"path: {path} has a malformed early-stopping state {stopping!r}")
        if best_epoch >= 0 or any(k.startswith("best/") for k in arrays):
            check_params(arrays, self.model.params, path, prefix="best/")

    def check_checkpoint(self, path=None):
        """Check the checkpoint at ``path`` exactly as ``load_checkpoint`` would, writing nothing (a ValueError if
        it would be refused): a caller resuming several trainers checks every file before loading any."""
        path = Path(path or self.checkpoint)
        self._check_checkpoint(read_npz(path, "checkpoint"), path)

    def load_checkpoint(self, path=None):
        """Restore a checkpoint written by ``save_checkpoint``. Everything is checked before anything is
        written: a refused file (another model's, another shape's, a plain model file) leaves all unchanged."""
        path = Path(path or self.checkpoint)
        arrays = read_npz(path, "checkpoint")
        epoch, history, rngs, stopping = self._check_checkpoint(arrays, path)
        for k, p in self.model.params.items():
            p[...] = arrays[f"param/{k}"]
        self.optimizer.load_state(arrays)
        load_state = getattr(self.step, "load_state", None)
        if callable(load_state):
            load_state({k[len("step/"):]: v for k, v in arrays.items() if k.startswith("step/")})
        self.epoch, self.history = epoch, history
        self.rng.bit_generator.state = rngs["trainer"]
        if "model" in rngs:
            self.model.rng.bit_generator.state = rngs["model"]
        if self.early_stopping is not None and stopping is not None:
            self.early_stopping.best = float(stopping["best"])
            self.early_stopping.best_epoch = stopping["best_epoch"]
            if all(f"best/{k}" in arrays for k in self.model.params):
                self.early_stopping.best_params = {k: arrays[f"best/{k}"].astype(p.dtype)
                                                   for k, p in self.model.params.items()}

    # -- the loop, step by step ----------------------------------------------------------------
    def _check_data(self, x, y):
        """The whole training set, checked once before the first update (a NaN row in the middle of the data
        must not surface after half an epoch of updates)."""
        check_x = getattr(self.model, "check_x", None) or getattr(self.model, "check_v", None)
        x = check_x(x) if check_x is not None else check_array(x, "x")
        if y is not None or getattr(self.model, "n_classes", None) is not None:
            y = check_labels(y, "y", getattr(self.model, "n_classes", None), n_samples=len(x),
                             allow_unlabelled=not hasattr(self.model, "n_classes"))
        return x, y

    def _start_epoch(self, epoch):
        self.optimizer.set_epoch(epoch)
        set_epoch = getattr(self.step, "set_epoch", None)
        if callable(set_epoch):
            set_epoch(epoch)

    def _diverged(self, epoch, last_good, what):
        for k, v in last_good.items():
            self.model.params[k][...] = v
        return TrainingDiverged(
            f"training diverged in epoch {epoch + 1}: {what} became NaN/inf. Parameters were reset to their "
            f"values at the start of that epoch (the last good ones); try a smaller learning rate "
            f"(lr = {self.optimizer.lr:g}).")

    def _run_epoch(self, x, y, epoch, epochs):
        """One pass over shuffled minibatches; returns the mean loss. Every step is checked for divergence."""
        from tqdm.auto import tqdm

        params = self.model.params
        last_good = {k: v.copy() for k, v in params.items()}
        total, count = 0.0, 0
        bar = tqdm(minibatches(x, y, self.batch_size, rng=self.rng), total=math.ceil(len(x) / self.batch_size),
                   desc=f"epoch {epoch + 1}/{epochs}", leave=False, disable=not self.verbose)
        # A line-search optimiser (``published.ConjugateGradient``) evaluates the batch's loss itself, as often
        # as its searches need: it takes the closure and returns the first evaluation, (loss, grads).
        takes_closure = getattr(self.optimizer, "takes_closure", False)
        for xb, yb in bar:
            if takes_closure:
                loss, grads = self.optimizer.step(lambda xb=xb, yb=yb: self.step(xb, yb))
            else:
                loss, grads = self.step(xb, yb)
            if not (math.isfinite(loss) and _all_finite(grads.values())):
                raise self._diverged(epoch, last_good, f"the loss or a gradient (loss = {loss})")
            if not takes_closure:
                self.optimizer.step(grads, n_rows=len(xb))  # (the batch size only picks NumPy or kernel)
            for fn in self.after_step:
                fn(self.model)
            if not _all_finite(params.values()):  # a finite but huge step can overflow the weights
                raise self._diverged(epoch, last_good, "a parameter")
            total += loss * len(xb)
            count += len(xb)
        bar.close()
        return total / count

    def _record(self, epoch, mean_loss, seconds):
        # the rate at the epoch's end (an optimiser with a per-update decay has moved on from its epoch rate)
        lr = getattr(self.optimizer, "current_lr", self.optimizer.lr)
        record = {"epoch": epoch + 1, "loss": mean_loss, "lr": lr, "time": seconds}
        record.update({name: fn(self.model) for name, fn in self.monitors.items()})
        self.history.append(**record)
        return record

    def _print(self, record):
        if self.verbose:
            # (a monitor evaluated only every few epochs records NaN in between: nothing to print)
            print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()
                            if not (isinstance(v, float) and math.isnan(v))))

    def fit(self, x, y=None, epochs=10, resume=False):
        """Train for ``epochs`` epochs in total (counting those done before a resume); return the History.

        Raises ``TrainingDiverged`` if a loss, gradient or parameter becomes non-finite: the parameters are
        then reset to those at the start of the failing epoch (the last ones known good) and the last good
        checkpoint is left untouched on disk.
        """
        epochs = check_positive_int(epochs, "epochs")
        x, y = self._check_data(x, y)
        stop = False
        if resume and self.checkpoint is not None and self.checkpoint.is_file():
            self.load_checkpoint()
            if self.verbose:
                print(f"resumed from {self.checkpoint} after epoch {self.epoch}")
            # a checkpoint of the epoch that triggered early stopping: that run was over, train no further
            stop = self.early_stopping is not None and self.early_stopping.stopped(self.epoch)
        while self.epoch < epochs and not stop:
            epoch = self.epoch
            self._start_epoch(epoch)
            start = time.perf_counter()
            try:
                mean_loss = self._run_epoch(x, y, epoch, epochs)
            except KeyboardInterrupt as err:  # Ctrl-C: the CLI says which epoch is on disk (innermost trainer's)
                if not hasattr(err, "epoch"):
                    err.epoch, err.checkpoint = self.epoch, self.checkpoint
                raise
            record = self._record(epoch, mean_loss, time.perf_counter() - start)
            self.epoch = epoch + 1
            stop = self.early_stopping is not None and self.early_stopping.update(
                self.epoch, record[self.early_stopping.monitor], self.model.params)
            if self.checkpoint is not None:
                self.save_checkpoint()
            self._print(record)
            for callback in self.callbacks:
                callback(self, self.epoch)
            if stop:
                if self.verbose:
                    print(f"early stopping: no improvement of {self.early_stopping.monitor} for "
                          f"{self.early_stopping.patience} epochs; restoring epoch {self.early_stopping.best_epoch}")
                break
        if self.early_stopping is not None:
            self.early_stopping.restore(self.model.params)
        return self.history
