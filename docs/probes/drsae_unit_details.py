"""Probe for study 5 (issue 29): the paper's finer claims about a finished DrSAE's units, and the tie-break.

Rolfe & LeCun (2013, §3) describe the categorical-units (θ_i > 0.7 rad) as strongly self-exciting, inhibiting one
another (winner-take-all) and often turning on only after the first iteration; the part-units (θ_i < 0.5 rad) as
weakly connected.  For the model of a finished run this prints, per kind of unit (``DrSAE.classify_units``):

- the median self-connection S_ii − 1 and the share of units with S_ii > 1 (self-excitation beyond ISTA's
  identity; ISTA's S = I − αDᵀD has S_ii = 1 − α < 1);
- the mean off-diagonal S_ij between two units of that kind (negative: mutual inhibition);
- on the test images, of the (image, unit) pairs active at t = T, the share that first became active at t ≥ 2,
  and the share of the code's total activity Σ_i z_i^T that units of that kind carry.

It also prints the test error of every snapshot whose validation error ties the selected one's (the lab picks the
earliest of tied snapshots; the code does not say which file was tested), so the reader sees whether the choice
matters.  No number here is used to select anything.

    OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_unit_details.py docs/runs/drsae-author h400-T11

(≈ 1 min of one core.)
"""
import json
import sys
from pathlib import Path

import numpy as np

from pretrainlab.checkpoint import load_model
from pretrainlab.studies.drsae.experiment import SETTINGS, _data
from pretrainlab.studies.drsae.train import _snapshot_path, error_rate

KINDS = ("part", "between", "categorical")


def unit_details(model, x):
    """Per kind: median S_ii − 1 and share with S_ii > 1, mean off-diagonal S within the kind, the share of the
    (image, unit) pairs active at T that first became active at t ≥ 2, and the kind's share of Σ z^T over x."""
    kinds = model.classify_units()
    S = model.S.astype(np.float64)
    zs = model.encode(x, return_all=True)  # (T + 1, n, n_hidden), zs[0] = 0
    active = zs > 0
    on_at_T = active[-1]
    # first iteration t ≥ 1 at which the unit is active (argmax finds the first True along t)
    first = np.argmax(active[1:], axis=0) + 1
    total = zs[-1].sum()
    out = {}
    for kind in KINDS:
        sel = kinds == kind
        if not sel.any():
            continue
        block = S[np.ix_(sel, sel)]
        off = block[~np.eye(sel.sum(), dtype=bool)]
        firsts = first[:, sel][on_at_T[:, sel]]
        out[kind] = {"n": int(sel.sum()), "self_minus_1": float(np.median(np.diag(S)[sel] - 1.0)),
                     "frac_self_exciting": float(np.mean(np.diag(S)[sel] > 1.0)),
                     "mean_offdiag_within": float(off.mean()) if off.size else float("nan"),
                     "frac_first_active_later": float(np.mean(firsts >= 2)) if firsts.size else float("nan"),
                     "share_of_activity": float(zs[-1][:, sel].sum() / total)}
    return out


if __name__ == "__main__":
    folder, key = Path(sys.argv[1]), sys.argv[2]
    entry = next(m for m in json.loads((folder / "results.json").read_text())["models"] if m["model"] == key)
    data = _data(SETTINGS["full"])
    model = load_model(_snapshot_path(folder / key, entry["best_epoch"]))
    print(f"{key}: selected snapshot after epoch {entry['best_epoch']}, validation {entry['valid_error']:.2%}, "
          f"test {entry['test_error']:.2%}")
    for kind, d in unit_details(model, data["x_test"]).items():
        print(f"  {kind:12s} n {d['n']:3d}  median S_ii-1 {d['self_minus_1']:+.3f} (S_ii > 1: "
              f"{d['frac_self_exciting']:.0%})  mean S_ij within {d['mean_offdiag_within']:+.4f}  first active at "
              f"t ≥ 2: {d['frac_first_active_later']:.0%}  share of sum z^T {d['share_of_activity']:.2f}")
    best = entry["valid_error"]
    for epoch, err in sorted(entry["snapshot_valid_errors"].items(), key=lambda kv: int(kv[0])):
        if abs(err - best) < 1e-9:
            snap = load_model(_snapshot_path(folder / key, int(epoch)))
            print(f"  snapshot after epoch {epoch}: validation {err:.2%}, "
                  f"test {error_rate(snap, data['x_test'], data['y_test']):.2%}")
