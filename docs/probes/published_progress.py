"""Study 2's published arms in progress, read from their checkpoints: what a multi-session run has learnt so far.

``pretrainlab experiment pretraining --full --arms … --out OUT`` checkpoints every fine-tuning epoch of a published
arm under ``OUT/units/ARM-seedS-{fine-tune,retrain}.npz`` and deletes them once the unit's record is in
``OUT/results.json``. This script reads the trainer histories from the checkpoints (the lab's bounded reader;
nothing imported by a name read from a file) and the curves of the finished units from ``results.json``, and writes
every started unit's epochs done and its monitored curve (validation error of the fine-tuning on the 50 000 training
images, test error of the retraining on all 60 000) as JSON and as a figure. Several run folders (e.g. seed 0's and
seeds 1–2's) may be given; a unit is named by its arm and seed, which no two folders share.

    python docs/probes/published_progress.py OUT [OUT ...] RESULTS_JSON FIGURE
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pretrainlab.checkpoint import read_meta, read_npz
from pretrainlab.plotting import finish_log_axes

outs, json_path, fig_path = [Path(a) for a in sys.argv[1:-2]], Path(sys.argv[-2]), Path(sys.argv[-1])


def record(epochs, key, values, **extra):
    """One unit's entry: its monitored curve (NaN = not measured that epoch), best and last measured value."""
    curve = [None if (v is None or math.isnan(v)) else v for v in values]
    seen = [(e, v) for e, v in zip(epochs, curve) if v is not None]
    return {"epochs_done": len(epochs), "monitor": key, "epoch": list(epochs), key: curve, **extra,
            "best": min(seen, key=lambda ev: ev[1]) if seen else None, "last": seen[-1] if seen else None}


units = {}
for out in outs:
    results = out / "results.json"
    for run in json.loads(results.read_text()).get("runs", []) if results.is_file() else []:
        if "test_curve_retrain" in run:  # a finished published unit: its whole curve and its final number
            curve = run["test_curve_retrain"]
            units[f"{run['arm']}-seed{run['seed']}-retrain"] = record(
                list(range(1, len(curve) + 1)), "test_error", curve,
                finished=True, test_error_final=run["test_error_retrain"], seconds=run["train_seconds_retrain"])
    for path in sorted((out / "units").glob("*.npz")):
        history = read_meta(read_npz(path, "checkpoint"), path, "__trainer__")["history"]
        key = next(k for k in ("valid_error", "test_error") if k in history)
        units[path.stem] = record(history["epoch"], key, history[key], finished=False, loss=history["loss"],
                                  seconds=float(sum(history["time"])))
json_path.write_text(json.dumps({"out": [str(o) for o in outs], "units": units}, indent=1))

fig = Figure(figsize=(6.5, 4))
ax = fig.subplots()
for name, u in units.items():
    e = np.array([e for e, v in zip(u["epoch"], u[u["monitor"]]) if v is not None])
    v = np.array([v for v in u[u["monitor"]] if v is not None])
    ax.plot(e, 100 * v, marker=".", markersize=3, label=f"{name} ({u['monitor'].replace('_', ' ')})")
# the published numbers (Srivastava et al. 2014, Table 2; Hinton & Salakhutdinov 2006): each arm's error after its
# last epoch, which is what these curves end at
for err, text in ((0.92, "0.92 % (dropout, published)"), (1.18, "1.18 % (CG, published)")):
    ax.axhline(err, color="k", linestyle=":", linewidth=1)
    ax.annotate(text, (0.12, err), xycoords=("axes fraction", "data"), ha="left", va="bottom", fontsize=7)
finish_log_axes(ax, 8, xlabel="epoch", ylabel="error (%)",
                title="study 2, published arms: curves so far")
fig.tight_layout()
fig.savefig(fig_path, dpi=110)
for name, u in units.items():
    print(f"{name}: {u['epochs_done']} epochs, {u['monitor']} last {u['last']}, best {u['best']}")
