"""Probe for study 2's published arms (issue 30): each new update against its source, and its cost per unit.

Hinton & Salakhutdinov's conjugate gradients (``published.ConjugateGradient``, backpropclassify.m): on the full
784-500-500-2000-10 net, one epoch with the top layer alone then one with every layer, over ``N_BATCHES`` batches
of 1 000 images: per batch the line searches made (≤ 3), the evaluations, the batch's summed cross-entropy before
and after. Srivastava's SGD (``published.RampedMomentumSGD``, deepnet parameter.py): the momentum and each weight
matrix's rate at chosen updates against deepnet's formula, and the CPU seconds of ``N_UPDATES`` dropout updates at
batch 100. Both costs are CPU seconds of this process (``time.process_time``; with one BLAS thread, one core's
time whatever else the machine runs), scaled to the full protocol.

    OPENBLAS_NUM_THREADS=1 python docs/probes/published_finetuning.py OUT.json

(≈ 2–4 min of one core.) The net starts from random weights: the probe checks the updates, not the accuracy.
"""
import json
import math
import sys
import time

import numpy as np

from pretrainlab.data import load_mnist
from pretrainlab.mlp import MLP
from pretrainlab.studies.pretraining.published import SRIVASTAVA, ConjugateGradient, RampedMomentumSGD, dropout_lr_scale

N_BATCHES, N_UPDATES = 4, 300
SIZES = [784, 500, 500, 2000, 10]
data = load_mnist(n_train=N_BATCHES * 1000, n_valid=1, n_test=1)
out = {"sizes": SIZES}

# -- conjugate gradients: epoch 0 (top layer alone) and epoch 5 (all layers), N_BATCHES batches each
mlp = MLP(SIZES, rng=0)
opt = ConjugateGradient(mlp.params, line_searches=3, first_only=("W4", "b4"), first_epochs=5, objective_scale=1000)
cg = []
for epoch in (0, 5):
    opt.set_epoch(epoch)
    for b in range(N_BATCHES):
        xb, yb = data.x_train[b * 1000:(b + 1) * 1000], data.y_train[b * 1000:(b + 1) * 1000]
        before = {k: v.copy() for k, v in mlp.params.items()}
        cpu = time.process_time()
        loss0, _ = opt.step(lambda: mlp.loss_and_grads(xb, yb))
        cpu = time.process_time() - cpu
        loss1 = mlp.loss_and_grads(xb, yb)[0]
        moved = sorted(k for k in mlp.params if np.any(mlp.params[k] != before[k]))
        cg.append({"epoch": epoch, "batch": b, "line_searches": opt.last_result["searches"],
                   "evaluations": opt.last_result["evaluations"], "summed_loss_before": 1000 * loss0,
                   "summed_loss_after": 1000 * loss1, "parameters_moved": moved, "cpu_seconds": cpu})
        print(cg[-1], flush=True)
all_layers = [r for r in cg if r["epoch"] == 5]
top = [r for r in cg if r["epoch"] == 0]
per_batch = {"top": float(np.mean([r["cpu_seconds"] for r in top])),
             "all": float(np.mean([r["cpu_seconds"] for r in all_layers]))}
out["conjugate_gradients"] = {
    "batches": cg, "all_at_most_3_line_searches": all(r["line_searches"] <= 3 for r in cg),
    "every_batch_loss_lowered": all(r["summed_loss_after"] < r["summed_loss_before"] for r in cg),
    "top_epoch_moves_only_W4_b4": all(r["parameters_moved"] == ["W4", "b4"] for r in top),
    "cpu_seconds_per_batch": per_batch,
    # 60 batches of 1 000 per epoch (60 000 images); 5 top-layer epochs + 195 full ones; + the test pass per epoch
    "cpu_hours_200_epochs": (60 * (5 * per_batch["top"] + 195 * per_batch["all"])) / 3600}

# -- Srivastava: the momentum ramp and the rates against deepnet's formula; the cost of dropout updates
mlp = MLP(SIZES, rng=0, dropout_input=0.2, dropout_hidden=0.5)
sgd = RampedMomentumSGD(mlp.params, lr=SRIVASTAVA["lr"], momentum_steps=SRIVASTAVA["momentum_steps"],
                        lr_scale=dropout_lr_scale(mlp))
deepnet = lambda t: 0.9 - (0.9 - 0.5) * math.exp(-t / 3000)  # parameter.py, GetMomentumAndEpsilon
checks = {t: {"ours": sgd.momentum_at(t), "deepnet": deepnet(t)} for t in (0, 1, 1000, 3000, 6000, 12000, 30000)}
out["srivastava"] = {"momentum": checks, "momentum_matches": all(abs(c["ours"] - c["deepnet"]) < 1e-15
                                                                 for c in checks.values()),
                     "rate_per_matrix": {k: SRIVASTAVA["lr"] * s for k, s in sgd.lr_scale.items()},
                     "rate_of_biases": SRIVASTAVA["lr"]}
x, y = data.x_train, data.y_train
order = np.random.default_rng(0).permutation(len(x))
cpu = time.process_time()
momenta = []
for t in range(N_UPDATES):
    idx = order[(t * 100) % len(x):(t * 100) % len(x) + 100]
    _, grads = mlp.loss_and_grads(x[idx], y[idx])
    sgd.step(grads)
    momenta.append(sgd.momentum)
cpu = time.process_time() - cpu
out["srivastava"].update(momentum_used_per_update_matches=all(m == sgd.momentum_at(t) for t, m in enumerate(momenta)),
                         cpu_seconds_per_update=cpu / N_UPDATES,
                         cpu_hours_per_million_updates=cpu / N_UPDATES * 1e6 / 3600)
print(json.dumps({k: v for k, v in out.items() if k != "conjugate_gradients"}, indent=1))
print({k: v for k, v in out["conjugate_gradients"].items() if k != "batches"})
json.dump(out, open(sys.argv[1], "w"), indent=1)
