"""Probe for study 2's ``dbn-dropout-srivastava`` arm (issue 30): which published dropout fine-tuning, at what L2 cost?

The arm's first run (seed 0, λ = 1e-3 from deepnet's ``examples/dbn/mnist_classifier.pbtxt``) saw its validation
error *rise* from 6.68 % (epoch 15) to 10.4 % (epoch 60) while ½λΣ‖W‖² dominated its loss. This probe fine-tunes
the same pretrained ``dbn-hs`` stack (seed 0), with the same seed, for ``EPOCHS`` epochs on the 50 000 training
images at each published setting named on the command line — dropout 0.2/0.5, weights at the paper's 1/q scale and
batch 100 in all — recording after every epoch the validation error (10 000 images), the training loss and the
norm ‖W_l‖ of each weight matrix. A setting is ``deepnet:λ`` (``published.SRIVASTAVA``: ε = 0.01, momentum
0.5 → 0.9, with L2 cost λ; λ = 0 is the control that lacks only the decay) or ``hinton2012``
(``published.HINTON_2012``: ε = 1.0 damped by 1 − p, p 0.5 → 0.99 linearly, no decay).

    OPENBLAS_NUM_THREADS=1 python docs/probes/dropout_fine_tuning.py STACK_DIR OUT.json FIG.png SETTING ...

(run as ``… hinton2012 deepnet:0``; with no SETTING it only redraws FIG.png from OUT.json).
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
from pretrainlab.plotting import finish_log_axes
from pretrainlab.pretrain import error_rate
from pretrainlab.studies.pretraining.published import (DROPOUT_PROTOCOLS, SRIVASTAVA, fine_tune_srivastava,
                                                        split_protocol, srivastava_mlp)

EPOCHS, SEED = 20, 0
stack_dir, out_json, out_fig = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = sys.argv[4:]  # none named: only redraw FIG.png from OUT.json

out = json.loads(out_json.read_text()) if out_json.is_file() else {}  # settings run before are kept
data = stack = per_epoch = None  # a redraw needs neither MNIST nor the stack
if settings:
    data = load_mnist()  # 50 000 / 10 000 / 10 000, as the arm
    stack = [load_model(stack_dir / f"stack-dbn-hs-seed{SEED}-layer{i}.npz") for i in (1, 2, 3)]
    per_epoch = -(-len(data.x_train) // SRIVASTAVA["batch_size"])
    out.update(epochs=EPOCHS, seed=SEED, updates_per_epoch=per_epoch, protocols=DROPOUT_PROTOCOLS)
out.setdefault("runs", {})


def protocol(setting):
    """``split_protocol`` of the setting named (an L2 cost after the colon replaces the protocol's)."""
    name, _, lam = setting.partition(":")
    net, kw = split_protocol(DROPOUT_PROTOCOLS[name])
    if lam:
        net["weight_decay"] = float(lam)
    kw["updates"] = EPOCHS * per_epoch
    return kw, net


def norms(m):
    return {k: float(np.linalg.norm(m.params[k])) for k in sorted(m.params) if k.startswith("W")}


for setting in settings:
    kw, net = protocol(setting)
    mlp = srivastava_mlp(stack, 10, np.random.default_rng(SEED), **net)
    start_norms, start_valid = norms(mlp), error_rate(mlp, data.x_valid, data.y_valid)
    curve = {"valid_error": [], "norms": []}

    def record(m):  # a monitor: called once per epoch with the model
        curve["norms"].append(norms(m))
        return error_rate(m, data.x_valid, data.y_valid)

    t0 = time.perf_counter()
    history, opt = fine_tune_srivastava(mlp, data.x_train, data.y_train, rng=mlp.rng,
                                        monitors={"valid_error": record}, verbose=False, **kw)
    run = {"setting": setting, **net, "start_norms": start_norms, "start_valid_error": start_valid,
           "valid_error": list(map(float, history["valid_error"])), "loss": list(map(float, history["loss"])),
           "norms": curve["norms"], "updates": int(opt.updates), "seconds": time.perf_counter() - t0}
    out["runs"][setting] = run
    print(f"{setting}: valid error by epoch " + " ".join(f"{100 * e:.2f}" for e in run["valid_error"])
          + f"  ‖W1‖ {start_norms['W1']:.1f} → {run['norms'][-1]['W1']:.1f}  ({run['seconds']:.0f} s)", flush=True)
    out_json.write_text(json.dumps(out, indent=1))  # after each setting: nothing lost if stopped

fig = Figure(figsize=(10, 4))
ax1, ax2 = fig.subplots(1, 2)
for key, run in out["runs"].items():
    e = np.arange(1, len(run["valid_error"]) + 1)
    ax1.plot(e, 100 * np.asarray(run["valid_error"]), marker="o", ms=3, label=key)
    ax2.plot(np.r_[0, e], [run["start_norms"]["W1"]] + [n["W1"] for n in run["norms"]], label=key)
finish_log_axes(ax1, xlabel="epoch (500 updates)", ylabel="validation error (%)",
                title="dropout fine-tuning of the dbn-hs stack (seed 0)")
ax2.set(xlabel="epoch", ylabel="‖W1‖ (Frobenius)", title="first-layer weights")
ax2.grid(alpha=0.3)
ax2.legend()
fig.tight_layout()
fig.savefig(out_fig, dpi=110)
print("wrote", out_json, out_fig)
