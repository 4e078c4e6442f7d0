"""Study 4's experiment (``pretrainlab experiment ae-dynamics``) runs end to end in a tiny configuration,
and its measurement helpers (``runs.py``) and samplers (``data``) do what they say."""
import json
import math

import numpy as np
import pytest

from pretrainlab.studies.ae_dynamics import ode as ae_ode, runs as ae_runs
from pretrainlab.data import spiked_covariance
from pretrainlab.studies.ae_dynamics.data import center_and_scale_globally, gaussian_sampler, spiked_sampler
from pretrainlab.studies.ae_dynamics import experiment as ae_dynamics


@pytest.mark.slow
def test_quick_mode_runs_and_writes_every_figure(tmp_path, monkeypatch):
    tiny = dict(ae_dynamics.SETTINGS["quick"], D=60, t_linear=40.0, t_erf=40.0, t_relu=40.0, n_records=15,
                n_test=300, ode_dims=[40, 80], ode_t_linear=10.0, ode_t_erf=10.0, mnist_t=2.0, mnist_n_train=2000,
                mnist_n_eval=200, speed_steps=(200, 2000), mean_dims=[40, 80], mean_dims_erf=[40, 80], mean_runs=3,
                mean_t_linear=6.0, mean_t_erf=6.0, mean_mnist_t=0.5, mean_n_records=12)
    monkeypatch.setitem(ae_dynamics.SETTINGS, "quick", tiny)
    record = ae_dynamics.run("quick", tmp_path / "run", seed=0, verbose=False)
    stored = json.loads((tmp_path / "run" / "results.json").read_text())
    assert stored["complete"] and set(stored["results"]) == set(ae_dynamics.PARTS)
    for name in ("sequential", "erf_tied", "relu_bias", "truncated", "ode_vs_sgd", "ode_deviation", "mnist",
                 "ode_mean_linear", "ode_mean_erf", "ode_mean_mnist", "ode_mean_scaling"):
        assert (tmp_path / "run" / f"ae_dynamics_{name}.png").stat().st_size > 10_000, name
    r = record["results"]
    assert r["speed"]["numba_steps_per_s"] > 0 and r["speed"]["numpy_steps_per_s"] > 0
    # even this short a linear run has left its initial error (½ tr Ω / D = ½) behind
    assert r["sequential"]["final_error"] < 0.4
    lin = r["ode_vs_sgd"]["linear"]
    assert len(lin["mean_max_rel_dev"]) == 2 and len(lin["std_aligned_rel_dev"]) == 2
    for D in ("40", "80"):  # every seed gets its deviation with the escape shifts taken out
        assert all(np.isfinite(lin["per_D"][D]["aligned_rel_dev"]))
    mean = r["ode_mean"]
    assert set(mean["cells"]) == {"linear D=40", "linear D=80", "erf D=40", "erf D=80", "linear mnist", "erf mnist",
                                  "linear mnist-real"}
    for cell in mean["cells"].values():  # R = 3 runs from one start: t = 0 is dropped, every later z is finite
        assert len(cell["runs"]) == 3 and cell["t"][0] == 0.0 and cell["t_keep"][0] > 0
        assert np.all(np.isfinite(cell["z"])) and cell["ode_step_error"] < 1e-6
        assert np.allclose(np.mean(cell["runs"], axis=0)[1:] / cell["ode"][1:] - 1, cell["bias"])
    assert set(mean["scaling"]) == {"linear", "erf"} and np.isfinite(mean["scaling"]["linear"]["slope_fluct_rms"])
    # a rerun resumes: every part is stored, nothing is recomputed
    again = ae_dynamics.run("quick", tmp_path / "run", seed=0, verbose=False)
    assert again["results"] == json.loads(json.dumps(record["results"])) and again["part_seconds"] == record["part_seconds"]


@pytest.mark.slow
def test_spiked_covariance_spectrum_has_standard_deviations_two_to_the_m_plus_one():
    """Unit directions in a large space are nearly orthogonal: the top eigenvalues are s_m² + 1, s_m = 2^m + 1."""
    s = spiked_covariance(1, dim=3000, n_spikes=5, normalize_directions=True, rng=0)
    assert s.scales.tolist() == [3.0, 5.0, 9.0, 17.0, 33.0]
    rho = np.linalg.eigvalsh(s.covariance)[::-1]
    np.testing.assert_allclose(rho[:5], np.array([33.0, 17.0, 9.0, 5.0, 3.0]) ** 2 + 1, rtol=0.02)
    np.testing.assert_allclose(rho[5:], 1.0, atol=1e-9)


def test_samplers_have_the_covariance_they_promise():
    rng = np.random.default_rng(1)
    s = spiked_covariance(1, dim=20, n_spikes=2, rng=rng)
    x = spiked_sampler(s, rng, scale=0.5)(40000)
    emp = x.T.astype(np.float64) @ x / len(x)
    assert np.abs(emp - 0.25 * s.covariance).max() < 0.05 * 0.25 * np.abs(s.covariance).max()
    Om = 0.25 * s.covariance
    y = gaussian_sampler(Om, rng)(40000).astype(np.float64)
    assert np.abs(y.T @ y / len(y) - Om).max() < 0.05 * np.abs(Om).max()
    z, cov = center_and_scale_globally(rng.random((500, 7)) * np.arange(1, 8))
    assert np.trace(cov) / 7 == pytest.approx(1.0) and np.abs(z.mean(axis=0)).max() < 1e-6


def test_population_error_matches_the_sample_error():
    rng = np.random.default_rng(2)
    s = spiked_covariance(1, dim=30, n_spikes=2, rng=rng)
    X = spiked_sampler(s, rng)(100000).astype(np.float64)
    W, V = rng.standard_normal((2, 30, 3))
    for act in ("linear", "erf"):
        pop = ae_runs.population_error(W, V, s.covariance, act)
        mc = ae_runs.sample_error(W, V, np.zeros(3), X, act)
        assert mc == pytest.approx(pop, rel=0.02), act


def test_overlaps_plateaus_and_crossings():
    Psi = np.linalg.qr(np.random.default_rng(3).standard_normal((10, 10)))[0]
    W = Psi[:, [1, 0, 2]] * np.array([2.0, -1.0, 3.0])
    np.testing.assert_allclose(ae_runs.overlap_matrix(W, Psi[:, :3]), [[0, 1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(ae_runs.subspace_overlaps(W @ np.array([[1, 2, 0], [0, 1, 0], [1, 1, 1.0]]),
                                                         Psi[:, :4]), [1, 1, 1, 0], atol=1e-12)
    assert ae_runs.off_diagonal(np.array([[1.0, 0.2], [0.4, 1.0]])) == pytest.approx((0.3, 0.4))
    t = np.geomspace(0.1, 1000, 400)  # a staircase 1 → 0.1 → 0.01 with drops at t = 1 and t = 100
    err = 0.01 + 0.09 / (1 + (t / 100) ** 4) + 0.9 / (1 + t ** 4)
    found = ae_runs.plateaus(t, err)
    assert len(found) == 1 and 3 < found[0][0] < 30 and found[0][1] == pytest.approx(0.1, rel=0.05)
    assert ae_runs.crossing_time([0, 1, 2], [1.0, 0.1, 0.01], 0.1 ** 0.5) == pytest.approx(0.5)
    assert math.isnan(ae_runs.crossing_time([0, 1], [1.0, 0.5], 0.1))
    assert ae_runs.loglog_slope([1, 10, 100], [1, 0.1, 0.01]) == pytest.approx(-1.0)
    assert ae_runs.max_relative_deviation([0, 1], [1.1, 0.5], [0, 2], [1.0, 1.0]) == pytest.approx(0.5)


def test_time_aligned_deviation_removes_escape_shifts_but_not_shape_errors():
    """A staircase escaping each plateau later than the ODE's: a large raw gap, ≈ 0 once the clock is warped
    onto the ODE's crossings; an error in the plateau *height* survives the alignment."""
    t = np.linspace(0, 100, 4001)

    def staircase(t, escapes, floor=0.01):
        # three plateaus 0.5 → 0.1 → 0.01, left by smooth (logistic) drops at the escape times
        e = 0.5 * (0.2 ** (1 / (1 + np.exp(-(t - escapes[0]) * 2)))) * (0.1 ** (1 / (1 + np.exp(-(t - escapes[1]) * 2))))
        return np.maximum(e, floor)

    ode = staircase(t, (20.0, 60.0))
    sgd = staircase(t, (23.0, 57.5))  # first escape 3 late, second 2.5 early
    levels = [np.sqrt(0.5 * 0.1), np.sqrt(0.1 * 0.01)]
    raw = ae_runs.max_relative_deviation(t, sgd, t, ode)
    aligned, anchors = ae_runs.time_aligned_deviation(t, sgd, t, ode, levels)
    assert raw > 1.0 and aligned < 0.05 < raw
    assert [round(a - b, 1) for a, b in anchors] == [3.0, -2.5]
    shape_error = 1.1 * sgd  # 10 % too high everywhere: no warp of time removes that
    assert ae_runs.time_aligned_deviation(t, shape_error, t, ode, levels)[0] > 0.09


def test_train_online_records_at_the_asked_times():
    rng = np.random.default_rng(4)
    s = spiked_covariance(1, dim=20, n_spikes=2, rng=rng)
    W, V = 0.1 * rng.standard_normal((2, 20, 2)).astype(np.float32)
    sample = spiked_sampler(s, rng, scale=(np.trace(s.covariance) / 20) ** -0.5)  # tr Ω/D = 1
    rec = ae_runs.train_online(sample, W, V, np.zeros(2, np.float32), [0.5, 1.0, 3.0],
                               (0.05, 1.0, 0.0), evaluate=lambda W, V, b: {"n": float(np.abs(W).sum())})
    assert rec["t"].tolist() == [0.0, 0.5, 1.0, 3.0] and len(set(rec["n"])) == 4
    with pytest.raises(ValueError, match="evaluate"):
        ae_runs.train_online(sample, W, V, np.zeros(2, np.float32), [1.0], (0.1, 0.1, 0.0))
    assert ae_ode.pca_errors(np.array([3.0, 2.0, 1.0]), 2).tolist() == [1.5, 0.5]


def test_mean_deviation_finds_a_bias_of_the_mean_and_not_one_that_is_absent():
    """Synthetic runs ε_r = ε_ODE (1 + β + noise): the fluctuation size is the noise's std, the time-averaged bias
    is β within its standard error, and z flags β = 3 % but not β = 0 (seeded: the same numbers every time)."""
    rng = np.random.default_rng(5)
    ode = np.geomspace(0.5, 0.01, 40)
    noise = 0.02 * rng.standard_normal((10, 40))
    noise[:, 0] = 0.0  # t = 0: every run equals the ODE, dropped
    for beta in (0.0, 0.03):
        runs = ode * (1 + beta * (np.arange(40) > 0) + noise)
        out = ae_runs.mean_deviation(runs, ode)
        assert out["d"].shape == (10, 39) and not out["keep"][0]
        assert out["fluct_rms"] == pytest.approx(0.02, rel=0.15)
        assert abs(out["time_avg_bias"] - beta) < 3 * out["time_avg_bias_se"]
        if beta:
            assert out["time_avg_bias_z"] > 5 and out["frac_abs_z_gt_2"] > 0.5
        else:
            assert abs(out["time_avg_bias_z"]) < 3 and out["frac_abs_z_gt_2"] < 0.2 and out["rms_bias"] < 0.005
    with pytest.raises(ValueError, match="err_runs"):
        ae_runs.mean_deviation(runs[:1], ode)
