"""`pretrainlab bench`: the quick run reports the documented structure, never asserted times.

One quick run of every workload (2 rounds, each implementation in its own worker process) serves the
structure checks; it takes under a minute on two cores.
"""
import importlib.util
import json
import math
import subprocess
import sys

import pytest

from pretrainlab import cli
from pretrainlab.bench import WORKLOADS, runner


@pytest.fixture(scope="module")
def quick_run():
    proc = subprocess.run([sys.executable, "-m", "pretrainlab.bench", "--quick", "--json", "--rounds", "2"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr  # stdout is one JSON object: progress went to stderr


def _ratio(name, impl_s, ref_s):
    return impl_s / ref_s if name.endswith("_vs_gemm") else ref_s / impl_s


def test_keys_and_ratios(quick_run):
    results, _ = quick_run
    assert set(results) == set(WORKLOADS)
    for name, r in results.items():
        assert {"ours_s", "ref_s", "ratio", "goal", "meets_goal", "spread", "rounds", "peers"} <= set(r), name
        assert r["ours_s"] > 0 and r["ref_s"] > 0, name
        assert math.isclose(r["ratio"], _ratio(name, r["ours_s"], r["ref_s"]), rel_tol=1e-9), name
        assert isinstance(r["meets_goal"], bool)
        assert r["rounds"] == 2 and r["threads"] == 1


def test_best_of_interleaved_rounds_and_spread(quick_run):
    results, _ = quick_run
    for name, r in results.items():
        assert len(r["round_s"]["ours"]) == len(r["round_s"]["ref"]) == 2, name
        assert r["ours_s"] == min(r["round_s"]["ours"]) and r["ref_s"] == min(r["round_s"]["ref"]), name
        for impl in ("ours", "ref"):
            times = r["round_s"][impl]
            assert math.isclose(r["spread"][impl], max(times) / min(times)) and r["spread"][impl] >= 1, name
        lo, hi = r["ratio_range"]  # the best-of ratio always lies within the per-round ratios' range
        assert lo * (1 - 1e-9) <= r["ratio"] <= hi * (1 + 1e-9), name
        assert isinstance(r["settled"], bool), name


def test_peers_present_or_absent(quick_run):
    results, _ = quick_run
    for name, r in results.items():
        assert set(r["peers"]) == set(WORKLOADS[name].peers), name
        for peer, value in r["peers"].items():
            installed = peer == "numpy" or importlib.util.find_spec(peer) is not None
            if not installed:
                assert value == "absent", (name, peer)
                continue
            assert isinstance(value, dict), (name, peer, value)  # installed: measured, not failed
            assert value["s"] == min(r["round_s"][peer])
            assert math.isclose(value["ratio"], _ratio(name, value["s"], r["ref_s"]), rel_tol=1e-9)
            assert value["spread"] >= 1
    assert "sklearn" in results["cd1_b100_vs_gemm"]["peers"]


def test_progress_on_stderr(quick_run):
    _, stderr = quick_run
    for name in WORKLOADS:
        assert f"{name}: round 2/2" in stderr, name


def test_cli_bench_runs_the_runner(monkeypatch, capsys):
    # `pretrainlab bench --quick --json` reaches runner.main; the run itself is the fixture's, not repeated here.
    seen = {}

    def fake_run(quick, names, verbose, rounds, threads):
        seen.update(quick=quick, verbose=verbose, threads=threads)
        return {"x": {"ratio": 1.0}}

    monkeypatch.setattr(runner, "run", fake_run)
    assert cli.main(["bench", "--quick", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"x": {"ratio": 1.0}}
    assert seen == {"quick": True, "verbose": False, "threads": 1}


def test_unknown_workload_is_a_value_error():
    with pytest.raises(ValueError, match="unknown workloads"):
        runner.run(names=["no_such_workload"], progress=False)
    from pretrainlab.bench.workloads import WORKLOADS
    with pytest.raises(ValueError, match="ais_vs_gemm: no implementation 'torch'; it has ours, ref and numpy"):
        WORKLOADS["ais_vs_gemm"].build("torch", True)
