"""The unit analysis of a trained DrSAE (Rolfe & LeCun, ICLR 2013, arXiv 1301.3775, §3): counts and figures.

The paper's criterion is the angle between unit i's encoder row and decoder column,

    θ_i = arccos(E_i · D_i / (‖E_i‖ ‖D_i‖))        (0 for every unit of ISTA, where E = αDᵀ),

with *part-units* at θ < 0.5 rad (stroke-like decoders, weak recurrent input ‖(S − I)_i‖, weak classifier
weights ‖C_i‖) and *categorical-units* at θ > 0.7 rad (prototype decoders, strong ‖(S − I)_i‖ and ‖C_i‖); the
paper calls the thresholds heuristic. ``unit_summary`` counts them and assigns each categorical-unit the class
of its largest classifier weight (argmax of column C_i); the three ``plot_*`` functions draw the paper's
figures: decoders sorted by angle, the two norms against the angle, and z^t along the iterations t = 1..T.
"""
import math

import numpy as np
from matplotlib.figure import Figure

COLORS = {"part": "tab:blue", "between": "tab:gray", "categorical": "tab:red"}


def unit_summary(model, angle_part=0.5, angle_cat=0.7):
    """Counts of part/between/categorical units, categorical-units per class, and the per-unit measures.

    Returns a JSON-serialisable dict: ``counts`` {kind: n}, ``categorical_per_class`` (list, one count per
    class: categorical-units whose argmax_k C_{k,i} is k), and medians of ‖(S − I)_i‖ and ‖C_i‖ per kind.
    """
    info = model.unit_analysis()
    kinds = model.classify_units(angle_part, angle_cat)
    counts = {k: int(np.sum(kinds == k)) for k in ("part", "between", "categorical")}
    cat = kinds == "categorical"
    per_class = np.bincount(np.argmax(model.C[:, cat], axis=0), minlength=model.n_classes) if cat.any() \
        else np.zeros(model.n_classes, int)
    medians = {k: {"recurrent_norm": float(np.median(info["recurrent_norm"][kinds == k])),
                   "classifier_norm": float(np.median(info["classifier_norm"][kinds == k]))}
               for k in counts if counts[k]}
    return {"counts": counts, "categorical_per_class": [int(v) for v in per_class], "medians": medians,
            "angle_thresholds": [angle_part, angle_cat]}


def _image_shape(n_visible):
    side = math.isqrt(n_visible)
    return (side, side) if side * side == n_visible else (1, n_visible)


def plot_decoders(model, n_per_kind=24, angle_part=0.5, angle_cat=0.7, title=""):
    """Decoder columns D_i of the part-units with the smallest angles (top) and the categorical-units with
    the largest (bottom), each titled with its angle θ_i in radians."""
    info = model.unit_analysis()
    angle = np.nan_to_num(info["angle"], nan=-1.0)
    order = np.argsort(angle)
    groups = [("part-units (smallest θ)", [i for i in order if 0 <= angle[i] < angle_part][:n_per_kind]),
              ("categorical-units (largest θ)", [i for i in order[::-1] if angle[i] > angle_cat][:n_per_kind])]
    cols = min(12, n_per_kind)
    rows_per = [max(1, math.ceil(len(units) / cols)) for _, units in groups]
    fig = Figure(figsize=(cols * 0.9, 1.0 * sum(rows_per) + 0.8), layout="constrained")
    sub = fig.subfigures(2, 1, height_ratios=rows_per)
    shape = _image_shape(model.n_visible)
    for sf, (label, units), n_rows in zip(sub, groups, rows_per):
        sf.suptitle(f"{label}: {len(units)} shown", fontsize=9)
        axes = sf.subplots(n_rows, cols, squeeze=False)
        for k, ax in enumerate(axes.ravel()):
            ax.set_axis_off()
            if k < len(units):
                d = model.D[:, units[k]].reshape(shape)
                lim = float(np.abs(d).max()) or 1.0
                ax.imshow(d, cmap="RdBu_r", vmin=-lim, vmax=lim)
                ax.set_title(f"{angle[units[k]]:.2f}", fontsize=7)
        if not units:
            axes[0, 0].text(0, 0.5, "none", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_unit_scatter(model, angle_part=0.5, angle_cat=0.7, title=""):
    """‖(S − I)_i‖ and ‖C_i‖ of every unit against its encoder–decoder angle θ_i (paper, Fig. 3)."""
    info = model.unit_analysis()
    kinds = model.classify_units(angle_part, angle_cat)
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, key, label in zip(axes, ("recurrent_norm", "classifier_norm"), ("‖(S − I)_i‖", "‖C_i‖")):
        for kind, color in COLORS.items():
            sel = kinds == kind
            ax.scatter(info["angle"][sel], info[key][sel], s=8, color=color, label=f"{kind} ({sel.sum()})")
        for a in (angle_part, angle_cat):
            ax.axvline(a, color="k", lw=0.6, ls=":")
        ax.set(xlabel="angle θ_i between E_i and D_i (rad)", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_iterations(model, x, labels=None, angle_part=0.5, angle_cat=0.7, title=""):
    """z^t_i over t = 0..T for each row of x (one panel per input), every unit active at some step drawn;
    categorical-units in red, part-units in blue (paper, Fig. 4: categorical-units often switch on late)."""
    zs = model.encode(x, return_all=True)  # (T + 1, n, n_hidden)
    kinds = model.classify_units(angle_part, angle_cat)
    n = zs.shape[1]
    fig = Figure(figsize=(3.0 * n, 2.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    t = np.arange(zs.shape[0])
    for j, ax in enumerate(axes):
        active = np.flatnonzero(zs[:, j].max(axis=0) > 0)
        for i in active:
            ax.plot(t, zs[:, j, i], color=COLORS[kinds[i]], lw=0.9, alpha=0.8)
        ax.set(xlabel="iteration t", title=f"label {labels[j]}" if labels is not None else f"input {j}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("$z^t_i$ (red: categorical, blue: part, grey: between)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
