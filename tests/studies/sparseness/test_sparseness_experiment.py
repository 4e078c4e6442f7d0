"""Study 1's experiment: the quick run, its resume, its table, and its statistics (Spearman, epochs to reach)."""
import json

import numpy as np
import pytest

from pretrainlab.runner.experiments import EXPERIMENTS, get_experiment
from pretrainlab.studies.sparseness.experiment import ARMS, MEASURES, markdown_table, sparsity_extra
from pretrainlab.stats import bootstrap_spearman, epochs_to_reach, mean_std, rank, spearman


def test_rank_gives_tied_values_their_mean_rank():
    np.testing.assert_array_equal(rank([10, 30, 20, 20]), [1, 4, 2.5, 2.5])
    np.testing.assert_array_equal(rank([5, 5, 5]), [2, 2, 2])


def test_spearman_matches_the_no_ties_formula_and_is_rank_invariant():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=30), rng.normal(size=30)
    d = rank(x) - rank(y)
    assert spearman(x, y) == pytest.approx(1 - 6 * np.sum(d ** 2) / (30 * (30 ** 2 - 1)))
    assert spearman(x, np.exp(3 * x)) == pytest.approx(1.0)  # any increasing map: perfect rank agreement
    assert spearman(x, -x ** 3) == pytest.approx(-1.0)
    assert np.isnan(spearman(x, np.ones(30)))
    with pytest.raises(ValueError, match="same length"):
        spearman(x, y[:5])
    with pytest.raises(ValueError, match="finite"):
        spearman([1.0, np.nan], [1.0, 2.0])


def test_bootstrap_spread_needs_a_generator_and_brackets_rho():
    rng = np.random.default_rng(1)
    x = np.arange(20.0)
    y = x + rng.normal(scale=5, size=20)
    b = bootstrap_spearman(x, y, np.random.default_rng(2), n_boot=300)
    assert b["lo"] <= b["rho"] <= b["hi"] and b["boot_std"] > 0 and b["n"] == 20
    assert b == bootstrap_spearman(x, y, np.random.default_rng(2), n_boot=300)  # seeded: reproducible
    with pytest.raises(TypeError, match="rng"):
        bootstrap_spearman(x, y, 2)


def test_mean_std_is_the_sample_std_and_unknown_for_one_value():
    mean, std = mean_std([1.0, 2.0, 3.0, 6.0])
    assert mean == 3.0 and np.isclose(std, np.sqrt(14 / 3))  # Σ(v − m)² = 4 + 1 + 0 + 9, over n − 1 = 3
    mean, std = mean_std([[1.0, 10.0], [3.0, 10.0]], axis=0)
    np.testing.assert_allclose(mean, [2.0, 10.0])
    np.testing.assert_allclose(std, [np.sqrt(2.0), 0.0])
    assert np.isnan(mean_std([0.5])[1])
    with pytest.raises(ValueError, match="values"):
        mean_std([])


def test_epochs_to_reach_is_one_based_and_none_when_never_reached():
    assert epochs_to_reach([0.5, 0.3, 0.1, 0.2], 0.3) == 2
    assert epochs_to_reach([0.5, 0.4], 0.1) is None


def test_sparsity_extra_names_the_kl_penalty_for_each_kind():
    assert sparsity_extra("dbn", None, 1.0) == {}
    assert sparsity_extra("dbn", 0.05, 0.1) == {"sparsity_target": 0.05, "sparsity_weight": 0.1}
    assert sparsity_extra("sda", 0.05, 1.0)["sparsity"] == "kl"


@pytest.mark.slow
def test_quick_sparseness_experiment_runs_resumes_and_writes_its_table(tmp_path):
    assert "sparseness" in EXPERIMENTS
    run = get_experiment("sparseness")
    results = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    assert {r["arm"] for r in results["runs"]} == set(ARMS)
    for r in results["runs"]:
        assert 0.0 <= r["test_error"] < 0.9
        assert len(r["start"]) == len(r["end"]) == 2  # one summary per hidden layer
        assert r["during"][0]["epoch"] == 0 and len(r["during"]) >= 2
    relu = [r for r in results["runs"] if r["arm"] == "relu-random"]
    assert all(r["end"][0]["fraction_zero"] > 0 for r in relu)  # ReLU has exact zeros, sigmoid never
    assert {(r["kind"], r["rho"]) for r in results["sweep"]} >= {("dbn", None), ("sda", 0.1)}
    stored = json.loads((tmp_path / "results.json").read_text())
    assert set(stored["summary"]["1500"]) == set(ARMS)
    assert "population_hoyer@start" in stored["summary"]["1500"]["sigmoid-dbn"]
    table = markdown_table(stored["summary"], 1500).splitlines()
    assert len(table) == 2 + len(MEASURES) * 2 + 1  # header, rule, a row per measure and layer, the test error
    dbn_start = stored["summary"]["1500"]["sigmoid-dbn"]["lifetime_gini@start"]
    assert f"{dbn_start['mean'][1]:.3f} ± {dbn_start['std'][1]:.3f}" in table[2 + MEASURES.index("lifetime_gini") * 2 + 1]
    assert stored["correlations"]["1500"]["end"]["population_hoyer"].keys() == {"test_error", "epochs_to_reach"}
    for name in ("sparseness_bars.png", "sparseness_vs_epoch.png", "error_vs_sparseness.png",
                 "activation_histograms.png", "speed_vs_sparseness.png"):
        assert (tmp_path / name).stat().st_size > 0
    # a rerun finds every unit done: nothing is retrained, the records are the same
    again = run(mode="quick", out=tmp_path, seed=0, verbose=False)
    assert [r["seconds"] for r in again["runs"]] == [r["seconds"] for r in results["runs"]]
    assert [r["test_error"] for r in again["sweep"]] == [r["test_error"] for r in results["sweep"]]
