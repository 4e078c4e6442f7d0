"""``pretrainlab bench``: how fast the lab's hot loops run, each measured beside its reference in one run.

Two kinds of reference (MISSION.md, "Speed"):

- ``*_vs_gemm``: the lower limit, the time the step's matrix products alone take (the same shapes, the
  same number of calls, NumPy/BLAS into preallocated outputs, nothing else). ``ratio = ours / ref``:
  1.0 would mean everything besides the products is free.
- ``*_vs_numpy``: the straightforward NumPy code for the same step (``kernels.set_backend("numpy")``, or
  the NumPy reference a kernel is tested against). ``ratio = ref / ours``, the speed-up.

Every workload is timed several times (5; AIS once), ours and the reference alternating, and the best time of each
is kept: on a shared machine the minimum is the least disturbed measurement. Each workload states its
goal; ``meets_goal`` says whether this run reached it. Wall-clock numbers depend on the machine and its
load — compare ratios, and quote the machine with them.

Where PyTorch is installed (optional, never required) the full run also times each workload written in
PyTorch and reports ``torch_s`` and ``torch_ratio`` (against the same reference). ``--quick`` uses small
sizes and skips PyTorch: it proves the harness, not the speed.
"""
import json
import os
import platform
import time

import numpy as np

from . import kernels
from .data import load_mnist, minibatches
from .likelihood import ais_log_partition
from .mlp import MLP
from .cd import ContrastiveDivergence
from .optim import SGD
from .rbm import BernoulliRBM
from .shallow_ae import online_ae_sgd


def _best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _compare(ours, ref, repeats, warm_up=True):
    """Best-of-``repeats`` times of ``ours`` and ``ref``, alternating so both see the same machine load."""
    if warm_up:  # JIT cache load, first touch of buffers, BLAS thread start
        ours(), ref()
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


def _torch():
    """PyTorch if installed (optional, never required): the same workloads are then timed in it too."""
    try:
        import torch
    except ImportError:
        return None
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if threads:  # the same number of threads as NumPy's BLAS, for a fair comparison
        torch.set_num_threads(int(threads))
    return torch


def _with_torch(result, torch_run, repeats):
    """Add ``torch_s`` and ``torch_ratio`` (PyTorch against the same reference) when PyTorch is installed."""
    if torch_run is not None:
        torch_run()  # warm-up
        result["torch_s"] = _best_time(torch_run, repeats)
        ref = result["ref_s"]
        result["torch_ratio"] = result["torch_s"] / ref if result["goal"].startswith("<=") else ref / result["torch_s"]
    return result


def _torch_cd1(batches, n_hidden):
    """CD-1 with momentum SGD written in PyTorch (CPU, float32) as a user of it would: returns a runner or None."""
    torch = _torch()
    if torch is None:
        return None
    n_visible = batches[0].shape[1]
    gen = torch.Generator().manual_seed(0)
    W = 0.01 * torch.randn(n_visible, n_hidden, generator=gen)
    b_vis, b_hid = torch.zeros(n_visible), torch.zeros(n_hidden)
    params = [W, b_vis, b_hid]
    velocity = [torch.zeros_like(p) for p in params]
    data = [torch.from_numpy(np.ascontiguousarray(xb)) for xb in batches]

    def run():
        for v0 in data:
            ph0 = torch.sigmoid(v0 @ W + b_hid)
            h0 = torch.bernoulli(ph0, generator=gen)
            v1 = torch.bernoulli(torch.sigmoid(h0 @ W.T + b_vis), generator=gen)
            ph1 = torch.sigmoid(v1 @ W + b_hid)
            n = len(v0)
            grads = [(v1.T @ ph1 - v0.T @ ph0) / n, (v1 - v0).mean(0), (ph1 - ph0).mean(0)]
            for p, u, g in zip(params, velocity, grads):
                u.mul_(0.5).add_(g, alpha=-0.05)
                p.add_(u)
    return run


def _mnist(n):
    return load_mnist(n_train=n, n_valid=1, n_test=1).x_train


# ---------------------------------------------------------------------------------------------- workloads
def cd1_b100_vs_gemm(quick):
    """One CD-1 epoch of a 784→500 RBM at batch 100 (gradient + momentum SGD, shuffled minibatches)
    ÷ the five products of each step alone: v₀W, h₀Wᵀ, v₁W, v₀ᵀph₀, v₁ᵀph₁."""
    x = _mnist(2_000 if quick else 50_000)
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

    repeats = 2 if quick else 5
    ours_s, ref_s = _compare(ours, ref, repeats)
    result = _result(ours_s, ref_s, "vs_gemm", 1.15, "CD-1 epoch 784→500, batch 100 ÷ its matrix products")
    batches = [x[i:i + batch] for i in range(0, len(x), batch)]
    return _with_torch(result, None if quick else _torch_cd1(batches, n_hidden), repeats)


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

    repeats = 2 if quick else 5
    ours_s, ref_s = _compare(steps("auto"), steps("numpy"), repeats)
    result = _result(ours_s, ref_s, "vs_numpy", 1.5, "CD-1 steps 784→500, batch 10: steps/s ours ÷ NumPy path")
    return _with_torch(result, None if quick else _torch_cd1(batches, 500), repeats)


def backprop_b100_vs_gemm(quick):
    """One epoch of a 784-500-500-10 sigmoid MLP at batch 100 (backpropagation + momentum SGD, shuffled
    minibatches) ÷ the eight products of each step alone: three forward, dW and dh of the top two layers, dW₁."""
    data = load_mnist(n_train=2_000 if quick else 50_000, n_valid=1, n_test=1)
    x, y = data.x_train, data.y_train
    sizes, batch = (x.shape[1], 500, 500, 10), 100
    mlp = MLP(sizes, rng=0)
    opt = SGD(mlp.params, lr=0.05, momentum=0.5)
    order = np.random.default_rng(1)

    def ours():
        for xb, yb in minibatches(x, y, batch_size=batch, rng=order):
            _, grads = mlp.loss_and_grads(xb, yb)
            opt.step(grads)

    Ws = [mlp.params[f"W{l}"] for l in (1, 2, 3)]
    hs = [np.empty((batch, n), np.float32) for n in sizes[1:]]  # layer outputs, reused as deltas
    dhs = [np.empty((batch, n), np.float32) for n in sizes[1:3]]
    gWs = [np.empty_like(W) for W in Ws]

    def ref():
        for start in range(0, len(x), batch):
            xb = x[start:start + batch]
            inputs = [xb, hs[0], hs[1]]
            for l in range(3):
                np.matmul(inputs[l], Ws[l], out=hs[l])
            for l in (2, 1):
                np.matmul(inputs[l].T, hs[l], out=gWs[l])
                np.matmul(hs[l], Ws[l].T, out=dhs[l - 1])
            np.matmul(xb.T, hs[0], out=gWs[0])

    repeats = 2 if quick else 5
    ours_s, ref_s = _compare(ours, ref, repeats)
    result = _result(ours_s, ref_s, "vs_gemm", 1.05, "MLP 784-500-500-10 epoch, batch 100 ÷ its matrix products")
    return _with_torch(result, None if quick else _torch_mlp(x, y, sizes, batch), repeats)


def _torch_mlp(x, y, sizes, batch):
    """The same MLP epoch in PyTorch (torch.nn layers, autograd, torch.optim.SGD): returns a runner or None."""
    torch = _torch()
    if torch is None:
        return None
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.5)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def run():
        for idx in torch.randperm(len(xs)).split(batch):
            loss = torch.nn.functional.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def ais_vs_gemm(quick):
    """AIS estimate of log Z for a 784×500 RBM, 100 runs (Salakhutdinov & Murray 2008's 14 500 inverse
    temperatures; 300 with --quick) ÷ the two products of each step alone: vW and hWᵀ for the 100 runs."""
    n_betas, n_runs = (300 if quick else 14_500), 100
    x = _mnist(1_000)
    rbm = BernoulliRBM(x.shape[1], 500, rng=0, init_scale=0.05)

    def ours():
        ais_log_partition(rbm, n_runs=n_runs, n_betas=n_betas, rng=0, data=x)

    W = rbm.W
    v, h = x[:n_runs].copy(), np.ones((n_runs, W.shape[1]), W.dtype)
    pv = np.empty_like(v)

    def ref():
        for _ in range(n_betas):
            np.matmul(v, W, out=h)
            np.matmul(h, W.T, out=pv)

    # The full run is long: warm up on a short one, then time each once.
    ais_log_partition(rbm, n_runs=n_runs, n_betas=10, rng=0, data=x)
    ours_s, ref_s = _compare(ours, ref, 2 if quick else 1, warm_up=False)
    return _result(ours_s, ref_s, "vs_gemm", 1.3, "AIS 784×500, 100 runs ÷ its matrix products")


def online_ae_vs_numpy(quick):
    """Online SGD (batch 1) of study 4's tied ReLU autoencoder 784→32 on standardised MNIST:
    ``shallow_ae.online_ae_sgd`` (the kernel) against its straightforward NumPy steps (``online_ae_grads``)."""
    x = _mnist(1_000 if quick else 20_000)
    x = (x - x.mean()) / x.std()
    n_visible, n_hidden = x.shape[1], 32
    W0 = np.random.default_rng(0).standard_normal((n_visible, n_hidden)).astype(np.float32)
    lr = 0.5 / n_visible  # study 4's lr/D scaling; stable for this data

    def steps(backend):
        def run():
            W, b = W0.copy(), np.zeros(n_hidden, np.float32)
            with kernels.backend(backend):
                losses = online_ae_sgd(x, W, W, b, lr, lr, lr, activation="relu")
            if not np.all(np.isfinite(losses)):
                raise RuntimeError("online_ae_vs_numpy: the loss diverged; the timing would be meaningless")
        return run

    repeats = 2 if quick else 5
    ours_s, ref_s = _compare(steps("auto"), steps("numpy"), repeats)
    result = _result(ours_s, ref_s, "vs_numpy", 5, "tied ReLU AE 784→32, batch 1: steps/s kernel ÷ NumPy")
    return _with_torch(result, None if quick else _torch_online_ae(x, W0, lr), repeats)


def _torch_online_ae(x, W0, lr):
    """The same online SGD in PyTorch with autograd, one sample per step: returns a runner or None."""
    torch = _torch()
    if torch is None:
        return None
    data = torch.from_numpy(x)
    sqrt_d, D = float(np.sqrt(x.shape[1])), x.shape[1]

    def run():
        W = torch.tensor(W0, requires_grad=True)
        b = torch.zeros(W0.shape[1], requires_grad=True)
        for xt in data:
            h = torch.relu((xt @ W + b) / sqrt_d)
            loss = ((W @ h - xt) ** 2).sum() / (2 * D)
            loss.backward()
            with torch.no_grad():
                W -= lr * W.grad
                b -= lr * b.grad
                W.grad = None
                b.grad = None
    return run


WORKLOADS = {
    "cd1_b100_vs_gemm": cd1_b100_vs_gemm,
    "cd1_b10_vs_numpy": cd1_b10_vs_numpy,
    "backprop_b100_vs_gemm": backprop_b100_vs_gemm,
    "online_ae_vs_numpy": online_ae_vs_numpy,
    "ais_vs_gemm": ais_vs_gemm,
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
            torch = f"   PyTorch {r['torch_s']:8.3f} s (ratio {r['torch_ratio']:.2f})" if "torch_s" in r else ""
            print(f"{name:22s} ours {r['ours_s']:8.3f} s   ref {r['ref_s']:8.3f} s   ratio {r['ratio']:6.2f}"
                  f"   goal {r['goal']:8s} {'ok' if r['meets_goal'] else 'MISSED'}{torch}", flush=True)
    return results


def main(quick=False, as_json=False):
    results = run(quick=quick, verbose=not as_json)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print(f"machine: {machine()}")
    return 0
