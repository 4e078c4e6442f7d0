"""Greedy layer-wise pretraining: stack RBMs (a DBN) or denoising autoencoders, then fine-tune an MLP.

Hinton, Osindero & Teh (2006) and Bengio, Lamblin, Popovici & Larochelle (2007): train layer 1 without labels
on the data, map the data through it (hidden probabilities p(h | v), or the autoencoder's code), train layer 2
on that representation, and so on. The stack's weights W_l (n_{l−1}, n_l) and hidden biases then initialise the
hidden layers of an MLP of the same shape, a fresh softmax layer goes on top, and back-propagation fine-tunes
everything on the labels (``to_mlp`` and ``fine_tune``).

Why it helps (Erhan et al., JMLR 2010): the unsupervised layers model p(x), so fine-tuning starts in a basin
of the supervised objective that generalises better — pretraining acts as a data-dependent regulariser, most
useful with deep nets and few labels.
"""
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .autoencoder import TiedAutoencoder
from .cd import ContrastiveDivergence
from .checkpoint import generator_entry, load_model, read_npz, restore_generator, save_model
from .mlp import MLP
from .optim import SGD, exponential_decay, step_change
from .rbm import BernoulliRBM
from .train import EarlyStopping, Trainer
from .validation import as_generator, check_array, check_labels, check_number, check_positive_int


@dataclass
class LayerSettings:
    """How to train one layer of the stack (the same settings serve every layer).

    kind : "rbm" (trained by CD-k, Hinton et al. 2006) or "dae" (tied sigmoid denoising autoencoder with
    masking noise and cross-entropy loss, Vincent et al. 2008).
    init_scale : the initial weights' standard deviation (W ~ init_scale · N(0, 1); RBMs only: 0.01 as Hinton
    2010 §8 recommends, 0.1 in Hinton & Salakhutdinov's ``rbm.m``).
    init_visible_bias : RBMs only: start b_vis at the data's log-odds (Hinton 2010 §8), or at 0 (``rbm.m``).
    The momentum rises from ``momentum`` to ``final_momentum`` after 5 epochs; the rate then becomes
    ``final_lr``, or, when that is None, lr · (1 − final_momentum) / (1 − momentum), which keeps the step's
    long-run size lr / (1 − momentum) unchanged.
    """

    kind: str = "rbm"
    epochs: int = 10
    batch_size: int = 100
    lr: float = 0.1
    momentum: float = 0.5
    final_momentum: float = 0.9
    final_lr: float | None = None
    weight_decay: float = 2e-4
    cd_k: int = 1
    noise_level: float = 0.25
    init_scale: float = 0.01
    init_visible_bias: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in ("rbm", "dae"):
            raise ValueError(f"kind must be 'rbm' or 'dae', got {self.kind!r}")
        if self.final_lr is not None and not self.final_lr > 0:
            raise ValueError(f"final_lr must be positive or None, got {self.final_lr}")

    def schedules(self):
        """The optimiser's per-epoch rates: ``{"lr": …, "momentum": …}``, each switching after epoch 5."""
        lr_after = self.final_lr
        if lr_after is None:  # cut the rate as the momentum rises, so that lr / (1 − momentum) stays constant
            lr_after = self.lr * (1 - self.final_momentum) / (1 - self.momentum)
        return {"momentum": step_change(self.momentum, self.final_momentum, 5),
                "lr": step_change(self.lr, lr_after, 5)}


def train_layer(x, n_hidden, settings, rng, verbose=False, y=None):
    """Train one unsupervised layer of ``n_hidden`` units on x (n, n_visible) in [0, 1]; return the model.

    y : optional (n,) labels, −1 for unlabelled rows, handed to the step with each batch: only activity terms
    that read labels use them (study 3's diversifying terms, given in ``settings.extra["penalties"]``); the
    likelihood or reconstruction itself never sees them.
    """
    n_visible = x.shape[1]
    if settings.kind == "rbm":
        layer = BernoulliRBM(n_visible, n_hidden, rng=rng, init_scale=settings.init_scale, dtype=x.dtype)
        if settings.init_visible_bias:
            layer.init_visible_bias(x)
        step = ContrastiveDivergence(layer, k=settings.cd_k, weight_decay=settings.weight_decay, **settings.extra)
    else:
        layer = TiedAutoencoder(n_visible, n_hidden, rng=rng, noise="mask", noise_level=settings.noise_level,
                                weight_decay=settings.weight_decay, dtype=x.dtype, **settings.extra)
        step = layer.loss_and_grads
    trainer = Trainer(layer, SGD(layer.params, **settings.schedules()), step=step, batch_size=settings.batch_size,
                      rng=rng, verbose=verbose)
    trainer.fit(x, y, epochs=settings.epochs)
    return layer


def greedy_pretrain(x, hidden_sizes, settings=None, rng=None, verbose=False, y=None, checkpoints=None):
    """Train a stack of unsupervised layers greedily, each on the previous one's representation.

    x : (n, n_visible) array in [0, 1].  hidden_sizes : e.g. (1000, 1000, 1000).
    y : optional (n,) labels (−1 = unlabelled) passed to every layer's step with its rows (``train_layer``):
        label-aware penalties such as study 3's diversifying prior use them; plain CD and autoencoders ignore them.
    checkpoints : optional list of file paths, one per layer. Each layer is saved to its path as soon as it is
        trained, with the generator's state after it; a rerun reads the saved layers back from the bottom up and
        trains only the rest, so an interrupted run loses at most the layer in progress and ends with the stack
        an uninterrupted run gives.
    Returns the list of trained layers (each has ``W`` (n_in, n_out), ``b_hid`` and ``transform``).
    """
    settings = LayerSettings() if settings is None else settings
    if not isinstance(settings, LayerSettings):
        raise TypeError(f"settings must be a LayerSettings, got {type(settings).__name__}")
    if isinstance(hidden_sizes, (str, bytes)) or not hasattr(hidden_sizes, "__len__"):
        raise TypeError(f"hidden_sizes must be a list of layer sizes, got {hidden_sizes!r}")
    rng = as_generator(rng)
    h = check_array(x, "x", low=0.0, high=1.0)
    if checkpoints is not None and (isinstance(checkpoints, (str, bytes, Path)) or not hasattr(checkpoints, "__len__")):
        raise TypeError(f"checkpoints must be a list of file paths, one per layer, got {checkpoints!r}")
    if checkpoints is not None and len(checkpoints) != len(hidden_sizes):
        raise ValueError(f"checkpoints must give one path per layer ({len(hidden_sizes)}), got {len(checkpoints)}")
    resuming = checkpoints is not None
    stack = []
    for i, n_hidden in enumerate(hidden_sizes, start=1):
        n_hidden = check_positive_int(n_hidden, "hidden_sizes")
        path = None if checkpoints is None else Path(checkpoints[i - 1])
        layer = _saved_layer(path, settings, h.shape[1], n_hidden, rng) if resuming else None
        if layer is None:
            resuming = False  # a saved layer above this one was learnt from another representation: retrain it
            if verbose:
                print(f"pretraining layer {i} ({settings.kind}, {h.shape[1]} → {n_hidden})")
            layer = train_layer(h, n_hidden, settings, rng, verbose, y=y)
            if path is not None:
                save_model(layer, path, generator_entry(rng))
        elif verbose:
            print(f"layer {i} read back from {path}")
        stack.append(layer)
        h = layer.transform(h)  # the next layer learns from this layer's hidden probabilities
    return stack


def load_or_pretrain(paths, x, hidden_sizes, settings, rng, verbose=False, y=None):
    """The stack saved at ``paths`` (one model file per layer), read back as it is if every file is there;
    else ``greedy_pretrain(..., checkpoints=paths)``, which goes on after the layers an interrupted run saved.
    The experiments keep their pretrained stacks this way, so a rerun never pretrains a finished stack again."""
    if all(Path(p).is_file() for p in paths):
        stack, n_in = [], np.shape(x)[1]
        for path, n_hidden in zip(paths, hidden_sizes):  # each file checked: an autoencoder is not a DBN layer
            stack.append(_check_layer(load_model(path), Path(path), settings, n_in, n_hidden))
            n_in = n_hidden
        return stack
    return greedy_pretrain(x, hidden_sizes, settings, rng=rng, verbose=verbose, y=y, checkpoints=paths)


def _saved_layer(path, settings, n_in, n_hidden, rng):
    """The layer an earlier run saved at ``path``, with ``rng`` set to its state after that layer; None (rng
    unchanged) if there is no such file or it carries no generator state. A file holding another kind or shape
    of layer is refused (ValueError), never overwritten."""
    if not path.is_file():
        return None
    arrays = read_npz(path, "checkpoint")  # read once: the layer and the generator state both come from it
    layer = _check_layer(load_model(path, arrays), path, settings, n_in, n_hidden)
    return layer if restore_generator(path, rng, arrays) else None


def _check_layer(layer, path, settings, n_in, n_hidden):
    """``layer`` if it is the kind (RBM or tied autoencoder, ``settings.kind``) and shape this stack needs, else a
    ValueError naming ``path`` (study 2 must not report DBN numbers from autoencoder files)."""
    kind = BernoulliRBM if settings.kind == "rbm" else TiedAutoencoder
    if type(layer) is not kind or layer.W.shape != (n_in, n_hidden):
        raise ValueError(f"checkpoints: {path} holds a {type(layer).__name__} of shape {layer.W.shape}, not the "
                         f"{kind.__name__} of shape {(n_in, n_hidden)} this stack needs (delete it to retrain)")
    return layer


def to_mlp(stack, n_classes, rng=None, **mlp_kwargs):
    """An MLP of the stack's shape with W_l, b_l copied from layer l and a fresh softmax layer on top.

    The MLP's sigmoid hidden layers compute σ(h_{l−1} W_l + b_hid,l) — exactly each layer's ``transform`` — so
    before fine-tuning the MLP's hidden representation equals the stack's.
    """
    if isinstance(stack, (str, bytes)) or not hasattr(stack, "__len__"):
        raise TypeError(f"stack must be a list of trained layers, got {type(stack).__name__}")
    if not stack:
        raise ValueError("stack must hold at least one trained layer")
    for l, layer in enumerate(stack, start=1):
        W, b_hid = getattr(layer, "W", None), getattr(layer, "b_hid", None)
        if not (isinstance(W, np.ndarray) and W.ndim == 2 and isinstance(b_hid, np.ndarray)):
            raise TypeError(f"stack: layer {l} must be a trained layer (an RBM or autoencoder with W and b_hid), "
                            f"got {type(layer).__name__}")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be ≥ 2, got {n_classes}")
    sizes = [stack[0].W.shape[0]] + [layer.W.shape[1] for layer in stack] + [n_classes]
    mlp = MLP(sizes, rng=rng, activation="sigmoid", dtype=stack[0].W.dtype, **mlp_kwargs)
    for l, layer in enumerate(stack, start=1):
        if layer.W.shape != mlp.params[f"W{l}"].shape:
            raise ValueError(f"stack: layer {l} has weights {layer.W.shape}, expected {mlp.params[f'W{l}'].shape} "
                             "(each layer's input must be the previous layer's output)")
        mlp.params[f"W{l}"][...] = layer.W
        mlp.params[f"b{l}"][...] = layer.b_hid
    return mlp


def fine_tune(mlp, x, y, x_valid, y_valid, epochs=100, lr=0.1, momentum=0.9, lr_decay=1.0, batch_size=100,
              patience=20, min_epochs=0, rng=None, verbose=False, callbacks=(), after_step=(), checkpoint=None):
    """Back-propagation on the labels with early stopping on the validation error (best parameters kept).

    The learning rate is lr · lr_decay^epoch. ``callbacks`` (``(trainer, epoch) → None`` after each epoch, e.g.
    a sparseness probe) and ``after_step`` (``(model) → None`` after each update, e.g. a gradient-norm probe)
    go to the ``Trainer`` unchanged; they see the parameters as trained, before early stopping restores the best.
    An MLP with a ``max_norm`` bound gets ``mlp.project_max_norm`` after every step (Srivastava et al. 2014 §5.1:
    the bound holds after each update, not only at the end). ``min_epochs``: early stopping never ends the run
    before that many epochs (``EarlyStopping``'s; for nets that sit on a plateau before they start to learn).

    ``x_valid = y_valid = None``: no validation and no early stopping — exactly ``epochs`` epochs. That is the
    second half of Hinton's protocol (Hinton & Salakhutdinov 2006; Srivastava et al. 2014 §B.1): choose the number
    of epochs by early stopping on a held-out set, then retrain from the same start on training + held-out data
    for that many epochs (``retrain_epochs`` gives the number).

    ``checkpoint``: path of the Trainer's checkpoint, written after every epoch; if the file exists the
    fine-tuning resumes from it (same parameters, velocity, early-stopping state and random state), so an
    interrupted run ends exactly where an uninterrupted one would. Returns the Trainer's History.
    """
    x = mlp.check_x(x)
    y = check_labels(y, "y", mlp.n_classes, n_samples=len(x))
    if (x_valid is None) != (y_valid is None):
        raise ValueError("x_valid and y_valid must both be given or both be None")
    check_number(lr_decay, "lr_decay", low=0.0, low_open=True)
    monitors, stopping = {}, None
    if x_valid is not None:
        x_valid = mlp.check_x(x_valid, "x_valid")
        y_valid = check_labels(y_valid, "y_valid", mlp.n_classes, n_samples=len(x_valid))
        monitors = {"valid_error": lambda m: 1.0 - m.score(x_valid, y_valid)}
        stopping = EarlyStopping("valid_error", patience=patience, min_epochs=min_epochs)
    if mlp.max_norm is not None:
        after_step = (*after_step, mlp.project_max_norm)
    trainer = Trainer(mlp, SGD(mlp.params, lr=exponential_decay(lr, lr_decay), momentum=momentum),
                      batch_size=batch_size, rng=rng, monitors=monitors, early_stopping=stopping, verbose=verbose,
                      callbacks=callbacks, after_step=after_step, checkpoint=checkpoint)
    return trainer.fit(x, y, epochs=epochs, resume=checkpoint is not None)


def retrain_epochs(valid_curve):
    """The validation-chosen length for retraining: the 1-based epoch of the lowest validation error (the first
    one on ties) — the epoch early stopping restored."""
    curve = np.asarray(valid_curve, dtype=np.float64)
    if curve.ndim != 1 or len(curve) == 0 or not np.all(np.isfinite(curve)):
        raise ValueError("valid_curve must be a non-empty 1-D list of finite validation errors")
    return int(np.argmin(curve)) + 1


def fine_tune_subset(mlp, x, y, x_valid, y_valid, epochs, lr=0.1, momentum=0.9, lr_decay=0.98, patience=20,
                     min_epochs=0, min_rows=1000, rng=None, verbose=False, callbacks=(), after_step=(),
                     checkpoint=None):
    """``fine_tune`` on a labelled subset with study 2's protocol: with few labels an epoch would be a handful of
    steps, so the subset is repeated to ≥ ``min_rows`` rows per epoch and batches are 10 below 1 000 labels (100
    otherwise); the rate scales with the batch (lr · batch / 100), so each example moves the weights as far.
    ``checkpoint`` as in ``fine_tune``. Returns the History.
    """
    reps = math.ceil(min_rows / len(x))
    batch_size = 10 if len(x) < 1000 else 100
    return fine_tune(mlp, np.tile(x, (reps, 1)), np.tile(y, reps), x_valid, y_valid, epochs=epochs,
                     lr=lr * batch_size / 100, momentum=momentum, lr_decay=lr_decay, batch_size=batch_size,
                     patience=patience, min_epochs=min_epochs, rng=rng, verbose=verbose, callbacks=callbacks,
                     after_step=after_step,
                     checkpoint=checkpoint)


def error_rate(mlp, x, y):
    """Fraction of misclassified rows."""
    return 1.0 - mlp.score(x, y)

