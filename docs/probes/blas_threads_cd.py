"""Probe for study 2's reproducibility (issue 30): what makes the same seed give another DBN.

The presumption to test: a different CPU or BLAS thread count changes the last bits of p(h | v), and the
Bernoulli sampling of CD amplifies them. Three measurements, each in a fresh process so that OpenBLAS reads its
settings at start-up:

1. p(h | v) = σ(vW + b_hid) for one 100-image batch through a 784 × 500 float32 RBM, with 1 and 2 BLAS threads
   and with OpenBLAS's kernels for other CPUs (``OPENBLAS_CORETYPE``: the kernel a machine of that kind would
   run): how many entries differ from the 1-thread Haswell result, and by how much.
2. One RBM layer (784 → 500, CD-1 with sampled negatives as study 2's ``dbn`` arm, 2 epochs on 5 000 images,
   seed 0) in each setting: max |ΔW| against the 1-thread Haswell run, and whether a second run of the same
   setting is identical.
3. The same for an MLP trained by SGD without sampling (784-500-10, 2 epochs): how far rounding differences go
   when nothing samples.

    OPENBLAS_NUM_THREADS=1 python docs/probes/blas_threads_cd.py OUT.json

(≈ 2–3 min of one core per setting.)
"""
import json
import os
import subprocess
import sys

SETTINGS = {"1 thread, Haswell": dict(threads=1, core="Haswell"), "2 threads, Haswell": dict(threads=2, core="Haswell"),
            "1 thread, SkylakeX": dict(threads=1, core="SkylakeX"), "1 thread, Sandybridge": dict(threads=1, core="Sandybridge"),
            "1 thread, Zen": dict(threads=1, core="Zen")}

CHILD = r"""
import hashlib, json, sys
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
from pretrainlab.data import load_mnist
from pretrainlab.mlp import MLP
from pretrainlab.pretrain import LayerSettings, fine_tune, greedy_pretrain
from pretrainlab.rbm import BernoulliRBM

threads = int(sys.argv[1])
data = load_mnist(n_train=5000, n_valid=1, n_test=1)
x, y = data.x_train, data.y_train
with threadpool_limits(threads):
    rbm = BernoulliRBM(784, 500, rng=0, init_scale=0.1)
    ph = rbm.mean_hiddens(x[:100])
    runs = [greedy_pretrain(x, (500,), LayerSettings(kind="rbm", epochs=2), rng=0)[0].W for _ in range(2)]
    mlps = []
    for _ in range(2):
        mlp = MLP([784, 500, 10], rng=0)
        fine_tune(mlp, x, y, None, None, epochs=2, lr=0.1, momentum=0.9, rng=0)
        mlps.append(mlp.params["W1"])
np.savez(sys.argv[2], ph=ph, rbm_W=runs[0], mlp_W1=mlps[0])
print(json.dumps({"architecture": [p.get("architecture") for p in threadpool_info()],
                  "threads": [p.get("num_threads") for p in threadpool_info()],
                  "rbm_repeat_identical": bool(np.array_equal(runs[0], runs[1])),
                  "mlp_repeat_identical": bool(np.array_equal(mlps[0], mlps[1]))}))
"""

if __name__ == "__main__":
    import numpy as np

    out, arrays = {}, {}
    for name, s in SETTINGS.items():
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(s["threads"]), OPENBLAS_CORETYPE=s["core"])
        path = f"/tmp/blas_probe_{s['threads']}_{s['core']}.npz"
        done = subprocess.run([sys.executable, "-c", CHILD, str(s["threads"]), path], env=env, capture_output=True,
                              text=True)
        if done.returncode:
            # (an OpenBLAS kernel for instructions this CPU lacks dies of SIGILL: exit −4)
            out[name] = {"error": f"exit {done.returncode}: {done.stderr[-300:]}"}
            continue
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
        arrays[name] = dict(np.load(path))
        print(name, out[name], flush=True)
    ref = arrays["1 thread, Haswell"]
    for name, a in arrays.items():
        diff = np.abs(a["ph"].astype(np.float64) - ref["ph"])
        out[name].update(ph_entries_differing=int((diff > 0).sum()), ph_max_abs_diff=float(diff.max()),
                         rbm_W_max_abs_diff=float(np.abs(a["rbm_W"] - ref["rbm_W"]).max()),
                         rbm_W_mean_abs=float(np.abs(ref["rbm_W"]).mean()),
                         mlp_W1_max_abs_diff=float(np.abs(a["mlp_W1"] - ref["mlp_W1"]).max()))
    print(json.dumps(out, indent=1))
    json.dump(out, open(sys.argv[1], "w"), indent=1)
