"""The speed workloads: for each, the lab's code ("ours"), its reference ("ref") and the peers to compare.

A workload is a ``Workload`` record; its ``build(impl, quick)`` returns ``(run, warm_up)`` for one
implementation, where ``run()`` is one timed round and ``warm_up()`` the untimed call before the first
(JIT cache load, first touch of buffers, BLAS thread start). ``build`` runs inside the worker process of that
implementation only (``worker.py``), so the peers' libraries are never imported where the lab is timed.

Two kinds of reference (``docs/speed.md``):

- ``*_vs_gemm``: the lower limit, the time the step's matrix products alone take (the same shapes, the same
  number of calls, NumPy/BLAS into preallocated outputs, nothing else). ``ratio = ours / ref``: 1.0 would
  mean everything besides the products is free.
- ``*_vs_numpy``: the lab's own NumPy path for the same step (``kernels.backend("numpy")``, or the NumPy
  reference a kernel is tested against). ``ratio = ref / ours``, the speed-up.

The peers (``peers.py``) are timed against the same reference with the same orientation: "numpy" (the step
written in plain NumPy as a student would), "torch" (PyTorch on the CPU, where installed) and "sklearn"
(``sklearn.neural_network.BernoulliRBM.partial_fit``, for the CD workloads only). Some rows also time the lab's
own variants as peers, built here: "lab-numpy" (the step under ``kernels.backend("numpy")``), "no-maxnorm" and
"plain" (the dropout epoch without the projection, and without dropout either). A row may have no goal
(``goal=None``: its ratio is reported only), and one that counts ``steps`` reports steps/s.
"""
import os
import platform
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from ... import kernels
from ...cd import ContrastiveDivergence
from ...data import load_mnist, minibatches
from ...studies.drsae.model import DrSAE, normalize_rows
from ...likelihood import ais_log_partition
from ...mlp import MLP
from ...optim import SGD
from ...rbm import BernoulliRBM
from ...studies.ae_dynamics.shallow_ae import online_ae_sgd
from . import peers

IMPLS = ("ours", "ref", "numpy", "torch", "sklearn", "lab-numpy", "no-maxnorm", "plain")


@dataclass(frozen=True)
class Workload:
    """One benchmark: what it measures, its goal, and how to build each implementation's round."""
    name: str
    kind: str  # "vs_gemm" (ratio = ours / ref, lower is better) or "vs_numpy" (ratio = ref / ours, higher)
    goal: float  # None: no goal, the ratio is reported only
    measures: str
    build: Callable  # build(impl, quick) -> (run, warm_up)
    peers: tuple = ("numpy", "torch")
    full_rounds: int = 5  # default rounds of a full run (--quick: 3); --rounds overrides both
    #: training steps in one round (quick, full), for steps/s; None where a round is not a count of steps
    steps: tuple = None

    def ratio(self, impl_s, ref_s):
        """The workload's ratio for an implementation that took ``impl_s`` beside a reference of ``ref_s``."""
        return impl_s / ref_s if self.kind == "vs_gemm" else ref_s / impl_s

    def meets(self, ratio):
        """Whether ``ratio`` meets the goal; None for a workload without one (its ratio is reported only)."""
        if self.goal is None:
            return None
        return ratio <= self.goal if self.kind == "vs_gemm" else ratio >= self.goal

    @property
    def goal_text(self):
        return "none" if self.goal is None else f"{'<=' if self.kind == 'vs_gemm' else '>='} {self.goal}"


def _mnist(n):
    return load_mnist(n_train=n, n_valid=1, n_test=1).x_train


def _peer(impl, name, **makers):
    """The peer ``impl`` of workload ``name``: ``makers[impl]()`` (each a ``functools.partial`` of a ``peers``
    builder), or a ValueError naming the implementations the workload has."""
    if impl not in makers:
        raise ValueError(f"{name}: no implementation {impl!r}; it has ours, ref and {', '.join(sorted(makers))}")
    return makers[impl]()


def build_cd1_b100(impl, quick):
    """One CD-1 epoch of a 784→500 RBM at batch 100 (gradient + momentum SGD, shuffled minibatches);
    the reference is the five products of each step alone: v₀W, h₀Wᵀ, v₁W, v₀ᵀph₀, v₁ᵀph₁."""
    x = _mnist(2_000 if quick else 50_000)
    batch, n_hidden = 100, 500
    rbm = BernoulliRBM(x.shape[1], n_hidden, rng=0)
    if impl == "ours":
        cd = ContrastiveDivergence(rbm, k=1)
        opt = SGD(rbm.params, lr=0.05, momentum=0.5)
        order = np.random.default_rng(1)

        def ours():
            for xb, _ in minibatches(x, batch_size=batch, rng=order):
                _, grads = cd(xb)
                opt.step(grads, n_rows=len(xb))  # as the Trainer calls it
        return ours, ours
    if impl == "ref":
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
        return ref, ref
    return _peer(impl, "cd1_b100_vs_gemm", numpy=partial(peers.numpy_cd1, x, batch, n_hidden, shuffle=True),
                 torch=partial(peers.torch_cd1, x, batch, n_hidden), sklearn=partial(peers.sklearn_rbm, x, batch, n_hidden))


def build_cd1_b10(impl, quick):
    """CD-1 training steps (gradient + momentum SGD) of a 784→500 RBM at batch 10: ours is the automatic
    choice (the Numba kernels at this size), the reference the lab's NumPy path (``kernels.backend("numpy")``)."""
    n_steps, batch = (100 if quick else 1000), 10
    x = _mnist(n_steps * batch)
    if impl in ("ours", "ref"):
        backend = "auto" if impl == "ours" else "numpy"
        rbm = BernoulliRBM(x.shape[1], 500, rng=0)
        cd = ContrastiveDivergence(rbm, k=1)
        opt = SGD(rbm.params, lr=0.05, momentum=0.5)
        batches = [x[i:i + batch] for i in range(0, len(x), batch)]

        def steps():
            with kernels.backend(backend):
                for xb in batches:
                    _, grads = cd(xb)
                    opt.step(grads, n_rows=len(xb))  # as the Trainer calls it
        return steps, steps
    return _peer(impl, "cd1_b10_vs_numpy", numpy=partial(peers.numpy_cd1, x, batch, 500, shuffle=False),
                 torch=partial(peers.torch_cd1, x, batch, 500), sklearn=partial(peers.sklearn_rbm, x, batch, 500))


def build_backprop_b100(impl, quick):
    """One epoch of a 784-500-500-10 sigmoid MLP at batch 100 (backpropagation + momentum SGD, shuffled
    minibatches); the reference is the eight products of each step alone: three forward, dW and dh of the
    top two layers, dW₁."""
    data = load_mnist(n_train=2_000 if quick else 50_000, n_valid=1, n_test=1)
    x, y = data.x_train, data.y_train
    sizes, batch = (x.shape[1], 500, 500, 10), 100
    if impl == "ours":
        mlp = MLP(sizes, rng=0)
        opt = SGD(mlp.params, lr=0.05, momentum=0.5)
        order = np.random.default_rng(1)

        def ours():
            for xb, yb in minibatches(x, y, batch_size=batch, rng=order):
                _, grads = mlp.loss_and_grads(xb, yb)
                opt.step(grads, n_rows=len(xb))  # as the Trainer calls it
        return ours, ours
    if impl == "ref":
        return _mlp_products(x, sizes, batch)
    return _peer(impl, "backprop_b100_vs_gemm", numpy=partial(peers.numpy_mlp, x, y, sizes, batch),
                 torch=partial(peers.torch_mlp, x, y, sizes, batch))


def build_online_ae(impl, quick):
    """Online SGD (batch 1) of study 4's tied ReLU autoencoder 784→32 on standardised MNIST: ours is
    ``shallow_ae.online_ae_sgd`` (the kernel), the reference its NumPy steps (``online_ae_grads``)."""
    x = _mnist(1_000 if quick else 20_000)
    x = (x - x.mean()) / x.std()
    n_hidden = 32
    W0 = np.random.default_rng(0).standard_normal((x.shape[1], n_hidden)).astype(np.float32)
    lr = 0.5 / x.shape[1]  # study 4's lr/D scaling; stable for this data
    if impl in ("ours", "ref"):
        backend = "auto" if impl == "ours" else "numpy"

        def run():
            W, b = W0.copy(), np.zeros(n_hidden, np.float32)
            with kernels.backend(backend):
                losses = online_ae_sgd(x, W, W, b, lr, lr, lr, activation="relu")
            if not np.all(np.isfinite(losses)):
                raise RuntimeError("online_ae_vs_numpy: the loss diverged; the timing would be meaningless")
        return run, run
    return _peer(impl, "online_ae_vs_numpy", numpy=partial(peers.numpy_online_ae, x, W0, lr),
                 torch=partial(peers.torch_online_ae, x, W0, lr))


def build_ais(impl, quick):
    """AIS estimate of log Z for a 784×500 RBM, 100 runs (Salakhutdinov & Murray 2008's 14 500 inverse
    temperatures; 300 with --quick); the reference is the two products of each step alone, vW and hWᵀ."""
    n_betas, n_runs = (300 if quick else 14_500), 100
    x = _mnist(1_000)
    rbm = BernoulliRBM(x.shape[1], 500, rng=0, init_scale=0.05)
    if impl == "ours":
        def ours(n=n_betas):
            ais_log_partition(rbm, n_runs=n_runs, n_betas=n, rng=0, data=x)
        return ours, lambda: ours(10)  # the full run is long: warm up on a short one
    if impl == "ref":
        W = rbm.W
        v, h = x[:n_runs].copy(), np.ones((n_runs, W.shape[1]), W.dtype)
        pv = np.empty_like(v)

        def ref(n=n_betas):
            for _ in range(n):
                np.matmul(v, W, out=h)
                np.matmul(h, W.T, out=pv)
        return ref, lambda: ref(10)
    return _peer(impl, "ais_vs_gemm", numpy=partial(peers.numpy_ais, rbm.W, rbm.b_vis, rbm.b_hid, x, n_runs, n_betas))


# ------------------------------------------------------------------------------------ study 5's DrSAE step
#: the DrSAE bench model: 784-400 with T = 11 steps (the paper's best model), batch 10 (its minibatch)
DRSAE_SIZES = dict(n_hidden=400, n_steps=11, batch=10)
#: training steps in a round of ``drsae_b10_vs_gemm`` (--quick, full)
DRSAE_STEPS = (50, 1000)
#: the batch-mean rate of issue 29's author's step (recpool: 5e-3 on the summed loss, reconstruction weighted 5,
#: batch 10 → 5e-3 · 5 · 10), divided per matrix by ``DrSAE.lr_scale``; what the code's sparsity evolves under
DRSAE_LR = 0.25


def drsae_bench_model(x, n_hidden, n_steps):
    """The DrSAE every implementation of ``drsae_b10_vs_gemm`` starts from: the author's data-based
    initialisation (``init_ista``) on the bench's images, float32, seeded."""
    model = DrSAE(x.shape[1], n_hidden, 10, n_steps=n_steps, rng=0)
    return model.init_ista(x, rng=1)


def _drsae_data(n):
    data = load_mnist(n_train=n, n_valid=1, n_test=1)
    return normalize_rows(data.x_train), data.y_train  # the paper's preprocessing: unit-norm images


def build_drsae_b10(impl, quick):
    """DrSAE training steps at batch 10 (784-400, T = 11, float32, the discriminative loss with labels), as
    ``studies/drsae/train.py`` runs them for hours: ``loss_and_grads`` (BPTT by hand), plain SGD with the per-matrix rates
    (``lr_scale``), then ``project_norms``. 50 steps a round with --quick, 1 000 (10 000 images) otherwise;
    every round goes on training the same model, so the code's sparsity evolves as in a run's first epoch.

    ours: the default backend; "lab-numpy": the lab's NumPy path everywhere (``kernels.backend("numpy")``: the
    SGD update too); "torch": PyTorch autograd on the same unrolled network; the reference: the step's 41
    matrix products alone — E x, the T = 11 products z Sᵀ, D z, ∂D, ∂z, the classifier's three, the 2T of BPTT
    (g S and gᵀ z^{t−1}) and ∂E."""
    n_steps, batch, h, T = DRSAE_STEPS[not quick], DRSAE_SIZES["batch"], DRSAE_SIZES["n_hidden"], DRSAE_SIZES["n_steps"]
    x, y = _drsae_data(n_steps * batch)
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    if impl in ("ours", "lab-numpy"):
        backend = "auto" if impl == "ours" else "numpy"
        model = drsae_bench_model(x, h, T)
        opt = SGD(model.params, lr=DRSAE_LR, lr_scale={k: 1.0 / d for k, d in model.lr_scale().items()})

        def steps():
            with kernels.backend(backend):
                for xb, yb in batches:
                    _, grads = model.loss_and_grads(xb, yb)
                    opt.step(grads, n_rows=len(xb))  # as the Trainer calls it
                    model.project_norms()
            if not all(np.all(np.isfinite(p)) for p in model.params.values()):
                raise RuntimeError("drsae_b10_vs_gemm: the parameters diverged; the timing would be meaningless")
        return steps, steps
    if impl == "ref":
        rng = np.random.default_rng(0)
        m, k = x.shape[1], 10
        E, S, D, C = (rng.standard_normal(shape).astype(np.float32) for shape in ((h, m), (h, h), (m, h), (k, h)))
        xp, z, dz, g = (np.empty((batch, h), np.float32) for _ in range(4))
        x_hat, logits = np.empty((batch, m), np.float32), np.empty((batch, k), np.float32)
        gE, gS, gD, gC = np.empty_like(E), np.empty_like(S), np.empty_like(D), np.empty_like(C)

        def ref():
            for xb, _ in batches:
                np.matmul(xb, E.T, out=xp)
                for _ in range(T):
                    np.matmul(xp, S.T, out=z)  # z^{t-1} Sᵀ
                np.matmul(z, D.T, out=x_hat)
                np.matmul(x_hat.T, z, out=gD)
                np.matmul(x_hat, D, out=dz)
                np.matmul(z, C.T, out=logits)
                np.matmul(logits.T, z, out=gC)
                np.matmul(logits, C, out=g)
                for _ in range(T):
                    np.matmul(g, S, out=dz)  # δ^{t-1} = g^t S
                    np.matmul(g.T, z, out=gS)  # (g^t)ᵀ z^{t-1}
                np.matmul(g.T, xb, out=gE)
        return ref, ref
    return _peer(impl, "drsae_b10_vs_gemm",
                 torch=lambda: peers.torch_drsae(drsae_bench_model(x, h, T), batches, DRSAE_LR))


# ------------------------------------------------------------------------ study 2's dropout fine-tuning epoch
#: Srivastava et al. (JMLR 2014) §B.1's MNIST net as study 2's DBN arm fine-tunes it: 784-500-500-2000-10
DROPOUT_SIZES = (784, 500, 500, 2000, 10)
#: Srivastava et al. 2014, §5.1: "typical values of c range from 3 to 4"
DROPOUT_MAX_NORM = 3.5
#: images in an epoch of ``dropout_b100_vs_gemm`` (--quick, full); batches of 100
DROPOUT_IMAGES = (1_000, 50_000)


def build_dropout_b100(impl, quick):
    """One dropout fine-tuning epoch of a 784-500-500-2000-10 sigmoid MLP at batch 100 (inverted dropout,
    0.2 on the inputs, 0.5 on the hidden units; momentum SGD; ``project_max_norm`` with c = 3.5 after every
    step, as the Trainer's ``after_step``), shuffled minibatches of 1 000 images with --quick, 50 000 otherwise.

    ours: dropout and max-norm; "no-maxnorm": the same epoch without the projection; "plain": without dropout
    or projection (the plain backprop epoch of the same net); "torch": PyTorch (``nn.Dropout``, autograd,
    ``torch.optim.SGD``, ``renorm_``). The reference: each step's eleven products alone, four forward, the
    four ∂W and the three ∂h."""
    data = load_mnist(n_train=DROPOUT_IMAGES[not quick], n_valid=1, n_test=1)
    x, y = data.x_train, data.y_train
    batch, lr, momentum = 100, 0.01, 0.9  # Srivastava's DBN fine-tuning rate; the momentum it ramps up to
    settings = {"ours": dict(dropout_input=0.2, dropout_hidden=0.5, max_norm=DROPOUT_MAX_NORM),
                "no-maxnorm": dict(dropout_input=0.2, dropout_hidden=0.5), "plain": {}}
    if impl in settings:
        mlp = MLP(DROPOUT_SIZES, rng=0, **settings[impl])
        opt = SGD(mlp.params, lr=lr, momentum=momentum)
        order = np.random.default_rng(1)

        def epoch():
            for xb, yb in minibatches(x, y, batch_size=batch, rng=order):
                _, grads = mlp.loss_and_grads(xb, yb)
                opt.step(grads, n_rows=len(xb))  # as the Trainer calls it
                mlp.project_max_norm()  # nothing without max_norm
        return epoch, epoch
    if impl == "ref":
        return _mlp_products(x, DROPOUT_SIZES, batch)
    return _peer(impl, "dropout_b100_vs_gemm", torch=partial(peers.torch_mlp, x, y, DROPOUT_SIZES, batch, lr=lr,
                                                              momentum=momentum, dropout=(0.2, 0.5),
                                                              max_norm=DROPOUT_MAX_NORM))


def _mlp_products(x, sizes, batch):
    """The reference of an MLP epoch: each step's products alone, into preallocated outputs — L forward
    (h_{l−1} W_l), L weight gradients (h_{l−1}ᵀ δ_l) and L − 1 back-propagated errors (δ_l W_lᵀ)."""
    mlp = MLP(sizes, rng=0)
    L = mlp.n_layers
    Ws = [mlp.params[f"W{l}"] for l in range(1, L + 1)]
    hs = [np.empty((batch, n), np.float32) for n in sizes[1:]]  # layer outputs, reused as deltas
    dhs = [np.empty((batch, n), np.float32) for n in sizes[1:L]]
    gWs = [np.empty_like(W) for W in Ws]

    def ref():
        for start in range(0, len(x), batch):
            xb = x[start:start + batch]
            inputs = [xb] + hs[:L - 1]
            for l in range(L):
                np.matmul(inputs[l], Ws[l], out=hs[l])
            for l in range(L - 1, 0, -1):
                np.matmul(inputs[l].T, hs[l], out=gWs[l])
                np.matmul(hs[l], Ws[l].T, out=dhs[l - 1])
            np.matmul(xb.T, hs[0], out=gWs[0])
    return ref, ref


WORKLOADS = {w.name: w for w in [
    Workload("cd1_b100_vs_gemm", "vs_gemm", 1.15, "CD-1 epoch 784→500, batch 100 ÷ its matrix products",
             build_cd1_b100, peers=("numpy", "torch", "sklearn")),
    Workload("cd1_b10_vs_numpy", "vs_numpy", 1.5, "CD-1 steps 784→500, batch 10: steps/s ours ÷ NumPy path",
             build_cd1_b10, peers=("numpy", "torch", "sklearn")),
    Workload("backprop_b100_vs_gemm", "vs_gemm", 1.05, "MLP 784-500-500-10 epoch, batch 100 ÷ its matrix products",
             build_backprop_b100),
    Workload("online_ae_vs_numpy", "vs_numpy", 5, "tied ReLU AE 784→32, batch 1: steps/s kernel ÷ NumPy",
             build_online_ae),
    Workload("ais_vs_gemm", "vs_gemm", 1.3, "AIS 784×500, 100 runs ÷ its matrix products",
             build_ais, peers=("numpy",), full_rounds=3),
    Workload("drsae_b10_vs_gemm", "vs_gemm", None,
             "DrSAE 784-400, T = 11, batch 10 training steps ÷ their matrix products", build_drsae_b10,
             peers=("lab-numpy", "torch"), steps=DRSAE_STEPS),
    Workload("dropout_b100_vs_gemm", "vs_gemm", 1.25,
             "MLP 784-500-500-2000-10 dropout + max-norm epoch, batch 100 ÷ its matrix products",
             build_dropout_b100, peers=("no-maxnorm", "plain", "torch"),
             steps=tuple(n // 100 for n in DROPOUT_IMAGES)),
]}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads=None):
    """A one-line description of where the numbers were measured (``threads``: BLAS threads per worker)."""
    if threads is None:
        threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    try:
        load = "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        load = "load average unknown"
    return (f"{_cpu_name()}, {os.cpu_count()} logical CPUs, {load}, BLAS threads {threads} per worker, "
            f"Python {platform.python_version()}, NumPy {np.__version__}")
