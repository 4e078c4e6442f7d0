"""Probe for the DrSAE bench row (issue 29): how many units are active in the bench's steps.

The deleted Numba kernel of the unrolled encoder visited only the active units (z > 0), so its advantage
depended on how sparse the code is. This probe trains the bench's model (``bench.workloads.drsae_bench_model``:
784-400, T = 11, the author's initialisation, float32) with the bench's step (``DRSAE_LR`` on the batch mean,
``lr_scale``, ``project_norms``, batch 10, the labelled loss) and prints, every 500 steps, the fraction of
active units at steps t = 1, 6 and 11 of the recurrence on 500 training images.

    OPENBLAS_NUM_THREADS=1 python docs/probes/drsae_active_units.py

(≈ 1 min of one core.)
"""
from pretrainlab.runner.bench.workloads import DRSAE_LR, DRSAE_SIZES, _drsae_data, drsae_bench_model
from pretrainlab.optim import SGD

N_STEPS, BATCH = 2_000, DRSAE_SIZES["batch"]

if __name__ == "__main__":
    x, y = _drsae_data(N_STEPS * BATCH)
    model = drsae_bench_model(x, DRSAE_SIZES["n_hidden"], DRSAE_SIZES["n_steps"])
    opt = SGD(model.params, lr=DRSAE_LR, lr_scale={k: 1.0 / d for k, d in model.lr_scale().items()})
    print("step  active units at t = 1, 6, 11 (fraction, 500 images)")
    for step in range(N_STEPS + 1):
        if step % 500 == 0:
            zs = model.encode(x[:500], return_all=True)
            print(f"{step:5d}  " + "  ".join(f"{float((zs[t] > 0).mean()):.3f}" for t in (1, 6, 11)), flush=True)
        if step < N_STEPS:
            xb, yb = x[step * BATCH:(step + 1) * BATCH], y[step * BATCH:(step + 1) * BATCH]
            _, grads = model.loss_and_grads(xb, yb)
            opt.step(grads)
            model.project_norms()
