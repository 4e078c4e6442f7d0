"""`pretrainlab bench`: the quick run reports the documented structure, never asserted times.

One quick run of every workload (2 rounds, each implementation in its own worker process) serves the
structure checks; it takes under a minute on two cores.
"""
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from pretrainlab.runner import cli
from pretrainlab.runner.bench import WORKLOADS, runner

pytestmark = pytest.mark.slow  # (minutes: `pytest -m "not slow"` skips it in the edit–test loop)


@pytest.fixture(scope="module")
def quick_run():
    proc = subprocess.run([sys.executable, "-m", "pretrainlab.runner.bench", "--quick", "--json", "--rounds", "2"],
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
        if WORKLOADS[name].goal is None:  # a row without a goal reports its ratio only
            assert r["meets_goal"] is None and r["settled"] is None and r["goal"] == "none", name
        else:
            assert isinstance(r["meets_goal"], bool), name
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
        assert isinstance(r["settled"], bool) or WORKLOADS[name].goal is None, name


def test_peers_present_or_absent(quick_run):
    results, _ = quick_run
    for name, r in results.items():
        assert set(r["peers"]) == set(WORKLOADS[name].peers), name
        for peer, value in r["peers"].items():
            # the other libraries' peers may be absent; the lab's own variants and plain NumPy never are
            installed = peer not in ("torch", "sklearn") or importlib.util.find_spec(peer) is not None
            if not installed:
                assert value == "absent", (name, peer)
                continue
            assert isinstance(value, dict), (name, peer, value)  # installed: measured, not failed
            assert value["s"] == min(r["round_s"][peer])
            assert math.isclose(value["ratio"], _ratio(name, value["s"], r["ref_s"]), rel_tol=1e-9)
            assert value["spread"] >= 1
    assert "sklearn" in results["cd1_b100_vs_gemm"]["peers"]


def test_drsae_and_dropout_rows_report_steps_per_s(quick_run):
    # issue 29's DrSAE step (ours, the lab's NumPy path, the products, PyTorch) and issue 30's dropout epoch
    # (with and without max-norm, plain, the products): positive times and rates, never asserted against a
    # wall-clock value
    results, _ = quick_run
    for name, measured in (("drsae_b10_vs_gemm", ("ours", "ref", "lab-numpy")),
                           ("dropout_b100_vs_gemm", ("ours", "ref", "no-maxnorm", "plain"))):
        r = results[name]
        n_steps = WORKLOADS[name].steps[0]  # --quick
        assert r["steps_per_round"] == n_steps, name
        for impl in measured:
            assert min(r["round_s"][impl]) > 0, (name, impl)
            assert math.isclose(r["steps_per_s"][impl], n_steps / min(r["round_s"][impl])), (name, impl)
            assert min(r["round_s"][impl]) <= r["median_s"][impl] <= max(r["round_s"][impl]), (name, impl)
        for peer in measured[2:]:
            assert isinstance(r["peers"][peer], dict) and r["peers"][peer]["ratio"] > 0, (name, peer)


def test_torch_drsae_peer_takes_the_labs_step():
    # the PyTorch peer trains the same unrolled network: one step by autograd equals one by the lab's BPTT
    pytest.importorskip("torch")
    from pretrainlab.runner.bench import peers
    from pretrainlab.runner.bench.workloads import DRSAE_LR, _drsae_data, drsae_bench_model
    from pretrainlab.optim import SGD

    x, y = _drsae_data(20)
    model = drsae_bench_model(x, 40, 4)
    batches = [(x[:10], y[:10])]
    run, _ = peers.torch_drsae(model, batches, DRSAE_LR)  # trains a copy: model is left as it was
    start = {name: p.copy() for name, p in model.params.items()}
    run()
    opt = SGD(model.params, lr=DRSAE_LR, lr_scale={k: 1.0 / d for k, d in model.lr_scale().items()})
    _, grads = model.loss_and_grads(*batches[0])
    opt.step(grads)
    model.project_norms()
    for name, p in run.params.items():  # the two updates agree to 1e-4 of their size (float32)
        ours, theirs = model.params[name] - start[name], p.detach().numpy() - start[name]
        assert np.abs(ours).max() > 0, name
        np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-4 * np.abs(ours).max(), err_msg=name)


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
    from pretrainlab.runner.bench.workloads import WORKLOADS
    with pytest.raises(ValueError, match="ais_vs_gemm: no implementation 'torch'; it has ours, ref and numpy"):
        WORKLOADS["ais_vs_gemm"].build("torch", True)


def test_the_summary_gives_every_ratio_as_a_time_ratio_and_a_verdict_only_where_settled():
    from pretrainlab.runner.bench.runner import LEGEND, summary

    base = {"ours_s": 0.1, "ref_s": 1.0, "spread": {"ours": 1.1, "ref": 1.2}, "rounds": 5, "peers": {}}
    speedup = dict(base, kind="vs_numpy", ratio=10.0, ratio_range=[8.0, 12.5], goal=">= 2", meets_goal=True,
                   settled=True)
    line = summary("online_ae_vs_numpy", speedup)
    assert "ratio   0.10" in line and "0.08–0.12" in line and "goal <= 0.50" in line and line.rstrip().endswith(
        "none") and " ok" in line  # a speed-up of 10 is a time ratio of 0.10, lower is faster
    straddling = dict(base, kind="vs_gemm", ratio=1.2, ratio_range=[1.1, 1.4], goal="<= 1.3", meets_goal=True,
                      settled=False)
    line = summary("cd1_b100_vs_gemm", straddling)
    assert "no verdict" in line and " ok" not in line and "MISSED" not in line
    assert "lower is faster" in LEGEND
