"""Probe for study 2 (issue 20): wall time of the same `--full` units serially, with ``--jobs 2`` and on a local Dask
cluster of two workers, on this machine — and that all three give the same numbers.

The whole 3-seed `--full` run costs ≈ 18 h of one core, so running it twice (serial and parallel) to compare is out
of reach; this probe times a slice of it instead: the `--full` settings restricted to ``LABELS`` and seed 0 (the
plain arms; the dropout arms too where ``LABELS`` holds one of ``dropout_labels``), with the seed-0 stacks copied
from an existing `--full` run folder so that only fine-tuning is timed (the work that dominates the full run).

    OPENBLAS_NUM_THREADS=1 python docs/probes/pretraining_jobs_timing.py STACKS_DIR OUT_DIR [LABELS ...]

(default LABELS: 100 1000). Each variant writes its own run folder under OUT_DIR; OUT_DIR/timing.json holds the
three wall times and whether the tables agree. Run it on a quiet machine: the point is the ratio.
"""
import json
import shutil
import sys
import time
from pathlib import Path

from pretrainlab.runner.experiments import prepare
from pretrainlab.studies.pretraining import experiment as pretraining
from pretrainlab.runner.sweep import local_cluster

def table(results):
    return [(r["arm"], r["seed"], r["n_labels"], r["test_error"], r["epochs"]) for r in results["runs"]]


def timed(stacks, out, name, **sweep):
    folder = out / name
    prepare("pretraining", "full", pretraining.SETTINGS, folder, 0)  # the run folder first, then the stacks into it
    for path in stacks.glob("stack-*-seed0-layer*.npz"):
        shutil.copy(path, folder / path.name)
    start = time.perf_counter()
    results = pretraining.run("full", folder, verbose=False, threads_per_job=1, **sweep)
    seconds = time.perf_counter() - start
    print(f"{name}: {seconds:.1f} s, {len(results['runs'])} units", flush=True)
    return seconds, table(results)


def main():
    stacks, out = Path(sys.argv[1]), Path(sys.argv[2])
    labels = tuple(int(n) for n in sys.argv[3:]) or (100, 1000)
    # the sweep units get their settings as an argument, so the workers see this slice too
    pretraining.SETTINGS["full"] = dict(pretraining.SETTINGS["full"], labels=labels, seeds=(0,))
    serial, t_serial = timed(stacks, out, "serial")
    parallel, t_parallel = timed(stacks, out, "jobs2", jobs=2)
    with local_cluster(2) as c:
        dask, t_dask = timed(stacks, out, "dask", scheduler=c.scheduler_address)
    report = {"labels": labels, "units": len(t_serial), "seconds": {"serial": serial, "jobs2": parallel, "dask": dask},
              "speedup_jobs2": serial / parallel, "speedup_dask": serial / dask,
              "same_numbers": {"jobs2": t_parallel == t_serial, "dask": t_dask == t_serial}, "table": t_serial}
    (out / "timing.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "table"}, indent=1))


if __name__ == "__main__":
    main()
