"""Probe for study 2 (issue 20): why the dropout arms never early-stop before ``dropout_min_epochs``.

The `--full` protocol's random-init dropout fine-tuning (seed 0, 1 000 labels, the arm ``random+dropout``) run for
all 200 epochs without early stopping: its validation curve shows how long the 784-500-500-2000-10 sigmoid net sits
at chance before it starts to learn. With patience 40 alone the full run stopped it on that plateau (88.65 %).

    OPENBLAS_NUM_THREADS=1 python docs/probes/random_dropout_plateau.py OUT.json

(≈ 4 min on one core.) OUT.json: the validation curve, the epoch it first drops below 85 % and the test error.
"""
import json
import sys
import time

import numpy as np

from pretrainlab.data import load_mnist
from pretrainlab.studies.pretraining import experiment as study

cfg = study.SETTINGS["full"]
data = load_mnist(n_train=cfg["n_unlabelled"], n_valid=cfg["n_valid"], n_test=cfg["n_test"])
idx = study.labelled_subset(1000, len(data.x_train), 0)
mlp, rng = study.start_mlp("random+dropout", None, [data.x_train.shape[1], *cfg["hidden"], 10], 0)
start = time.perf_counter()
epochs = cfg["dropout_epochs"]
history = study.fine_tune_subset(mlp, data.x_train[idx], data.y_train[idx], data.x_valid, data.y_valid, rng=rng,
                                 epochs=epochs, patience=epochs, **study.DROPOUT_FINE_TUNE)
curve = [float(v) for v in history["valid_error"]]
record = {"arm": "random+dropout", "seed": 0, "n_labels": 1000, "epochs": epochs, "early_stopping": "none",
          "first_epoch_below_85_percent": int(np.argmax(np.array(curve) < 0.85)) + 1,
          "best_valid_error": min(curve), "test_error_at_best_valid": study.error_rate(mlp, data.x_test,
                                                                                       data.y_test),
          "seconds": time.perf_counter() - start, "valid_curve": curve}
with open(sys.argv[1], "w") as f:
    json.dump(record, f, indent=1)
print({k: v for k, v in record.items() if k != "valid_curve"})
