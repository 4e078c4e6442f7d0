"""The parent of ``pretrainlab bench``: one worker process per implementation, rounds interleaved, best and spread.

For each workload the runner starts one worker (``worker.py``) per implementation — ours, the reference, each
peer — and waits until all have built and warmed up. Then it asks them for one round each in turn (ours, ref,
peer, …, ours, ref, peer, …), so that only one process computes at a time and a slow drift of the machine's
speed hits every implementation alike. Each implementation keeps its best round; ratios are taken against the
reference measured in the same interleaving; the spread of an implementation is max/min over its rounds.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .workloads import WORKLOADS, machine

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding ``pretrainlab/``
QUICK_ROUNDS = 3
LONG_ROUND_S = 20  # an implementation's round at least this long gets its own progress line


class WorkerFailed(RuntimeError):
    """A worker process exited or answered out of turn; the message ends with the tail of its stderr."""


class Worker:
    """One implementation of one workload in its own Python process (see ``worker.py`` for the protocol)."""

    def __init__(self, workload, impl, quick, threads):
        self.label = f"{workload}/{impl}"
        self.stderr = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = str(threads)  # before NumPy loads its BLAS; the worker also sets threadpoolctl limits
        cmd = [sys.executable, "-m", "pretrainlab.runner.bench.worker", workload, impl, "--threads", str(threads)]
        self.proc = subprocess.Popen(cmd + (["--quick"] if quick else []), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env)

    def read(self):
        """The worker's next JSON line; WorkerFailed if it exited instead."""
        line = self.proc.stdout.readline()
        if not line:
            status = self.proc.wait()
            self.stderr.seek(0)
            tail = "\n".join(self.stderr.read().strip().splitlines()[-15:])
            raise WorkerFailed(f"{self.label}: the worker exited with status {status}\n{tail}")
        return json.loads(line)

    def round(self):
        """Seconds one round took, timed inside the worker."""
        try:
            self.proc.stdin.write("round\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has exited: read() reports why
        return self.read()["s"]

    def close(self):
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


def _say(text, progress):
    if progress:
        print(text, file=sys.stderr, flush=True)


def _start(workload, quick, threads, say):
    """Start every implementation's worker at once (they build in parallel, untimed); return the ready ones
    and the status of the others ("absent", "failed: …")."""
    impls = ["ours", "ref", *workload.peers]
    say(f"starting {len(impls)} workers ({', '.join(impls)}): build and warm-up, untimed")
    workers = {impl: Worker(workload.name, impl, quick, threads) for impl in impls}
    ready, status = {}, {}
    for impl, worker in workers.items():
        try:
            message = worker.read()
        except WorkerFailed as err:
            if impl in ("ours", "ref"):
                for w in workers.values():
                    w.close()
                raise
            message = {"failed": str(err)}
        if message.get("ready"):
            ready[impl] = worker
            continue
        status[impl] = "absent" if "absent" in message else f"failed: {message['failed'].splitlines()[-1]}"
        say(f"{impl} {status[impl]}" + (f" ({message['absent']})" if "absent" in message else ""))
        worker.close()
    return ready, status


def measure(workload, quick=False, rounds=None, threads=1, progress=True, tag=""):
    """Time one workload's implementations in interleaved rounds; return its result dict (see ``run``)."""
    rounds = rounds or (QUICK_ROUNDS if quick else workload.full_rounds)
    started = time.perf_counter()

    def say(text):
        _say(f"{tag}{workload.name}: {text}", progress)

    ready, status = _start(workload, quick, threads, say)
    times = {impl: [] for impl in ready}
    try:
        for r in range(rounds):
            for impl in list(ready):
                try:
                    times[impl].append(ready[impl].round())
                    if times[impl][-1] >= LONG_ROUND_S:  # a long round: say so now, not after all of them
                        say(f"round {r + 1}/{rounds}: {impl} {times[impl][-1]:.1f} s")
                except WorkerFailed as err:
                    if impl in ("ours", "ref"):
                        raise
                    status[impl] = f"failed: {str(err).splitlines()[-1]}"
                    say(f"{impl} {status[impl]}")
                    ready.pop(impl).close()
                    times.pop(impl)
            say(f"round {r + 1}/{rounds}: " + "  ".join(f"{i} {t[-1]:.3f} s" for i, t in times.items()))
    finally:
        for worker in ready.values():
            worker.close()
    best = {impl: min(t) for impl, t in times.items()}
    ours_s, ref_s = best["ours"], best["ref"]
    ratio = workload.ratio(ours_s, ref_s)
    paired = [workload.ratio(o, r) for o, r in zip(times["ours"], times["ref"])]
    peers = {}
    for name in workload.peers:
        if name in best:
            peers[name] = {"s": best[name], "ratio": workload.ratio(best[name], ref_s),
                           "spread": max(times[name]) / best[name]}
        else:
            peers[name] = status[name]
    say(f"done in {time.perf_counter() - started:.1f} s")
    result = {"kind": workload.kind, "ours_s": ours_s, "ref_s": ref_s, "ratio": ratio, "goal": workload.goal_text,
              "meets_goal": workload.meets(ratio), "measures": workload.measures,
              "settled": None if workload.goal is None else len({workload.meets(p) for p in paired}) == 1,
              "rounds": rounds, "threads": threads,
              "spread": {impl: max(t) / min(t) for impl, t in times.items() if impl in ("ours", "ref")},
              "ratio_range": [min(paired), max(paired)],
              "peers": peers, "round_s": times,
              "median_s": {impl: statistics.median(t) for impl, t in times.items()}}
    if workload.steps:
        n_steps = workload.steps[0 if quick else 1]
        result["steps_per_round"] = n_steps
        result["steps_per_s"] = {impl: n_steps / s for impl, s in best.items()}  # of each one's best round
    return result


def run(quick=False, names=None, verbose=True, rounds=None, threads=1, progress=True):
    """Measure each workload (all, or those in ``names``); return {name: result}.

    Each result has ``ours_s`` and ``ref_s`` (best round, seconds), ``ratio`` (ours ÷ ref for ``*_vs_gemm``,
    ref ÷ ours for ``*_vs_numpy``), ``goal``, ``meets_goal``, ``rounds``, ``threads`` (BLAS threads of every
    worker process), ``spread`` ({"ours", "ref"}: max/min over the rounds), ``ratio_range`` (the ratio's
    lowest and highest over the rounds, each round's ours beside the same round's ref), ``settled`` (every
    round's ratio on the same side of the goal: False means this run is no verdict), ``peers`` ({name:
    {"s", "ratio", "spread"}, or "absent" where the library is not installed}) and ``round_s`` (every round's
    seconds, by implementation) and ``median_s`` (each one's median round). A workload with ``steps`` adds
    ``steps_per_round`` and ``steps_per_s`` (of each implementation's best round); one without a goal reports
    ``meets_goal`` and ``settled`` as None.
    ``verbose`` prints a summary per workload to stdout; ``progress`` a line per
    round to stderr, and one per implementation whose round took at least ``LONG_ROUND_S`` seconds.
    """
    names = list(WORKLOADS) if names is None else list(names)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise ValueError(f"names: unknown workloads {unknown}; choose from {sorted(WORKLOADS)}")
    _say(f"pretrainlab bench: {len(names)} workloads, {'quick' if quick else 'full'} sizes, "
         f"{rounds or ('%d' % QUICK_ROUNDS if quick else 'default')} rounds, {threads} BLAS thread(s) "
         f"per worker process; {machine(threads)}", progress)
    results = {}
    for k, name in enumerate(names, start=1):
        results[name] = measure(WORKLOADS[name], quick, rounds, threads, progress, tag=f"[{k}/{len(names)}] ")
        if verbose:
            print(summary(name, results[name]), flush=True)
    return results


#: what the summary's terms mean (printed above it)
LEGEND = """every ratio below is a time ÷ the row's reference time (best round of each): lower is faster
  *_vs_gemm   reference = the same matrix products alone (1.00: everything besides the products is free)
  *_vs_numpy  reference = the straightforward NumPy step (0.10: ours takes a tenth of its time)
  rounds a–b  the lowest and highest ratio of one round's ours to the same round's reference
  spread      slowest ÷ fastest round of one implementation (the machine's noise)
  verdict     ok / MISSED only when every round falls on the same side of the goal; otherwise no verdict"""


def _time_ratio(kind, ratio):
    """A workload's ratio as ours' time ÷ the reference's (``vs_numpy`` ratios are stored as speed-ups,
    reference ÷ ours, in the JSON)."""
    return ratio if kind == "vs_gemm" else 1.0 / ratio


def summary(name, r):
    """Two or three lines on one workload's result, every ratio as a time ÷ the reference's (``LEGEND``)."""
    kind = r.get("kind", "vs_gemm")
    lo, hi = sorted(_time_ratio(kind, v) for v in r["ratio_range"])
    peers = ", ".join(f"{p} {v['s']:.3f} s (ratio {_time_ratio(kind, v['ratio']):.2f})" if isinstance(v, dict)
                      else f"{p} {v}" for p, v in r["peers"].items())
    goal = r["goal"]
    if kind != "vs_gemm" and goal.startswith(">="):  # a speed-up ≥ g is a time ratio ≤ 1/g
        goal = f"<= {1.0 / float(goal[2:]):.2f}"
    if r["meets_goal"] is None:
        verdict = ""
    elif r["settled"]:
        verdict = "ok" if r["meets_goal"] else "MISSED"
    else:
        verdict = "no verdict (the rounds straddle the goal)"
    text = (f"{name:22s} ours {r['ours_s']:8.3f} s   ref {r['ref_s']:8.3f} s   ratio "
            f"{_time_ratio(kind, r['ratio']):6.2f} (rounds {lo:.2f}–{hi:.2f})   goal {goal:8s} {verdict}\n"
            f"{'':22s} spread ours {r['spread']['ours']:.2f} ref {r['spread']['ref']:.2f}, best of {r['rounds']}; "
            f"peers: {peers or 'none'}")
    if "steps_per_s" in r:
        text += f"\n{'':22s} steps/s: " + ", ".join(f"{i} {v:.0f}" for i, v in r["steps_per_s"].items())
    return text


def main(quick=False, as_json=False, threads=1, rounds=None, names=None):
    """``pretrainlab bench``: a summary (or, with ``as_json``, one JSON object) on stdout, progress on stderr."""
    if not as_json:
        print(LEGEND, flush=True)
    results = run(quick=quick, names=names, verbose=not as_json, rounds=rounds, threads=threads)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print(f"machine: {machine(threads)}")
    return 0
