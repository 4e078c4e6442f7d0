"""The pretrainlab command line: demo, experiment NAME, gradcheck, bench.

Each sub-command is a small function; heavy modules are imported inside it so ``pretrainlab --help`` stays
instant. Bad input (an unknown experiment, a run folder of another configuration, a corrupt file, a bad
environment variable) prints one line, ``error: …``, and exits with status 2. Ctrl-C prints one line saying
which epoch is on disk and exits with 130; a spent ``--hours`` budget says what is left and exits with 3.
"""
import argparse
import inspect
import os
import sys
import time


def _int_at_least(low, name):
    """An argparse type: an integer ≥ ``low``, else a one-line error naming ``name``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"{name} must be an integer ≥ {low}, got {text!r}")
        return value
    return parse


_seed, _threads = _int_at_least(0, "seed"), _int_at_least(1, "threads")


def _address(text):
    """An argparse type: a non-empty scheduler address (``--scheduler ''`` must not silently run locally)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("scheduler must be an address such as tcp://host:8786, got ''")
    return text.strip()


def _hours(text):
    """An argparse type: a finite number of hours > 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"hours must be a number > 0, got {text!r}")
    return value


def default_threads():
    """BLAS threads for a run: the cores not already busy (1 on a loaded 2-core machine), at least 1.

    Two BLAS threads on a machine whose other core runs another job make every matrix product wait for
    the slower thread (measured: ``demo --quick`` 28.9 s with two threads beside another job, 2.3 s with one).
    """
    cores = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):
        busy = 0
    return max(1, min(cores, cores - busy))


def set_threads(n):
    """Limit BLAS (and OpenMP) to ``n`` threads for the rest of the process; returns what threadpoolctl reports."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(n)
    return [(p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()]


def _add_run_flags(parser, sweeps=True):
    """The flags of a run; ``sweeps``: also those of experiments that sweep units (--jobs, --scheduler, --hours)."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="CI-sized run: proves the code path in seconds, not the science")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="published-scale run (long: run it in the background); resumable")
    parser.set_defaults(mode="default")
    parser.add_argument("--out", default=None,
                        help="output folder (default: pretrainlab-runs/NAME/MODE-seedSEED); rerunning the same "
                             "command resumes it")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed, an integer ≥ 0 (default 0)")
    parser.add_argument("--threads", type=_threads, default=None,
                        help="BLAS threads (default: the cores not already busy; use 1 on a busy machine)"
                             + ("; with --jobs, the threads of each job" if sweeps else ""))
    if not sweeps:
        parser.set_defaults(jobs=1, scheduler=None, hours=None)
        return
    parser.add_argument("--jobs", type=_threads, default=1,
                        help="independent units (seeds × arms × labels) in this many processes, for experiments "
                             "that sweep (default 1)")
    parser.add_argument("--scheduler", default=None, type=_address,
                        help="run the units on the Dask cluster at this address (the [cluster] extra)")
    parser.add_argument("--hours", type=_hours, default=None,
                        help="for experiments that sweep: after this many hours start no unit and stop the "
                             "running ones after their epoch (checkpointed); rerun the same command to continue")


def _run_experiment(name, args):
    from pathlib import Path

    from .. import kernels
    from .experiments import get_experiment
    from ..train import TrainingDiverged

    kernels.get_backend()  # a bad PRETRAINLAB_BACKEND is reported now, not an epoch in
    threads = args.threads or default_threads()
    pools = set_threads(threads)
    print(f"pretrainlab {name} ({args.mode} mode, seed {args.seed}): BLAS threads {threads} of "
          f"{os.cpu_count()} cores ({', '.join(f'{api} {n}' for api, n in pools) or 'no BLAS pool found'})")
    out = None if args.out is None else Path(args.out)
    run = get_experiment(name)
    sweep = {}
    if args.jobs > 1 or args.scheduler or args.hours:
        if "jobs" not in inspect.signature(run).parameters:
            raise ValueError(f"--jobs/--scheduler/--hours: experiment {name} runs as one unit; drop those options")
        sweep = dict(jobs=args.jobs, scheduler=args.scheduler, threads_per_job=args.threads)
    if args.hours:
        if "deadline" not in inspect.signature(run).parameters:
            raise ValueError(f"--hours: experiment {name} has no time budget (its --full run fits in one "
                             "invocation); drop --hours")
        sweep["deadline"] = time.time() + 3600 * args.hours
    for flag in ("arms", "seeds"):  # study 2's subsets of its units
        if getattr(args, flag, None) is not None:
            if flag not in inspect.signature(run).parameters:
                raise ValueError(f"--{flag}: experiment {name} has no such option; drop it")
            sweep[flag] = args.__dict__[flag]
    from . import sweep as sweeps

    sweeps.LEFT_OUT.clear()
    try:
        results = run(mode=args.mode, out=out, seed=args.seed, verbose=True, **sweep)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"results written to {results.get('out', out) if isinstance(results, dict) else out}")
    if sweeps.LEFT_OUT:  # the --hours budget ran out: the run is not finished
        left = sweeps.LEFT_OUT
        print(f"time budget spent: {len(left)} unit(s) left ({', '.join(map(str, left[:3]))}"
              f"{', …' if len(left) > 3 else ''}); the results above are partial — rerun the same command to "
              "continue", file=sys.stderr)
        return 3
    return 0


def cmd_demo(args):
    return _run_experiment("demo", args)


def cmd_experiment(args):
    return _run_experiment(args.name, args)


def cmd_gradcheck(args):
    import json

    from .gradcheck_table import format_table, run_gradcheck_table

    rows = run_gradcheck_table(seed=args.seed)
    print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    return 0 if all(r["passed"] for r in rows) else 1


def cmd_bench(args):
    from .bench import main

    return main(quick=args.quick, as_json=args.json, threads=args.threads, rounds=args.rounds)


def study_description(name):
    """What ``experiment NAME --help`` prints about the study: its module's docstring (read without importing the
    module, so help stays instant; reStructuredText markup dropped) and what each mode costs."""
    import ast
    import importlib.util

    from .experiments import EXPERIMENTS

    spec = importlib.util.find_spec(EXPERIMENTS[name].partition(":")[0])
    with open(spec.origin, encoding="utf-8") as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    import textwrap

    return (f"experiment {name}:\n\n{doc.replace('``', '')}\n\n" + textwrap.fill("Outputs: results.json (the numbers, the configuration, "
            "the wall time and the machine), run.json and the figures, in --out (default "
            f"pretrainlab-runs/{name}/MODE-seedSEED).", 100) + "\n" + textwrap.fill("Modes: --quick proves the code path in seconds to a minute "
            "(its numbers mean nothing about the science); the default is a small run; --full is the published-scale "
            "run — the time it takes, where measured, is stated above. Every mode resumes when the same command is "
            "run again; Ctrl-C is safe.", 100))


class _ExperimentHelp(argparse.Action):
    """``-h``/``--help`` of ``experiment``: the usual help, then, when NAME came first, that study's description."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        name = getattr(namespace, "name", None)
        if name is not None:
            print("\n" + study_description(name))
        parser.exit()


def build_parser():
    from .. import __version__
    from .experiments import EXPERIMENTS

    parser = argparse.ArgumentParser(prog="pretrainlab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"pretrainlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train an RBM on the shipped MNIST and write filters, samples, curves")
    _add_run_flags(p, sweeps=False)  # the demo is one unit: no --jobs/--scheduler/--hours
    p.set_defaults(func=cmd_demo)

    names = sorted(EXPERIMENTS)
    p = sub.add_parser("experiment", help="run one of the studies: " + ", ".join(names),
                       description="Run one of the lab's experiments: " + ", ".join(names) + ". "
                       "`pretrainlab experiment NAME --help` describes that study.", add_help=False)
    p.add_argument("-h", "--help", action=_ExperimentHelp, help="show this help (after NAME: that study's too)")
    p.add_argument("name", choices=names, metavar="NAME", help="one of: " + ", ".join(names))
    _add_run_flags(p)
    p.add_argument("--arms", type=lambda text: [a.strip() for a in text.split(",") if a.strip()], default=None,
                   help="pretraining: run only these arms, comma-separated (e.g. dbn-hs,dbn-dropout-srivastava)")
    p.add_argument("--seeds", type=lambda text: [_seed(t.strip()) for t in text.split(",")], default=None,
                   help="pretraining: these seeds, comma-separated, instead of --seed plus the mode's seeds")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("gradcheck", help="check every model's hand-written gradient against finite differences")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random test problems (default 0)")
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("bench", help="time the hot loops against the matrix-product limit and plain NumPy")
    p.add_argument("--quick", action="store_true", help="small sizes: proves the harness in seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by workload")
    p.add_argument("--threads", type=_threads, default=1, help="BLAS threads in each timing process (default 1)")
    p.add_argument("--rounds", type=_threads, default=None,
                   help="interleaved rounds per implementation (default 3 quick, 5 full)")
    p.set_defaults(func=cmd_bench)
    return parser


def interrupted_message(err):
    """The one line printed on Ctrl-C: which epoch the checkpoint holds, and that rerunning resumes."""
    epoch, checkpoint = getattr(err, "epoch", None), getattr(err, "checkpoint", None)
    if epoch is None:
        return "interrupted; rerun the same command to resume (finished units and epochs are on disk)"
    if checkpoint is None:
        return f"interrupted after epoch {epoch} (this stage keeps no checkpoint); rerun the same command to resume"
    return f"interrupted after epoch {epoch}; rerun the same command to resume"


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as err:  # bad input, a corrupt file, a bad environment variable
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C: one line, not a traceback; 130 = 128 + SIGINT, the shell's code
        print(f"\n{interrupted_message(err)}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
