"""Figures from arrays and histories: weight filters, samples, learning curves.

Every function returns a ``matplotlib.figure.Figure`` built with the object interface (no pyplot), so
nothing is shown or kept in global state: tests run headless, notebooks display the returned figure,
scripts call ``fig.savefig(path)``.
"""
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter


def tile_images(images, img_shape=(28, 28), n_cols=None, pad=1, scale_each=True):
    """Arrange flat images (n, h·w) into one 2-D mosaic array, a grid of ``n_cols`` columns.

    ``scale_each`` rescales every image to [0, 1] on its own (needed for weight filters, whose ranges
    differ); a border of ``pad`` pixels at the mosaic's maximum separates the tiles.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty 2-D array (n ≥ 1, h·w), got shape {images.shape}")
    if images.shape[1] != img_shape[0] * img_shape[1]:
        raise ValueError(f"images must have shape (n, {img_shape[0] * img_shape[1]}) for img_shape {img_shape}, "
                         f"got {images.shape}")
    n = len(images)
    n_cols = n_cols or int(math.ceil(math.sqrt(n)))
    n_rows = int(math.ceil(n / n_cols))
    if scale_each:
        low = images.min(axis=1, keepdims=True)
        span = images.max(axis=1, keepdims=True) - low
        images = (images - low) / np.where(span > 0, span, 1.0)
    h, w = img_shape
    mosaic = np.ones((n_rows * (h + pad) + pad, n_cols * (w + pad) + pad)) * (images.max() if n else 1.0)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        mosaic[top:top + h, left:left + w] = img.reshape(h, w)
    return mosaic


def _image_figure(mosaic, title, size=6.0):
    height = size * mosaic.shape[0] / mosaic.shape[1] + (0.4 if title else 0.0)  # room for the title
    fig = Figure(figsize=(size, height), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(mosaic, cmap="gray", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def plot_filters(W, img_shape=(28, 28), n_filters=100, title=None):
    """Show the first ``n_filters`` columns of W (n_visible, n_hidden) as images, one per hidden unit.

    Each filter is the pattern of visible weights a hidden unit responds to; on MNIST, good RBM and
    autoencoder filters look like pen strokes and blobs.
    """
    W = np.asarray(W)
    filters = W[:, :n_filters].T
    return _image_figure(tile_images(filters, img_shape), title or f"first {len(filters)} filters")


def plot_images(images, img_shape=(28, 28), n_cols=None, title=None):
    """Show flat images (n, h·w) with values in [0, 1] — data, reconstructions or Gibbs samples — in a grid."""
    return _image_figure(tile_images(images, img_shape, n_cols=n_cols, scale_each=False), title)


def finish_log_axes(ax, legend_size=None, **labels):
    """Label an axes (``ax.set(**labels)``), put its y axis on a log scale read as 1, 2, 5, 10, 20, … (error
    rates read more easily than powers of ten), add a grid and the legend."""
    ax.set(yscale="log", **labels)
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=legend_size)


def figure_grid(n_rows, n_cols, width, row_height):
    """A constrained-layout Figure of ``width`` inches and an (n_rows, n_cols) array of axes, always 2-D."""
    fig = Figure(figsize=(width, row_height * n_rows), layout="constrained")
    return fig, np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False))


#: words and units for the quantities the lab records, used by ``plot_history`` when no label is given
LABELS = {
    "loss": ("training loss", "loss (batch mean)"),
    "recon_valid": ("validation reconstruction error", "squared error per image"),
    "free_energy_gap": ("free-energy gap (validation − training)", "nats"),
    "pseudo_ll_valid": ("validation pseudo-log-likelihood", "nats per image"),
    "valid_error": ("validation error", "fraction misclassified"),
    "test_ll": ("test log-likelihood", "nats per image"),
    "train_ll": ("training log-likelihood", "nats per image"),
}


def plot_history(history, keys=None, title=None, panels=None):
    """Learning curves against the epoch, titled in words, each axis labelled with its unit.

    ``panels``: a list of ``(title, y label, {legend label: key})`` — several keys in one panel share its axes
    (e.g. training and validation error together). Without it, ``keys`` (default: all but epoch, lr and time)
    get one panel each, labelled from ``LABELS``.
    """
    records = history.records if hasattr(history, "records") else dict(history)
    if "epoch" not in records:
        raise ValueError("history must record 'epoch'")
    if panels is None:
        keys = list(keys) if keys is not None else [k for k in records if k not in ("epoch", "lr", "time")]
        panels = [(*LABELS.get(k, (k.replace("_", " "), k.replace("_", " "))), {LABELS.get(k, (k,))[0]: k})
                  for k in keys]
    missing = [k for _, _, lines in panels for k in lines.values() if k not in records]
    if missing:
        raise ValueError(f"keys not in history: {missing}; it holds {sorted(records)}")
    n = max(len(panels), 1)
    fig = Figure(figsize=(4.2 * min(n, 3), 3.4 * math.ceil(n / 3)), layout="constrained")
    for i, (panel_title, ylabel, lines) in enumerate(panels):
        ax = fig.add_subplot(math.ceil(n / 3), min(n, 3), i + 1)
        for label, key in lines.items():
            values = np.asarray(records[key], dtype=float)
            ok = np.isfinite(values)  # monitors evaluated only every few epochs record NaN in between
            ax.plot(np.asarray(records["epoch"])[ok], values[ok], marker="o", markersize=3, label=label)
        ax.set(xlabel="epoch", ylabel=ylabel, title=panel_title)
        if len(lines) > 1:
            ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
