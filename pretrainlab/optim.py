"""The optimiser and its schedules: momentum SGD whose rate and momentum are each stated once.

A rate is either a number or a *schedule* — a function epoch ↦ value (epochs count from 0). The trainer
calls ``SGD.set_epoch(epoch)`` before each epoch; ``SGD.lr`` and ``SGD.momentum`` then hold that epoch's
values. The same holds for anything else with a per-epoch value (``ContrastiveDivergence``'s k).

Penalties (weight decay included) are part of the objective (``penalties.py``), never of the optimiser.
"""
import math

import numpy as np

from . import kernels
from .validation import check_int, check_number, check_positive_int


def resolve(value, epoch, name="value", low=0.0, high=None, low_open=True):
    """``value(epoch)`` if it is a schedule, else ``value``; checked against its interval either way."""
    if callable(value):
        value = value(epoch)
    return check_number(value, name, low=low, high=high, low_open=low_open, high_open=True)


class SGD:
    """Stochastic gradient descent with classical momentum:

        velocity ← momentum · velocity − lr · grad
        θ        ← θ + velocity

    Parameters
    ----------
    params : dict name → array, updated in place.
    lr : float or schedule epoch ↦ float (> 0).
    momentum : float or schedule epoch ↦ float in [0, 1).
    lr_scale : dict name → factor multiplying the rate of one parameter (e.g. DrSAE divides a matrix's
        rate by how often it repeats in the unrolled network).
    update_decay : float ≥ 0, an inverse-time decay *per update* on top of the epoch's rate:

            lr_n = lr(epoch) / (1 + n · update_decay),   n = updates made before this one

        (Torch7's ``optim.sgd`` ``learningRateDecay``, which Rolfe's DrSAE code uses: ``clr = lr / (1 +
        nevals·lrd)``, recpool ``sgd_decayed_weight_decay.lua``).  The count ``updates`` is part of the
        optimiser's state (checkpoints carry it) and can start at ``start_update`` (a second phase that goes
        on counting from the first).  0 (default): no per-update decay.
    start_update : int ≥ 0, the initial value of ``updates``.

    Which path runs: by default the three NumPy lines of ``step``. The update is memory-bound, and
    ``kernels/dense.py``'s ``sgd_step`` does the same arithmetic in one pass over each array; under the "auto"
    backend it runs only when ``step`` is told the minibatch had at most ``kernels.SGD_KERNEL_MAX_BATCH`` rows
    (the ``Trainer`` tells it), the sizes where it was measured to save ≥ 10 % of a training step. "numba"
    forces it (where the arrays allow: one dtype, C-contiguous), "numpy" never runs it.
    """

    def __init__(self, params, lr=0.1, momentum=0.0, lr_scale=None, update_decay=0.0, start_update=0):
        if not isinstance(params, dict) or not params:
            raise TypeError("params must be a non-empty dict name → array (a model's params)")
        for name, p in params.items():  # an integer array would never move (each step rounds to 0 or fails)
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{name!r}] must be a float ndarray, got "
                                f"{getattr(p, 'dtype', type(p).__name__)}")
        self.update_decay = check_number(update_decay, "update_decay", low=0.0)
        self.updates = check_int(start_update, "start_update", 0)
        self.params = params
        self.lr_schedule, self.momentum_schedule = lr, momentum
        self.set_epoch(0)  # checks both
        self.lr_scale = dict(lr_scale or {})
        unknown = set(self.lr_scale) - set(params)
        if unknown:
            raise ValueError(f"lr_scale names unknown parameters {sorted(unknown)}")
        for name, factor in self.lr_scale.items():
            check_number(factor, f"lr_scale[{name!r}]", low=0.0, low_open=True)
        self.velocity = {name: np.zeros_like(p) for name, p in params.items()}

    def set_epoch(self, epoch):
        """Set ``lr`` and ``momentum`` to their values for ``epoch``."""
        self.lr = resolve(self.lr_schedule, epoch, "lr")
        self.momentum = resolve(self.momentum_schedule, epoch, "momentum", 0.0, 1.0, low_open=False)

    @property
    def current_lr(self):
        """The rate the next update uses: lr(epoch) / (1 + updates · update_decay)."""
        return self.lr / (1.0 + self.updates * self.update_decay)

    def step(self, grads, n_rows=None):
        """Apply one update in place from ``grads`` (a dict with the keys of ``params``).

        ``n_rows``: the rows of the minibatch the gradients came from, if known; it only chooses the path
        (the kernel for small batches under "auto", see the class docstring), never the arithmetic.
        """
        for name, p in self.params.items():  # every gradient checked before anything moves
            g = grads.get(name) if isinstance(grads, dict) else None
            if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype.kind not in "fiu":
                raise ValueError(f"grads[{name!r}] must have shape {p.shape} (a real array), got "
                                 f"{getattr(g, 'shape', type(g).__name__)}")
            if not math.isfinite(float(g.sum())):
                raise ValueError(f"grads[{name!r}] holds NaN or infinite values: no parameter was updated")
        use_kernel = kernels.use_kernel(math.inf if n_rows is None else n_rows, kernels.SGD_KERNEL_MAX_BATCH)
        base_lr = self.current_lr
        self.updates += 1
        for name, p in self.params.items():
            g, v = grads[name], self.velocity[name]
            lr = base_lr * self.lr_scale.get(name, 1.0)
            if use_kernel and p.dtype == g.dtype == v.dtype and p.flags.c_contiguous and g.flags.c_contiguous:
                from .kernels.dense import sgd_step
                sgd_step(p, v, g, lr, self.momentum)
                continue
            v *= self.momentum
            v -= lr * g
            p += v

    def state(self):
        state = {f"velocity/{k}": v for k, v in self.velocity.items()}
        state["optimizer/updates"] = np.array(self.updates, dtype=np.int64)
        return state

    def load_state(self, arrays):
        for k, v in self.velocity.items():
            v[...] = arrays[f"velocity/{k}"]
        if "optimizer/updates" in arrays:  # (checkpoints written before the count existed have none)
            self.updates = int(arrays["optimizer/updates"])

    def check_state(self, arrays):
        """Raise a ValueError unless ``arrays`` holds a finite real velocity of the right shape for every
        parameter (a complex velocity would lose its imaginary part in ``load_state``)."""
        for k, v in self.velocity.items():
            got = arrays.get(f"velocity/{k}")
            if got is None or got.shape != v.shape:
                raise ValueError(f"path: the checkpoint has no optimiser velocity for {k!r} of shape {v.shape}")
            if not np.issubdtype(got.dtype, np.floating) or not np.all(np.isfinite(got)):
                raise ValueError(f"path: the checkpoint's optimiser velocity for {k!r} is not finite real floats "
                                 f"(dtype {got.dtype})")
        count = arrays.get("optimizer/updates")
        if count is None:
            if self.update_decay > 0:  # the decayed rate depends on the count: it cannot be guessed
                raise ValueError("path: the checkpoint has no update count, which update_decay > 0 needs")
        elif (np.shape(count) != () or not np.issubdtype(np.asarray(count).dtype, np.integer)
              or int(count) < 0):
            raise ValueError(f"path: the checkpoint's update count must be an integer ≥ 0, got {count!r}")


# ---------------------------------------------------------------------------------------------- schedules
def exponential_decay(initial, rate):
    """Schedule epoch ↦ initial · rate^epoch."""
    check_number(initial, "initial", low=0.0, low_open=True)
    check_number(rate, "rate", low=0.0, low_open=True)
    return lambda epoch: initial * rate ** epoch


def step_change(before, after, at_epoch):
    """Schedule epoch ↦ ``before`` for epochs < at_epoch, then ``after`` (e.g. momentum 0.5 → 0.9, Hinton 2010 §9)."""
    return lambda epoch: before if epoch < at_epoch else after


def linear_decay(initial, epochs):
    """Schedule epoch ↦ initial · (1 − epoch/epochs): the rate reaches ~0 at the end, as PCD needs (Tieleman 2008)."""
    check_number(initial, "initial", low=0.0, low_open=True)
    epochs = check_positive_int(epochs, "epochs")
    return lambda epoch: initial * (1.0 - epoch / epochs)


def k_schedule(k_max, ramp):
    """Schedule epoch ↦ k for CD-k: 1 at epoch 0, rising linearly to k_max at epoch ``ramp``, then held
    (as Salakhutdinov & Murray 2008 grew k to 25)."""
    return lambda epoch: int(min(k_max, 1 + math.floor(epoch * (k_max - 1) / max(ramp, 1))))
