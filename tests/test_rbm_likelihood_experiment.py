"""The rbm-likelihood experiment's schedules (the run itself is exercised by tutorial 05 in quick mode)."""
from pretrainlab.experiments import EXPERIMENTS, get_experiment
from pretrainlab.experiments.rbm_likelihood import SETTINGS
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
