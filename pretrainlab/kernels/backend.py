"""Where the hot loops run: the backend switch, the measured size thresholds, and the kernels' entry checks.

Every model computes its step in NumPy first — that code is the reference a student reads — and, for the
sizes where ``pretrainlab bench`` measured a Numba kernel faster, hands the same arrays to a kernel in
``pretrainlab/kernels/``. This module decides which path runs; it imports neither Numba nor a kernel, so
``import pretrainlab`` stays cheap (Numba is imported, and the kernels compiled or loaded from the on-disk
cache, on the first call that takes the kernel path).

* ``set_backend("numpy")`` (or ``with backend("numpy"):``, or ``PRETRAINLAB_BACKEND=numpy`` in the
  environment) forces the NumPy reference everywhere — read one path, run that path;
* ``"numba"`` forces the kernels wherever one exists;
* ``"auto"`` (the default) runs a kernel only below the thresholds below.
"""
import math
import os
from contextlib import contextmanager

import numpy as np

BACKENDS = ("auto", "numpy", "numba")

#: Numba compile options shared by every kernel: machine code cached on disk, and fastmath "reassoc" /
#: "contract" so LLVM may vectorise sums (float32 rounding can then differ from BLAS in the last bits, which
#: the tests allow for).
JIT_OPTIONS = {"cache": True, "fastmath": {"reassoc", "contract"}}

#: Largest batch for which the CD kernels run under "auto". Measured for a 784→500 RBM on MNIST, one BLAS
#: thread: the kernel step is 1.6× faster than NumPy at batch 10, 1.2× at 20, even at ~30, slower beyond;
#: BLAS on two threads moves the crossover down, so 20 is kept.
CD_KERNEL_MAX_BATCH = 20

#: Largest batch for which ``MLP.loss_and_grads`` runs the dense-layer kernels under "auto". Measured for a
#: 784-500-500-10 sigmoid network, one BLAS thread, gradient + SGD step: 3× faster at batch 1, even at 10.
MLP_KERNEL_MAX_BATCH = 10

#: Largest batch whose SGD update runs the fused ``sgd_step`` kernel under "auto" (``optim.SGD.step`` is told
#: the batch by the Trainer). Measured for a 784→500 RBM, CD-1 + momentum SGD, one BLAS thread: with the CD
#: kernel on at batch 10, the fused update cut the step's time by ≈ 20 % (median of 5 rounds, 0.94 s → 0.75 s
#: per 500 steps); at batch 100 (CD in NumPy) by ≈ 5 % (CD-1) and ≈ 3 % (MLP 784-500-500-10), under the
#: 10 % a kernel must save to run by default — so there the student steps through NumPy.
SGD_KERNEL_MAX_BATCH = CD_KERNEL_MAX_BATCH

#: Largest number of runs for which AIS uses its kernel under "auto". Measured on a 784×500 RBM, one BLAS
#: thread: 1.8× faster than NumPy at 2 runs, 1.15× at 5, slower from 10.
AIS_KERNEL_MAX_RUNS = 5

_backend = None  # read from PRETRAINLAB_BACKEND on first use (so a bad value is reported there, not at import)


def set_backend(name):
    """Choose where the hot loops run: "auto" (measured choice), "numpy" (always) or "numba" (always)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"name must be one of {BACKENDS}, got {name!r}")
    _backend = name


def get_backend():
    """The current backend; on first call read from ``PRETRAINLAB_BACKEND`` (default "auto")."""
    global _backend
    if _backend is None:
        name = os.environ.get("PRETRAINLAB_BACKEND", "auto")
        if name not in BACKENDS:
            raise ValueError(f"PRETRAINLAB_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
        _backend = name
    return _backend


@contextmanager
def backend(name):
    """``with backend("numpy"): ...`` runs a block on the chosen backend, then restores the previous one."""
    previous = get_backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def use_kernel(n_rows=0, fastest_up_to=math.inf):
    """Whether a batch of ``n_rows`` should go to a kernel measured faster up to ``fastest_up_to`` rows."""
    name = get_backend()
    return name == "numba" or (name == "auto" and n_rows <= fastest_up_to)


def require(x, name, dtype, shape=None, ndim=None, writeable=False):
    """Check an array before a kernel sees it: an ndarray of exactly ``dtype``, C-contiguous, of ``shape``.

    A compiled loop trusts its bounds: a gradient one row short would be read past its end (a crash, or
    garbage written into the weights). Every kernel adapter calls this on every array it passes in — a
    handful of attribute reads, negligible beside the kernel; ``writeable=True`` for the arrays the kernel
    writes. Returns ``x``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {x.dtype.name}")
    if not x.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if shape is not None and x.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {x.shape}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    if writeable and not x.flags.writeable:
        raise ValueError(f"{name} must be writeable (the kernel writes its result into it)")
    return x
