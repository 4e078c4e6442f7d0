"""Sweeps: the same units give the same results serially, in two processes (joblib) and on a local Dask
cluster of two workers; finished units are not rerun on resume."""
import json
import time

import numpy as np
import pytest

from pretrainlab.experiments import pretraining
from pretrainlab.sweep import run_units

# a tiny version of study 2's quick mode: two label counts, one seed
TINY = dict(pretraining.SETTINGS["quick"], n_unlabelled=600, hidden=(20,), labels=(50, 600), n_valid=300,
            n_test=300, finetune_epochs=3, patience=2, dropout_labels=(600,), dropout_epochs=3, dropout_patience=2)


def _square_with_blas(unit):
    a = np.random.default_rng(unit).random((60, 60))
    return float(np.linalg.norm(a @ a))


def test_run_units_gives_the_serial_results_in_two_processes():
    units = list(range(6))
    serial = run_units(_square_with_blas, units, threads_per_job=1, verbose=False)
    seen = []
    parallel = run_units(_square_with_blas, units, jobs=2, threads_per_job=1, verbose=False,
                         on_result=lambda unit, result: seen.append(unit))
    assert parallel == serial and sorted(seen) == units
    with pytest.raises(ValueError, match="jobs"):
        run_units(_square_with_blas, units, jobs=0)


def _table(results):
    return [(r["arm"], r["seed"], r["n_labels"], r["test_error"], r["epochs"], r.get("test_error_retrain"))
            for r in results["runs"]]


def test_pretraining_serial_parallel_and_dask_agree_and_resume_skips_finished_units(tmp_path, monkeypatch):
    monkeypatch.setitem(pretraining.SETTINGS, "quick", TINY)
    serial = pretraining.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    start = time.perf_counter()
    again = pretraining.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)  # all done: nothing reruns
    assert _table(again) == _table(serial) and time.perf_counter() - start < 60
    parallel = pretraining.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert _table(parallel) == _table(serial)
    distributed = pytest.importorskip("distributed", reason="the [cluster] extra runs the Dask test")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        on_dask = pretraining.run("quick", tmp_path / "dask", verbose=False, scheduler=c.scheduler_address,
                                  threads_per_job=1)
    assert _table(on_dask) == _table(serial)
    assert json.loads((tmp_path / "dask" / "results.json").read_text())["runs"]
