"""Probe for study 2's ``dbn-dropout-srivastava`` arm (issue 30): is deepnet's L2 cost what ruins the fine-tuning?

The arm's first run (seed 0, λ = 1e-3 from deepnet's ``examples/dbn/mnist_classifier.pbtxt``) saw its validation
error *rise* from 6.68 % (epoch 15) to 10.4 % (epoch 60) while ½λΣ‖W‖² dominated its loss. This probe fine-tunes
the same pretrained ``dbn-hs`` stack (seed 0) with everything else of the arm unchanged — ε = 0.01, momentum
0.5 → 0.9, dropout 0.2/0.5, weights at the paper's 1/q scale, batch 100, the same seed — for ``EPOCHS`` epochs
on the 50 000 training images at each λ in ``LAMBDAS``, recording after every epoch the validation error
(10 000 images), the mean cross-entropy and the norm ‖W_l‖ of each weight matrix. λ = 0 is the control that
lacks only the decay.

    OPENBLAS_NUM_THREADS=1 python docs/probes/srivastava_decay.py STACK_DIR OUT.json FIG.png [λ ...]

``STACK_DIR`` holds ``stack-dbn-hs-seed0-layer{1,2,3}.npz`` (the study's ``--out`` folder). About 20–30 s of one
core per epoch.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from pretrainlab.checkpoint import load_model
from pretrainlab.data import load_mnist
from matplotlib.figure import Figure
from pretrainlab.pretrain import error_rate
from pretrainlab.studies.pretraining.published import SRIVASTAVA, fine_tune_srivastava, srivastava_mlp

EPOCHS, SEED = 20, 0
stack_dir, out_json, out_fig = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
lambdas = [float(a) for a in sys.argv[4:]] or [0.0, 1e-4]

data = load_mnist()  # 50 000 / 10 000 / 10 000, as the arm
stack = [load_model(stack_dir / f"stack-dbn-hs-seed{SEED}-layer{i}.npz") for i in (1, 2, 3)]
per_epoch = -(-len(data.x_train) // SRIVASTAVA["batch_size"])
out = {"epochs": EPOCHS, "seed": SEED, "updates_per_epoch": per_epoch, "protocol": SRIVASTAVA, "runs": {}}


def norms(m):
    return {k: float(np.linalg.norm(m.params[k])) for k in sorted(m.params) if k.startswith("W")}


for lam in lambdas:
    mlp = srivastava_mlp(stack, 10, np.random.default_rng(SEED), dropout_input=SRIVASTAVA["dropout_input"],
                         dropout_hidden=SRIVASTAVA["dropout_hidden"], weight_decay=lam)
    start_norms, start_valid = norms(mlp), error_rate(mlp, data.x_valid, data.y_valid)
    curve = {"valid_error": [], "norms": []}

    def record(m):  # a monitor: called once per epoch with the model
        curve["norms"].append(norms(m))
        return error_rate(m, data.x_valid, data.y_valid)

    t0 = time.perf_counter()
    history, opt = fine_tune_srivastava(mlp, data.x_train, data.y_train, updates=EPOCHS * per_epoch,
                                        lr=SRIVASTAVA["lr"], initial_momentum=SRIVASTAVA["initial_momentum"],
                                        final_momentum=SRIVASTAVA["final_momentum"],
                                        momentum_steps=SRIVASTAVA["momentum_steps"],
                                        batch_size=SRIVASTAVA["batch_size"], rng=mlp.rng,
                                        monitors={"valid_error": record}, verbose=False)
    run = {"weight_decay": lam, "start_norms": start_norms, "start_valid_error": start_valid,
           "valid_error": list(map(float, history["valid_error"])), "loss": list(map(float, history["loss"])),
           "norms": curve["norms"], "updates": int(opt.updates), "seconds": time.perf_counter() - t0}
    out["runs"][repr(lam)] = run
    print(f"λ={lam:g}: valid error by epoch " + " ".join(f"{100 * e:.2f}" for e in run["valid_error"])
          + f"  ‖W1‖ {start_norms['W1']:.1f} → {run['norms'][-1]['W1']:.1f}  ({run['seconds']:.0f} s)", flush=True)
    out_json.write_text(json.dumps(out, indent=1))  # after each λ: nothing lost if stopped

fig = Figure(figsize=(10, 4))
ax1, ax2 = fig.subplots(1, 2)
for key, run in out["runs"].items():
    e = np.arange(1, len(run["valid_error"]) + 1)
    ax1.plot(e, 100 * np.asarray(run["valid_error"]), marker="o", ms=3, label=f"λ = {run['weight_decay']:g}")
    ax2.plot(np.r_[0, e], [run["start_norms"]["W1"]] + [n["W1"] for n in run["norms"]], label=f"λ = {run['weight_decay']:g}")
ax1.set(xlabel="epoch (500 updates)", ylabel="validation error (%)", yscale="log",
        title="Srivastava's dropout fine-tuning of the dbn-hs stack")
ax2.set(xlabel="epoch", ylabel="‖W1‖ (Frobenius)", title="first-layer weights")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig(out_fig, dpi=110)
print("wrote", out_json, out_fig)
