"""One implementation of one workload, in a process of its own, timing one round per request.

    python -m pretrainlab.runner.bench.worker WORKLOAD IMPL [--quick] [--threads N]

The parent (``runner.py``) starts one worker per implementation. The worker limits BLAS/OpenMP to ``--threads``
(default 1) through threadpoolctl, builds its implementation, runs the untimed warm-up and writes one JSON line
to stdout, then answers each line ``round`` on stdin with the seconds one round took, until ``quit`` or the
end of its input. Its lines are:

    {"ready": true, "blas": [[api, threads], ...]}    built and warmed up
    {"absent": "No module named 'torch'"}             the peer's library is not installed (then it exits)
    {"s": 0.123}                                       one round, timed with time.perf_counter here

Anything else the code prints goes to stderr, so stdout carries only these lines.
"""
import argparse
import json
import os
import sys
import time


def _reply(stream, **message):
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("impl")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads of this process (default 1)")
    args = parser.parse_args(argv)
    protocol, sys.stdout = sys.stdout, sys.stderr  # stdout carries only the protocol lines
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # for libraries loaded from here on (Numba, PyTorch)

    from threadpoolctl import threadpool_info, threadpool_limits

    from . import peers
    from .workloads import WORKLOADS

    threadpool_limits(args.threads)
    peers.THREADS = args.threads
    workload = WORKLOADS[args.workload]
    try:
        run, warm_up = workload.build(args.impl, args.quick)
    except ImportError as err:
        if args.impl in ("ours", "ref"):
            raise
        _reply(protocol, absent=str(err))
        return 0
    warm_up()
    threadpool_limits(args.threads)  # again: a library imported while building may have started its own pool
    _reply(protocol, ready=True, blas=[[p.get("internal_api"), p.get("num_threads")] for p in threadpool_info()])
    for line in sys.stdin:
        request = line.strip()
        if request == "quit":
            break
        if request != "round":
            raise ValueError(f"worker: unknown request {request!r}")
        start = time.perf_counter()
        run()
        _reply(protocol, s=time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
