"""Run every speed workload and save the ratios, their spread and the machine they were measured on.

    python benchmarks/run_all.py [--quick] [--threads N] [--rounds N] [--only NAME ...] [--out benchmarks/latest.json]

The workloads live in ``pretrainlab/runner/bench/`` (so that ``pretrainlab bench`` works after ``pip install``);
this script only records a run for the README's speed table. Progress goes to stderr.
"""
import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from pretrainlab.runner.bench import WORKLOADS, machine, run


def _versions():
    """Versions of the libraries timed, read from their metadata (never imported here: see runner.py)."""
    found = {}
    for name in ("numpy", "numba", "torch", "scikit-learn"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _commit():
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _load():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the code path, not the speed")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads of every worker process (default 1)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3 quick, 5 full)")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), metavar="NAME", help="these workloads only")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("latest.json"))
    args = parser.parse_args()
    load_before = _load()
    results = run(quick=args.quick, rounds=args.rounds, threads=args.threads, names=args.only)
    record = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(args.threads),
              "load_average_before": load_before, "load_average_after": _load(), "quick": args.quick,
              "threads": args.threads, "command": "python " + " ".join(sys.argv), "commit": _commit(),
              "versions": _versions(), "workloads": results}
    args.out.write_text(json.dumps(record, indent=2))
    print(f"written to {args.out}")
