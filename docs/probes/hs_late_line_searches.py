"""Probe for study 2's ``dbn-hs`` arm (issue 30): why its conjugate-gradient epochs grow once the data are fitted.

The seed-0 run's epochs took ≈ 225 s at first and 386 → 945 s over epochs 33–45, while the training loss fell from
6e-9 to 3e-13 per image. The presumption: near rounding level the line searches fail and spend minimize.m's whole
budget of evaluations. This probe loads a ``dbn-hs`` checkpoint (``pretrainlab.checkpoint.load_model``), runs
``ConjugateGradient`` — 3 line searches, every layer, as in epochs ≥ 5 — on ``N_BATCHES`` batches of 1 000 training
images, and records per batch the line searches made and accepted, the evaluations, the summed loss before and after
and the CPU seconds. The checkpoint file is only read; the probe's updates are not saved.

    OPENBLAS_NUM_THREADS=1 python docs/probes/hs_late_line_searches.py CHECKPOINT.npz OUT.json

(≈ 35 s of one core.)
"""
import json
import sys
import time

import numpy as np

from pretrainlab.checkpoint import load_model
from pretrainlab.data import load_mnist
from pretrainlab.studies.pretraining.experiment import all_images
from pretrainlab.studies.pretraining.published import ConjugateGradient

N_BATCHES = 4
checkpoint, out_path = sys.argv[1], sys.argv[2]
mlp = load_model(checkpoint)
data = load_mnist(n_train=50_000, n_valid=10_000, n_test=1)
x, y = all_images(data)  # the arm fine-tunes on all 60 000 images
order = np.random.default_rng(0).permutation(len(x))[:N_BATCHES * 1000]
opt = ConjugateGradient(mlp.params, line_searches=3, objective_scale=1000)
opt.set_epoch(5)  # every layer trains
batches = []
for b in range(N_BATCHES):
    idx = order[b * 1000:(b + 1) * 1000]
    xb, yb = x[idx].astype(np.float64), y[idx]
    cpu = time.process_time()
    loss0, _ = opt.step(lambda: mlp.loss_and_grads(xb, yb))
    cpu = time.process_time() - cpu
    loss1 = mlp.loss_and_grads(xb, yb)[0]
    batches.append({"batch": b, **{k: int(v) for k, v in opt.last_result.items()},
                    "summed_loss_before": 1000 * float(loss0), "summed_loss_after": 1000 * float(loss1),
                    "cpu_seconds": cpu})
    print(batches[-1], flush=True)
result = {"checkpoint": checkpoint, "batches": batches,
          "mean_evaluations": float(np.mean([r["evaluations"] for r in batches])),
          "mean_cpu_seconds": float(np.mean([r["cpu_seconds"] for r in batches]))}
with open(out_path, "w") as fh:
    json.dump(result, fh, indent=1)
print({k: v for k, v in result.items() if k != "batches"})
