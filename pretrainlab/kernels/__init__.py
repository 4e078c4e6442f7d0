"""Numba kernels for the hot loops, one module per model family, and the switch that decides when they run.

=====================  ======================================================  ==============================
module                 kernels                                                 NumPy reference
=====================  ======================================================  ==============================
``backend.py``         the switch (``set_backend``, ``use_kernel``), size       —
                       thresholds, ``require`` (every adapter's entry check)
``rbm.py``             CD-k / PCD step, Gibbs chains, AIS step                 ``rbm.py``, ``likelihood.py``
``dense.py``           MLP layers forward/backward, momentum SGD update        ``mlp.py``, ``optim.py``
=====================  ======================================================  ==============================

Study 4's online autoencoder kernel lives with its study (``studies/ae_dynamics/kernel.py``) and uses the
same switch and entry checks.

Each kernel is a faster path to numbers the NumPy code already computes; the NumPy code stays the reference
a student reads first, and ``tests/test_kernels.py`` checks every kernel against it. Each family's adapter
(arrays + the model's Generator in, arrays out) sits beside its kernels and checks what it is handed, so a
compiled loop never sees an unchecked array; each model has one dispatch line.

Importing this package imports only ``backend`` (no Numba): the kernel modules are imported — and Numba with
them — by the first call that takes a kernel path. ``set_backend("numpy")``, ``with backend("numpy"):`` or
``PRETRAINLAB_BACKEND=numpy`` forces the reference everywhere.
"""
from .backend import (AIS_KERNEL_MAX_RUNS, BACKENDS, CD_KERNEL_MAX_BATCH, MLP_KERNEL_MAX_BATCH, SGD_KERNEL_MAX_BATCH,
                      backend, get_backend, require, set_backend, use_kernel)

__all__ = ["AIS_KERNEL_MAX_RUNS", "BACKENDS", "CD_KERNEL_MAX_BATCH", "MLP_KERNEL_MAX_BATCH", "SGD_KERNEL_MAX_BATCH",
           "backend", "get_backend", "require", "set_backend", "use_kernel"]
