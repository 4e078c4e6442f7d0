"""The rbm-likelihood experiment's schedules (the run itself is exercised by tutorial 05 in quick mode)."""
import pytest

from pretrainlab.runner.experiments import EXPERIMENTS, get_experiment
from pretrainlab.studies.classics.rbm_likelihood import SETTINGS
from pretrainlab.optim import k_schedule, linear_decay


def test_registered():
    assert "rbm-likelihood" in EXPERIMENTS
    assert callable(get_experiment("rbm-likelihood"))


def test_k_grows_from_one_to_k_max_and_stays():
    k = k_schedule(25, 60)
    ks = [k(epoch) for epoch in range(100)]
    assert ks[0] == 1 and ks[60] == 25 and ks[-1] == 25
    assert all(b >= a for a, b in zip(ks, ks[1:]))


def test_linear_decay_stays_positive_and_reaches_near_zero():
    lr = linear_decay(0.01, 150)
    assert lr(0) == 0.01
    assert 0 < lr(149) < 1e-4


def test_every_mode_has_exact_and_ais_sized_models():
    for cfg in SETTINGS.values():
        sizes = {n for n, _, _ in cfg["models"]}
        methods = {m for _, m, _ in cfg["models"]}
        assert min(sizes) <= 25 < max(sizes)
        assert methods == {"CD-1", "CD-k", "PCD"}


@pytest.mark.slow
def test_quick_run_writes_results_and_ais_agrees_with_exact_log_z(tmp_path):
    """The quick mode proves the code path (seconds; its likelihoods mean nothing) and that a rerun resumes."""
    run = get_experiment("rbm-likelihood")
    results = run(mode="quick", out=tmp_path, verbose=False)
    assert (tmp_path / "rbm_likelihood.png").stat().st_size > 0
    assert {m["name"] for m in results["models"]} == {f"h{n}-{m}" for n, m, _ in SETTINGS["quick"]["models"]}
    for m in results["models"]:
        if "test_ll_exact" in m:  # 10 hidden units: AIS within a few of its standard errors of the truth
            assert abs(m["ais"]["log_z"] - m["exact_log_z"]) < 5 * m["ais"]["stderr"] + 0.05
    again = run(mode="quick", out=tmp_path, verbose=False)  # finished models are read back, not retrained
    assert [m["test_ll_ais"] for m in again["models"]] == [m["test_ll_ais"] for m in results["models"]]
