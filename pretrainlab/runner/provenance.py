"""What a run's numbers depend on besides its configuration and seeds: libraries, BLAS, CPU, thread counts.

"Same seed, same result" holds for the same code on the same machine with the same libraries and the same BLAS
thread count: the generators (``numpy.random.Generator``) give the same streams everywhere, but a matrix
product's last bits depend on the BLAS kernel (chosen by CPU: OpenBLAS's ``architecture``) and on how it splits
the work among threads. Where a run samples from those products — Bernoulli hidden states in CD, u < p(h | v) —
one flipped comparison sends the chain, and every later update, elsewhere (``docs/probes/blas_threads_cd.py``
measures it). ``environment()`` is what ``run.json`` records for each invocation.
"""
import os
import platform

#: environment variables that set thread counts or the lab's kernel backend
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                    "PRETRAINLAB_BACKEND")


def cpu_model():
    """The CPU's model name (Linux /proc/cpuinfo; else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(threads_per_job=None, jobs=1):
    """A JSON-able dict of what results may depend on: numpy/scipy/numba versions, each BLAS/OpenMP pool
    (library, version, CPU kernel ``architecture``, threads) as threadpoolctl sees this process, the CPU model
    and core count, the thread variables, and the sweep's ``jobs`` and ``threads_per_job`` (the units' BLAS
    threads when they differ from this process's)."""
    import numpy
    import scipy
    from threadpoolctl import threadpool_info

    try:
        import numba
        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    pools = [{k: p.get(k) for k in ("user_api", "internal_api", "version", "architecture", "threading_layer",
                                    "num_threads")} for p in threadpool_info()]
    return {"numpy": numpy.__version__, "scipy": scipy.__version__, "numba": numba_version,
            "python": platform.python_version(), "cpu": cpu_model(), "machine": platform.machine(),
            "cores": os.cpu_count(), "thread_pools": pools,
            "variables": {k: os.environ.get(k) for k in THREAD_VARIABLES},
            "jobs": jobs, "threads_per_job": threads_per_job}
