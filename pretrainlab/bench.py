"""``pretrainlab bench``: how fast the lab's hot loops run, each measured beside its reference in one run.

Two kinds of reference (MISSION.md, "Speed"):

- ``*_vs_gemm``: the lower limit, the time the step's matrix products alone take (the same shapes, the
  same number of calls, NumPy/BLAS into preallocated outputs, nothing else). ``ratio = ours / ref``:
  1.0 would mean everything besides the products is free.
- ``*_vs_numpy``: the straightforward NumPy code for the same step (``kernels.set_backend("numpy")``, or
  the NumPy reference a kernel is tested against). ``ratio = ref / ours``, the speed-up.

Every workload is timed ``repeats`` times, ours and the reference alternating, and the best time of each
is kept: on a shared machine the minimum is the least disturbed measurement. Each workload states its
goal; ``meets_goal`` says whether this run reached it. Wall-clock numbers depend on the machine and its
load — compare ratios, and quote the machine with them.
"""
import json
import os
import platform
import time

import numpy as np

from . import kernels
from .data import load_mnist, minibatches
from .rbm import BernoulliRBM, ContrastiveDivergence
from .train import SGD


def _best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _compare(ours, ref, repeats):
    """Best-of-``repeats`` times of ``ours`` and ``ref``, alternating so both see the same machine load."""
    ours(), ref()  # warm-up: JIT cache load, first-touch of buffers, BLAS thread start
    times = {"ours": np.inf, "ref": np.inf}
    for _ in range(repeats):
        times["ours"] = min(times["ours"], _best_time(ours, 1))
        times["ref"] = min(times["ref"], _best_time(ref, 1))
    return times["ours"], times["ref"]


def _result(ours_s, ref_s, kind, goal, what):
    ratio = ours_s / ref_s if kind == "vs_gemm" else ref_s / ours_s
    meets = ratio <= goal if kind == "vs_gemm" else ratio >= goal
    return {"ours_s": ours_s, "ref_s": ref_s, "ratio": ratio,
            "goal": f"{'<=' if kind == 'vs_gemm' else '>='} {goal}", "meets_goal": bool(meets), "measures": what}


def _mnist(n):
    return load_mnist(n_train=n, n_valid=1, n_test=1).x_train


# ---------------------------------------------------------------------------------------------- workloads
def cd1_b100_vs_gemm(quick):
    """One CD-1 epoch of a 784→500 RBM at batch 100 (gradient + momentum SGD, shuffled minibatches)
    ÷ the five products of each step alone: v₀W, h₀Wᵀ, v₁W, v₀ᵀph₀, v₁ᵀph₁."""
    x = _mnist(5_000 if quick else 50_000)
    batch, n_hidden = 100, 500
    rbm = BernoulliRBM(x.shape[1], n_hidden, rng=0)
    cd = ContrastiveDivergence(rbm, k=1)
    opt = SGD(rbm.params, lr=0.05, momentum=0.5)
    order = np.random.default_rng(1)

    def ours():
        for xb, _ in minibatches(x, batch_size=batch, rng=order):
            _, grads = cd(xb)
            opt.step(grads)

    W = rbm.W
    ph, pv = np.empty((batch, n_hidden), W.dtype), np.empty((batch, x.shape[1]), W.dtype)
    gW = np.empty_like(W)

    def ref():
        for start in range(0, len(x), batch):
            v = x[start:start + batch]
            np.matmul(v, W, out=ph)
            np.matmul(ph, W.T, out=pv)
            np.matmul(pv, W, out=ph)
            np.matmul(v.T, ph, out=gW)
            np.matmul(pv.T, ph, out=gW)

    ours_s, ref_s = _compare(ours, ref, 2 if quick else 3)
    return _result(ours_s, ref_s, "vs_gemm", 1.15, "CD-1 epoch 784→500, batch 100 ÷ its matrix products")


def cd1_b10_vs_numpy(quick):
    """CD-1 training steps (gradient + momentum SGD) of a 784→500 RBM at batch 10: the automatic choice
    (the Numba kernels at this size) against the NumPy path (``kernels.backend("numpy")``)."""
    n_steps, batch = (100 if quick else 1000), 10
    x = _mnist(n_steps * batch)
    batches = [x[i:i + batch] for i in range(0, len(x), batch)]

    def steps(backend):
        rbm = BernoulliRBM(x.shape[1], 500, rng=0)
        cd = ContrastiveDivergence(rbm, k=1)
        opt = SGD(rbm.params, lr=0.05, momentum=0.5)

        def run():
            with kernels.backend(backend):
                for xb in batches:
                    _, grads = cd(xb)
                    opt.step(grads)
        return run

    ours_s, ref_s = _compare(steps("auto"), steps("numpy"), 2 if quick else 3)
    return _result(ours_s, ref_s, "vs_numpy", 1.5, "CD-1 steps 784→500, batch 10: steps/s ours ÷ NumPy path")


def online_ae_vs_numpy(quick):
    """Online SGD (batch 1) of study 4's tied ReLU autoencoder 784→32 on standardised MNIST:
    ``kernels.online_ae_sgd`` (the kernel) against its straightforward NumPy steps (``online_ae_grads``)."""
    x = _mnist(2_000 if quick else 20_000)
    x = (x - x.mean()) / x.std()
    n_visible, n_hidden = x.shape[1], 32
    W0 = np.random.default_rng(0).standard_normal((n_visible, n_hidden)).astype(np.float32)
    lr = 0.5 / n_visible  # study 4's lr/D scaling; stable for this data

    def steps(backend):
        def run():
            W, b = W0.copy(), np.zeros(n_hidden, np.float32)
            with kernels.backend(backend):
                losses = kernels.online_ae_sgd(x, W, W, b, lr, lr, lr, activation="relu")
            if not np.all(np.isfinite(losses)):
                raise RuntimeError("online_ae_vs_numpy: the loss diverged; the timing would be meaningless")
        return run

    ours_s, ref_s = _compare(steps("auto"), steps("numpy"), 2 if quick else 3)
    return _result(ours_s, ref_s, "vs_numpy", 5, "tied ReLU AE 784→32, batch 1: steps/s kernel ÷ NumPy")


WORKLOADS = {
    "cd1_b100_vs_gemm": cd1_b100_vs_gemm,
    "cd1_b10_vs_numpy": cd1_b10_vs_numpy,
    "online_ae_vs_numpy": online_ae_vs_numpy,
}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine():
    """A one-line description of where the numbers were measured."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    return (f"{_cpu_name()}, {os.cpu_count()} logical CPUs, "
            f"BLAS threads {threads}, Python {platform.python_version()}, NumPy {np.__version__}")


def run(quick=False, names=None, verbose=True):
    """Measure each workload (all, or those in ``names``); return {name: {"ours_s", "ref_s", "ratio", ...}}."""
    names = list(WORKLOADS) if names is None else list(names)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise ValueError(f"names: unknown workloads {unknown}; choose from {sorted(WORKLOADS)}")
    results = {}
    for name in names:
        results[name] = WORKLOADS[name](quick)
        if verbose:
            r = results[name]
            print(f"{name:22s} ours {r['ours_s']:8.3f} s   ref {r['ref_s']:8.3f} s   ratio {r['ratio']:6.2f}"
                  f"   goal {r['goal']:8s} {'ok' if r['meets_goal'] else 'MISSED'}", flush=True)
    return results


def main(quick=False, as_json=False):
    results = run(quick=quick, verbose=not as_json)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print(f"machine: {machine()}")
    return 0
