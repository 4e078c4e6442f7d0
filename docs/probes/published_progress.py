"""Study 2's published arms in progress, read from their checkpoints: what a multi-session run has learnt so far.

``pretrainlab experiment pretraining --full --arms … --out OUT`` checkpoints every fine-tuning epoch of a published
arm under ``OUT/units/ARM-seedS-{fine-tune,retrain}.npz`` and deletes them once the unit's record is in
``OUT/results.json``. This script reads the trainer histories from the checkpoints (the lab's bounded reader;
nothing imported by a name read from a file) and writes every started unit's epochs done and its monitored curve
(validation error of the fine-tuning on the 50 000 training images, test error of the retraining on all 60 000)
as JSON and as a figure.

    python docs/probes/published_progress.py OUT RESULTS_JSON FIGURE
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pretrainlab.checkpoint import read_meta, read_npz
from pretrainlab.plotting import finish_log_axes

out, json_path, fig_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
units = {}
for path in sorted((out / "units").glob("*.npz")):
    history = read_meta(read_npz(path, "checkpoint"), path, "__trainer__")["history"]
    key = next(k for k in ("valid_error", "test_error") if k in history)
    curve = [None if (v is None or math.isnan(v)) else v for v in history[key]]
    seen = [(e, v) for e, v in zip(history["epoch"], curve) if v is not None]
    units[path.stem] = {"epochs_done": len(history["epoch"]), "monitor": key, "epoch": history["epoch"],
                        key: curve, "loss": history["loss"], "seconds": float(sum(history["time"])),
                        "best": min(seen, key=lambda ev: ev[1]) if seen else None,
                        "last": seen[-1] if seen else None}
json_path.write_text(json.dumps({"out": str(out), "units": units}, indent=1))

fig = Figure(figsize=(6.5, 4))
ax = fig.subplots()
for name, u in units.items():
    e = np.array([e for e, v in zip(u["epoch"], u[u["monitor"]]) if v is not None])
    v = np.array([v for v in u[u["monitor"]] if v is not None])
    ax.plot(e, 100 * v, marker=".", label=f"{name} ({u['monitor'].replace('_', ' ')})")
finish_log_axes(ax, 8, xlabel="epoch", ylabel="error (%)",
                title="study 2, published arms: curves so far")
fig.tight_layout()
fig.savefig(fig_path, dpi=110)
for name, u in units.items():
    print(f"{name}: {u['epochs_done']} epochs, {u['monitor']} last {u['last']}, best {u['best']}")
