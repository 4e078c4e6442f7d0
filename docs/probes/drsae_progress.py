"""The DrSAE ``--full`` run's progress, read from its checkpoints: what a multi-session run has learnt so far.

Each model of ``pretrainlab experiment drsae --full --out OUT`` checkpoints every epoch of each phase under
``OUT/KEY/unsupervised.npz`` and ``OUT/KEY/discriminative.npz`` (``drsae_train``); a finished model also has its
record in ``OUT/results.json``.  This script reads the trainer histories from the checkpoints (through the lab's own
bounded reader, nothing imported by name from a file) and writes, for every model started so far, the epochs done,
the validation loss of phase 1 and the validation error of phase 2 per epoch with the best so far, as JSON and as a
figure.

    python docs/probes/drsae_progress.py OUT [RESULTS_JSON [FIGURE]]
"""
import json
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pretrainlab.checkpoint import read_meta, read_npz
from pretrainlab.plotting import finish_log_axes

out = Path(sys.argv[1])
json_path = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/results/drsae-author-partial.json")
fig_path = Path(sys.argv[3] if len(sys.argv) > 3 else "docs/figures/drsae_partial_author_curves.png")
models = {}
for folder in sorted(p for p in out.iterdir() if p.is_dir()):
    entry = {}
    for phase in ("unsupervised", "discriminative"):
        path = folder / f"{phase}.npz"
        if path.is_file():
            history = read_meta(read_npz(path, "checkpoint"), path, "__trainer__")["history"]
            entry[phase] = {k: history[k] for k in ("epoch", "loss", "lr", "time")}
            entry[phase]["valid"] = history["valid_loss" if phase == "unsupervised" else "valid_error"]
    if entry:
        disc = entry.get("discriminative")
        if disc:
            best = int(np.argmin(disc["valid"]))
            entry["best_valid_error"], entry["best_epoch"] = float(disc["valid"][best]), best + 1
        entry["finished"] = (folder / "model.npz").is_file()
        models[folder.name] = entry
json_path.write_text(json.dumps({"run": str(out), "command": "python docs/probes/drsae_progress.py " + str(out),
                                 "models": models}, indent=1))

fig = Figure(figsize=(10, 3.8), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
for key, m in models.items():
    if "unsupervised" in m:
        ax1.plot(m["unsupervised"]["epoch"], m["unsupervised"]["valid"], label=key)
    if "discriminative" in m:
        ax2.plot(m["discriminative"]["epoch"], 100 * np.asarray(m["discriminative"]["valid"]), label=key)
ax1.set(xlabel="unsupervised epoch", ylabel="validation L^U (per image)", title="phase 1: sparse coding loss")
finish_log_axes(ax2, 8, xlabel="discriminative epoch", ylabel="validation error (%)",
                title="phase 2: validation error (run in progress)")
ax1.grid(alpha=0.3)
ax1.legend(fontsize=8)
fig.savefig(fig_path, dpi=100)
for key, m in models.items():
    print(key, {k: v for k, v in m.items() if k in ("best_valid_error", "best_epoch", "finished")},
          {ph: len(m[ph]["epoch"]) for ph in ("unsupervised", "discriminative") if ph in m})
