"""Run every speed workload and save the ratios, their spread and the machine they were measured on.

    python benchmarks/run_all.py [--quick] [--threads N] [--rounds N] [--out benchmarks/latest.json]

The workloads live in ``pretrainlab/bench/`` (so that ``pretrainlab bench`` works after ``pip install``);
this script only records a run for the README's speed table. Progress goes to stderr.
"""
import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pretrainlab.bench import machine, run


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
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("latest.json"))
    args = parser.parse_args()
    load_before = _load()
    results = run(quick=args.quick, rounds=args.rounds, threads=args.threads)
    record = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(args.threads),
              "load_average_before": load_before, "load_average_after": _load(), "quick": args.quick,
              "threads": args.threads, "workloads": results}
    args.out.write_text(json.dumps(record, indent=2))
    print(f"written to {args.out}")
