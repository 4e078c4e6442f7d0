"""Sweeps: independent units of work (arm × seed × number of labels, …) run serially, in parallel processes
through joblib, or on a Dask cluster through joblib's Dask backend — one code path for all three.

No home-made scheduler: joblib's process pool (``loky``) on one machine, and ``distributed`` (the optional
``[cluster]`` extra) for a cluster, reached by joblib's ``dask`` backend. Each unit runs with a fixed number of
BLAS threads (``threads_per_job``), chosen so that jobs × threads ≤ cores on one machine: two BLAS pools
fighting over two cores are slower than one thread each. With the same seeds, the same BLAS kernel (CPU) and the
same thread count a unit's result does not depend on which process ran it, so a parallel sweep equals the serial
one (tested). Across CPUs or thread counts it can differ: the last bits of a matrix product change, and sampled CD
amplifies them (``docs/probes/blas_threads_cd.py``; ``run.json`` records the environment of every invocation).

Dask workers and memory: by default ``distributed`` starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``
(to hand freed memory back to the system). Setting it turns off glibc's adaptive mmap threshold, so every
NumPy temporary above 128 KiB — a 100 × 2000 activation, a weight gradient — is mapped and unmapped afresh,
page faults included. Measured (1 Dec 2026, two workers on the 2-core machine, two random-init fine-tunings of
study 2's ``--full`` protocol): joblib 66.7 s, Dask with its default environment 97.6 s, Dask without that
variable 73.5 s. ``local_cluster`` starts workers without it; on a real cluster set the same
``distributed.nanny.pre-spawn-environ`` (``WORKER_ENVIRON``) in the workers' Dask configuration.
"""
import os
import time
from contextlib import ExitStack

from ..train import BudgetExhausted, TimeBudget
from ..validation import check_number, check_positive_int

#: environment of a Dask worker process for these sweeps: one BLAS/OpenMP thread, glibc's adaptive malloc kept
WORKER_ENVIRON = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


def local_cluster(n_workers=2):
    """A ``distributed.LocalCluster`` of ``n_workers`` single-threaded worker processes with ``WORKER_ENVIRON``
    (see the module docstring for why); use it as a context manager and pass its ``scheduler_address``."""
    import dask
    from distributed import LocalCluster  # the optional [cluster] extra

    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRON}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)


class NotStarted:
    """The result of a unit whose turn came after the sweep's deadline: not run, left for the next invocation."""


class Unfinished:
    """The result of a unit that started but stopped when the time ran out (``train.TimeBudget``), its last
    epoch checkpointed: not a record — the next invocation continues it. ``why``: what stopped it."""

    def __init__(self, why):
        self.why = str(why)


def budgeted(work, deadline):
    """Run ``work(callbacks)`` so that it stops between epochs once ``deadline`` (``time.time()``) passes.

    ``callbacks`` holds a ``train.TimeBudget`` that runs out at the deadline (empty when ``deadline`` is None), for
    ``work`` to hand to its Trainer. The Trainer checkpoints each epoch before calling it, so a unit stopped this way
    loses nothing: its result is an ``Unfinished`` (not a record), and the next invocation resumes it.
    """
    try:
        return work([] if deadline is None else [TimeBudget.until(deadline)])
    except BudgetExhausted as err:
        return Unfinished(err)


def _run_unit(fn, unit, threads, deadline=None):
    """Run ``fn(unit)`` with ``threads`` BLAS threads; return ``(unit, result, seconds)``. Past ``deadline``
    (a ``time.time()`` value) the unit is not started: its result is a ``NotStarted``."""
    from threadpoolctl import threadpool_limits

    if deadline is not None and time.time() >= deadline:
        return unit, NotStarted(), 0.0
    start = time.perf_counter()
    with threadpool_limits(threads):
        result = fn(unit)
    return unit, result, time.perf_counter() - start


#: the units this process's sweeps left for a later invocation (the deadline passed before they started or
#: finished); the CLI clears it before a run and reports it after (a spent ``--hours`` budget exits non-zero)
LEFT_OUT = []


def run_units(fn, units, jobs=1, scheduler=None, threads_per_job=None, on_result=None, verbose=True, deadline=None):
    """Call ``fn(unit)`` for every unit; return ``{unit: result}`` of the units that ran.

    Parameters
    ----------
    fn : a picklable callable (a module-level function or a ``functools.partial`` of one).
    units : hashable descriptions of the work, e.g. ``("dbn", seed, 1000)``.
    jobs : processes on this machine (joblib ``loky``); 1 runs them one after another in this process.
    scheduler : address of a Dask scheduler (``tcp://host:8786``): the units run on its workers instead.
    threads_per_job : BLAS threads per unit (default: cores // jobs, at least 1; serially, the threads this
        process already has — what ``--threads`` set).
    on_result : ``(unit, result) → None``, called in this process as each unit finishes (to save progress).
    deadline : ``time.time()`` after which no further unit starts: a long sweep is split into invocations of
        bounded length — the units left out are missing from the returned dict, and a resumed run does them.
        A unit already running finishes, unless ``fn`` stops it too (``train.TimeBudget.until(deadline)`` as a
        Trainer callback) and returns an ``Unfinished``: it is left out as well. None: no limit.
    """
    units = list(units)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer ≥ 1, got {jobs!r}")
    if threads_per_job is not None:
        check_positive_int(threads_per_job, "threads_per_job")
    if deadline is not None:
        check_number(deadline, "deadline")  # a time.time() value: NaN would never pass, inf never stop
    serial = jobs == 1 and scheduler is None
    # threadpool_limits(None) changes nothing: a serial run keeps the thread count the CLI chose
    threads = threads_per_job or (None if serial else max(1, (os.cpu_count() or 1) // jobs))
    results = {}
    if not units:  # a resumed run with nothing left: no process pool, no cluster client
        return results

    def collect(item, done):
        unit, result, seconds = item
        if isinstance(result, (NotStarted, Unfinished)):
            LEFT_OUT.append(unit)
            if verbose:
                why = (f"stopped: {result.why}" if isinstance(result, Unfinished) else
                       "not started: the time budget is spent; rerun to do it")
                print(f"[{done}/{len(units)}] {unit} {why}", flush=True)
            return
        results[unit] = result
        if on_result is not None:
            on_result(unit, result)
        if verbose:
            print(f"[{done}/{len(units)}] {unit} done in {seconds:.0f} s", flush=True)

    if serial:
        for i, unit in enumerate(units, start=1):
            collect(_run_unit(fn, unit, threads, deadline), i)
        return results
    from joblib import Parallel, delayed, parallel_config

    calls = (delayed(_run_unit)(fn, unit, threads, deadline) for unit in units)
    with ExitStack() as context:
        if scheduler is not None:
            from distributed import Client  # the optional [cluster] extra

            context.enter_context(Client(scheduler))
            context.enter_context(parallel_config(backend="dask"))
        else:
            context.enter_context(parallel_config(backend="loky", n_jobs=jobs))
        for i, item in enumerate(Parallel(return_as="generator_unordered")(calls), start=1):
            collect(item, i)
    return results
