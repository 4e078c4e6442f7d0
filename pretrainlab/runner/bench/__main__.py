"""``python -m pretrainlab.runner.bench``: the benchmark with every option (``pretrainlab bench`` runs the defaults)."""
import argparse
import sys

from .runner import main
from .workloads import WORKLOADS


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got {text!r}")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m pretrainlab.runner.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: proves the harness, not the speed")
    parser.add_argument("--json", action="store_true", help="print one JSON object keyed by workload")
    parser.add_argument("--threads", type=_positive, default=1,
                        help="BLAS/OpenMP threads of every worker process (default 1)")
    parser.add_argument("--rounds", type=_positive, default=None,
                        help="interleaved rounds per workload (default 3 with --quick, else 5; AIS 3)")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), metavar="NAME",
                        help="run only these workloads: " + ", ".join(WORKLOADS))
    args = parser.parse_args()
    sys.exit(main(quick=args.quick, as_json=args.json, threads=args.threads, rounds=args.rounds, names=args.only))
