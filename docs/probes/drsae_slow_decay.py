"""Probe for study 5 (issue 17): is the 2 % per-epoch learning-rate decay what stopped the DrSAE's learning?

The first `--full` run's validation curves (2 % decay, ≤ 150 epochs, patience 15) were still falling when the rate had
decayed 20-fold (README, study 5). This probe trains the 784-200¹¹-10 model with that protocol except ``lr_decay``,
``patience`` and the epoch cap, seed 0, through the experiment's own ``train_one`` and ``record`` — with 0.998, 50,
1000 it is exactly what `--full` now runs for that model (the same checkpoints).

    OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_slow_decay.py OUT_DIR [DECAY PATIENCE MAX_EPOCHS [N_HIDDEN T]]

(defaults 0.998, 15, 150, 200 units, T = 11: the first probe; the second ran 0.998 50 250; the third continued the
second's checkpoint to 0.998 50 1000 — a copy of its folder without model.npz — and the fourth ran 200² with it).

Resumable (checkpoints in OUT_DIR); writes OUT_DIR/result.json and the validation curves next to the full run's.
"""
import json
import sys
from pathlib import Path

from pretrainlab.data import load_mnist
from pretrainlab.studies.drsae.model import normalize_rows
from pretrainlab.train import TimeBudget
from pretrainlab.studies.drsae.experiment import SETTINGS, plot_valid_curves, record, train_one

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
decay, patience, max_epochs = (float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 2 else (0.998, 15, 150)
n_hidden, n_steps = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (200, 11)
key = f"h{n_hidden}-T{n_steps}"
cfg = dict(SETTINGS["full"], protocol=dict(SETTINGS["full"]["protocol"], lr_decay=decay, patience=patience,
                                           discriminative_epochs=max_epochs))
mnist = load_mnist(n_train=cfg["n_train"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
data = {k: (normalize_rows(v) if k.startswith("x_") else v) for k, v in vars(mnist).items()}
model, result = train_one(data, n_hidden, n_steps, cfg, 0, out, TimeBudget(2.4 * 3600), verbose=True)
rec = dict(record(model, result, data, key), model=f"{key}, lr decay {decay:g}, patience {patience}", protocol=cfg["protocol"])
(out / "result.json").write_text(json.dumps(rec, indent=1))
print(f"test error {100 * rec['test_error']:.2f} %, best validation {100 * rec['valid_error']:.2f} % at epoch "
      f"{rec['best_epoch']}, {rec['train_seconds']:.0f} s")
