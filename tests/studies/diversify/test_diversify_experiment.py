"""Study 3's experiment: the quick run, its resume and table, the partial labels and the gradient probe."""
import json

import numpy as np
import pytest

from pretrainlab.data import load_mnist
from pretrainlab.studies.diversify.regularizers import InnerProductDR
from pretrainlab.runner.experiments import EXPERIMENTS, get_experiment
from pretrainlab.studies.diversify.experiment import GradientProbe, partial_labels
from pretrainlab.mlp import MLP


def test_partial_labels_keep_only_the_labelled_rows():
    y = np.array([3, 1, 4, 1, 5])
    np.testing.assert_array_equal(partial_labels(y, np.array([1, 4])), [-1, 1, -1, -1, 5])


def test_gradient_probe_measures_the_cross_entropy_on_a_twin_sharing_the_parameters():
    data = load_mnist(n_train=50, n_valid=1, n_test=1)
    x, y = data.x_train, data.y_train
    mlp = MLP([784, 12, 8, 10], rng=0, penalties=[InnerProductDR(5.0)])
    probe = GradientProbe(mlp, x, y, steps=4, every=2)
    plain = MLP([784, 12, 8, 10], rng=0)  # the same initial weights, no penalty
    _, g = plain.loss_and_grads(x, y)
    np.testing.assert_allclose(probe.record["ce"][0], [np.linalg.norm(g[f"W{l}"]) for l in (1, 2, 3)], rtol=1e-5)
    assert probe.record["total"][0][0] != probe.record["ce"][0][0]  # the DR term adds to the hidden layers
    mlp.params["W1"] += 0.1  # the twin sees updates made in place
    for _ in range(5):
        probe(mlp)
    assert probe.record["step"] == [0, 2, 4]
    assert probe.record["ce"][1][0] != probe.record["ce"][0][0]


@pytest.mark.slow
def test_quick_diversify_experiment_runs_resumes_and_writes_its_table(tmp_path):
    assert "diversify" in EXPERIMENTS
    run = get_experiment("diversify")
    results = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    arms = {("dbn", 0, "none"), ("mlp", 0, "none")} | {(arm, a, p) for arm, a in (("dbn", 300), ("mlp", 1.0))
                                                       for p in ("different", "random", "same")}
    assert {(r["arm"], r["alpha"], r["pairs"]) for r in results["runs"]} == arms
    assert len(results["runs"]) == 2 * 2 * len(arms) and results["complete"]  # 2 seeds × 2 label counts
    for r in results["runs"]:
        assert 0.0 <= r["test_error"] < 0.9
        assert len(r["grad_norms"]["ce"][0]) == 3 and r["grad_norms"]["step"][0] == 0
    # α = 0 is one stack per seed (no labels); every α > 0 one per label count and choice of pairs
    assert len(list(tmp_path.glob("stack-dbn-a0-seed0-layer*.npz"))) == 2
    assert len(list(tmp_path.glob("stack-dbn-a300-l*-seed0-layer1.npz"))) == 2
    assert len(list(tmp_path.glob("stack-dbn-a300-random-l*-seed1-layer1.npz"))) == 2
    assert len(list(tmp_path.glob("stack-*.npz"))) == 2 * 2 * (1 + 3 * 2)  # no stack for the MLP arm's α
    stored = json.loads((tmp_path / "results.json").read_text())
    assert set(stored["summary"]["1500"]) == {"dbn α=0", "dbn α=300", "dbn α=300 random pairs", "dbn α=300 same pairs",
                                              "mlp α=0", "mlp α=1", "mlp α=1 random pairs", "mlp α=1 same pairs"}
    # the paired differences are those of the runs themselves, seed by seed
    cell = stored["paired"]["1500"]["mlp α=1"]
    err = {(r["alpha"], r["pairs"], r["seed"]): r["test_error"] for r in results["runs"]
           if r["arm"] == "mlp" and r["n_labels"] == 1500}
    assert cell["vs random pairs"]["diffs"] == pytest.approx([err[(1.0, "different", s)] - err[(1.0, "random", s)]
                                                              for s in (0, 1)])
    assert cell["vs α=0"]["n"] == 2 and cell["vs α=0"]["lo"] <= cell["vs α=0"]["mean"] <= cell["vs α=0"]["hi"]
    for name in ("convergence.png", "error_vs_alpha.png", "grad_norms.png", "grad_norms_total.png",
                 "paired_differences.png"):
        assert (tmp_path / name).stat().st_size > 0
    again = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    assert [r["seconds"] for r in again["runs"]] == [r["seconds"] for r in results["runs"]]


def test_a_deadline_in_the_past_starts_no_unit_and_the_rerun_does_them(tmp_path):
    run = get_experiment("diversify")
    results = run(mode="quick", out=tmp_path, seed=0, verbose=False, deadline=0.0)
    assert results["runs"] == [] and not results["complete"]
    assert not list(tmp_path.glob("stack-*.npz"))


def test_planned_units_put_the_mlp_arm_first_and_the_dbn_arm_seed_by_seed():
    from pretrainlab.studies.diversify.experiment import SETTINGS, planned_units

    units = planned_units(SETTINGS["full"], [0, 1, 2, 3, 4])
    arms = [u[0] for u in units]
    assert arms == sorted(arms, key=lambda a: a != "mlp")  # every mlp unit before every dbn unit
    dbn_seeds = [u[3] for u in units if u[0] == "dbn"]
    assert dbn_seeds == sorted(dbn_seeds)
    assert len(units) == 2 * 5 * 2 * (1 + 3)  # 2 arms × 5 seeds × 2 label counts × (α = 0 + the DR arm and 2 controls)
    assert {u[2] for u in units if u[1] == 0} == {"none"}
