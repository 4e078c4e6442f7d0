"""Probe for study 5 (issue 17): is the 2 % per-epoch learning-rate decay what stopped the DrSAE's learning?

The `--full` run's validation curves were still falling when the rate had decayed 20-fold (README, study 5). This
probe trains the 784-200¹¹-10 model with the same protocol except ``lr_decay`` = 0.998 (the rate falls to 0.74×
after 150 epochs instead of 0.05×), seed 0, through the experiment's own ``train_one`` and ``record``.

    OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_slow_decay.py OUT_DIR [DECAY PATIENCE MAX_EPOCHS]

(defaults 0.998, 15, 150: the first probe; the second ran 0.998 50 250).

Resumable (checkpoints in OUT_DIR); writes OUT_DIR/result.json and the validation curves next to the full run's.
"""
import json
import sys
from pathlib import Path

from pretrainlab.data import load_mnist
from pretrainlab.drsae import normalize_rows
from pretrainlab.drsae_train import TimeBudget
from pretrainlab.experiments.drsae import SETTINGS, plot_valid_curves, record, train_one

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
decay, patience, max_epochs = (float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 2 else (0.998, 15, 150)
cfg = dict(SETTINGS["full"], protocol=dict(SETTINGS["full"]["protocol"], lr_decay=decay, patience=patience,
                                           discriminative_epochs=max_epochs))
mnist = load_mnist(n_train=cfg["n_train"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
data = {k: (normalize_rows(v) if k.startswith("x_") else v) for k, v in vars(mnist).items()}
model, result = train_one(data, 200, 11, cfg, 0, out, TimeBudget(2.4 * 3600), verbose=True)
rec = dict(record(model, result, data, "h200-T11"), model=f"h200-T11, lr decay {decay:g}, patience {patience}", protocol=cfg["protocol"])
(out / "result.json").write_text(json.dumps(rec, indent=1))
print(f"test error {100 * rec['test_error']:.2f} %, best validation {100 * rec['valid_error']:.2f} % at epoch "
      f"{rec['best_epoch']}, {rec['train_seconds']:.0f} s")
