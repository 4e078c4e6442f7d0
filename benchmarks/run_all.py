"""Run every speed workload once and save the ratios with the machine they were measured on.

    python benchmarks/run_all.py [--quick] [--out benchmarks/latest.json]

The workloads themselves live in ``pretrainlab/bench.py`` (so that ``pretrainlab bench`` works after
``pip install``); this script only records a run for the README's speed table.
"""
import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from pretrainlab.bench import machine, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the code path, not the speed")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("latest.json"))
    args = parser.parse_args()
    results = run(quick=args.quick)
    record = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "quick": args.quick, "workloads": results}
    args.out.write_text(json.dumps(record, indent=2))
    print(f"written to {args.out}")
