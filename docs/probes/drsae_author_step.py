"""Probe for study 5 (issue 29): is the author's step stable, and how far does it get, against the old reading?

The author's code sums every loss over its minibatch of 10 and weights the reconstruction by 5, so its "lr 5e-3" is
lr 0.25 on the lab's batch-mean loss (``drsae_train``; the equality of the two forms is
``tests/studies/drsae/test_drsae_train.py::test_the_codes_summed_loss_at_5e_3_and_the_batch_mean_at_0_25_give_the_same_update``).
This probe trains the 784-400¹¹-10 model from the code's initialisation on the first 10 000 training images for 2
unsupervised + 3 discriminative epochs with (a) the author's protocol (``DrSAEProtocol()``: 0.25, the per-update
decay, the code's factors and repair interval) and (b) the same with the rate read as a batch-mean 5e-3 (50× smaller),
and reports the validation error on the 10 000 validation images, the losses, and the seconds per epoch (one core).

    OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_author_step.py [OUT_JSON]
"""
import json
import sys
import time

import numpy as np

from pretrainlab.data import load_mnist
from pretrainlab.studies.drsae.model import DrSAE, normalize_rows
from pretrainlab.studies.drsae.train import DrSAEProtocol, error_rate, train_drsae

out = sys.argv[1] if len(sys.argv) > 1 else "docs/results/drsae-probe-author-step.json"
mnist = load_mnist(n_train=10000, n_valid=10000, n_test=1)
x, xv = normalize_rows(mnist.x_train), normalize_rows(mnist.x_valid)
results = {}
for name, lr in (("author (0.25 on the batch mean)", 0.25), ("batch-mean 5e-3 (the old reading)", 5e-3)):
    model = DrSAE(784, 400, 10, n_steps=11, rng=0).init_ista(x, rng=0)
    protocol = DrSAEProtocol(unsupervised_epochs=2, discriminative_epochs=3, lr=lr, min_epochs=0)
    start = time.perf_counter()
    r = train_drsae(model, x, mnist.y_train, xv, mnist.y_valid, protocol, rng=0, verbose=False)
    results[name] = {"lr": lr, "seconds": time.perf_counter() - start,
                     "unsupervised_valid_loss": r["unsupervised"]["valid_loss"],
                     "unsupervised_train_loss": r["unsupervised"]["loss"],
                     "discriminative_valid_error": r["discriminative"]["valid_error"],
                     "discriminative_train_loss": r["discriminative"]["loss"],
                     "seconds_per_epoch": [float(t) for t in r["unsupervised"]["time"] + r["discriminative"]["time"]],
                     "final_valid_error": error_rate(model, xv, mnist.y_valid),
                     "finite": bool(all(np.all(np.isfinite(p)) for p in model.params.values()))}
    print(name, json.dumps(results[name], indent=None)[:600], flush=True)
with open(out, "w") as f:
    json.dump({"probe": "drsae_author_step", "command": "OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_author_step.py",
               "n_train": 10000, "model": "784-400^11-10", "results": results}, f, indent=1)
