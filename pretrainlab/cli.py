"""The ``pretrainlab`` command line: ``demo``, ``experiment NAME``, ``gradcheck``, and the tools the other modules add.

Each sub-command is a small function that parses nothing itself; heavy modules are imported inside it so
``pretrainlab --help`` stays instant.
"""
import argparse
import sys
from datetime import datetime
from pathlib import Path


def _default_out(name):
    return Path("pretrainlab-runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


def _add_mode_flags(parser):
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="CI-sized run: proves the code path in seconds, not the science")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="published-scale run (long: run it in the background)")
    parser.set_defaults(mode="default")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: pretrainlab-runs/NAME-TIME)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _run_experiment(name, args):
    from .experiments import get_experiment
    from .train import TrainingDiverged

    out = args.out or _default_out(name)
    out.mkdir(parents=True, exist_ok=True)
    try:
        get_experiment(name)(mode=args.mode, out=out, seed=args.seed, verbose=True)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"results written to {out.resolve()}")
    return 0


def cmd_demo(args):
    return _run_experiment("demo", args)


def cmd_experiment(args):
    from .experiments import EXPERIMENTS

    if args.name not in EXPERIMENTS:
        print(f"error: unknown experiment {args.name!r}; choose one of {', '.join(sorted(EXPERIMENTS))}",
              file=sys.stderr)
        return 2
    return _run_experiment(args.name, args)


def cmd_gradcheck(args):
    import json

    from .gradcheck import format_table, run_gradcheck_table

    rows = run_gradcheck_table(seed=args.seed)
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    return 0 if all(r["passed"] for r in rows) else 1


def cmd_bench(args):
    from .bench import main

    return main(quick=args.quick, as_json=args.json)


def build_parser():
    parser = argparse.ArgumentParser(prog="pretrainlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train an RBM on the shipped MNIST and write filters, samples, curves")
    _add_mode_flags(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("experiment", help="run one of the studies (see `pretrainlab experiment --help`)")
    p.add_argument("name", help="experiment name, e.g. demo")
    _add_mode_flags(p)
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("gradcheck", help="check every model's hand-written gradient against finite differences")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.add_argument("--seed", type=int, default=0, help="seed of the random test problems (default 0)")
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("bench", help="time the hot loops against the matrix-product limit and plain NumPy")
    p.add_argument("--quick", action="store_true", help="small sizes: proves the harness in seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by workload")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
