"""Sweeps (studies 1, 2, 3 and 5): the same units give the same results serially, in two processes (joblib) and on
a local Dask cluster of two workers; finished units are not rerun on resume."""
import json
import time

import numpy as np
import pytest

from pretrainlab import pretrain
from pretrainlab.runner import sweep
from pretrainlab.studies.diversify import experiment as diversify
from pretrainlab.studies.drsae import experiment as drsae
from pretrainlab.studies.pretraining import experiment as pretraining
from pretrainlab.studies.sparseness import experiment as sparseness
from pretrainlab.runner.sweep import local_cluster, run_units

pytestmark = pytest.mark.slow  # (minutes: `pytest -m "not slow"` skips it in the edit–test loop)

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
    # past the deadline no unit starts, serially or in processes; on_result never hears of them
    for jobs in (1, 2):
        assert run_units(_square_with_blas, units, jobs=jobs, threads_per_job=1, verbose=False,
                         deadline=time.time() - 1, on_result=lambda unit, result: seen.append(unit)) == {}
    assert sorted(seen) == units


def _table(results):
    return [(r["arm"], r["seed"], r["n_labels"], r.get("test_error"), r.get("epochs"), r.get("test_error_retrain"))
            for r in results["runs"]]


def test_pretraining_serial_parallel_and_dask_agree_and_resume_skips_finished_units(tmp_path, monkeypatch):
    monkeypatch.setitem(pretraining.SETTINGS, "quick", TINY)
    serial = pretraining.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    start = time.perf_counter()
    again = pretraining.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)  # all done: nothing reruns
    assert _table(again) == _table(serial) and time.perf_counter() - start < 60
    parallel = pretraining.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert _table(parallel) == _table(serial)
    pytest.importorskip("distributed", reason="the [cluster] extra runs the Dask test")
    with local_cluster(2) as c:
        on_dask = pretraining.run("quick", tmp_path / "dask", verbose=False, scheduler=c.scheduler_address,
                                  threads_per_job=1)
    assert _table(on_dask) == _table(serial)
    assert json.loads((tmp_path / "dask" / "results.json").read_text())["runs"]
    # an invocation whose time is spent starts nothing and says so; the rerun does everything
    late = pretraining.run("quick", tmp_path / "late", verbose=False, threads_per_job=1, deadline=time.time() - 1)
    assert late["runs"] == [] and late["status"].startswith("unfinished") and not list((tmp_path / "late").glob("*.npz"))
    assert _table(pretraining.run("quick", tmp_path / "late", verbose=False, threads_per_job=1)) == _table(serial)


def test_pretraining_units_stopped_by_the_time_budget_go_on_where_they_stopped(tmp_path, monkeypatch):
    """--hours stops a running unit after its epoch (checkpointed); the next invocation continues it and ends
    with the uninterrupted run's records. The budget here runs out after every fine-tuning's second epoch."""
    from pretrainlab.train import BudgetExhausted

    monkeypatch.setitem(pretraining.SETTINGS, "quick", TINY)
    serial = pretraining.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)

    class TwoEpochs:
        @classmethod
        def until(cls, deadline):
            return cls()

        def __call__(self, trainer, epoch):
            if epoch == 2:
                raise BudgetExhausted(f"time budget spent after epoch {epoch}")

    with monkeypatch.context() as m:
        m.setattr(sweep, "TimeBudget", TwoEpochs)  # the budget sweep.budgeted hands each unit
        cut = pretraining.run("quick", tmp_path / "cut", verbose=False, threads_per_job=1,
                              deadline=time.time() + 3600)
    # a unit that early-stopped within two epochs finished; every other one is left, checkpointed after epoch 2
    assert len(cut["runs"]) < len(serial["runs"]) and cut["status"].startswith("unfinished")
    assert all(r["epochs"] <= 2 for r in cut["runs"])
    assert list((tmp_path / "cut" / "units").glob("*-fine-tune.npz"))
    assert _table(pretraining.run("quick", tmp_path / "cut", verbose=False, threads_per_job=1)) == _table(serial)
    assert not list((tmp_path / "cut" / "units").glob("*.npz"))


def _records(results, key="runs"):
    """The records without their wall times: what a serial and a parallel run must share."""
    return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in results[key]]


def _nothing_reruns(monkeypatch, module, *names):
    """Make every training function of ``module`` fail: a resumed run that has nothing left must not call one."""
    def fail(*args, **kwargs):
        raise AssertionError("a finished unit was run again")

    for name in names:
        monkeypatch.setattr(module, name, fail)


# study 1 and 3's quick modes, smaller: 20-unit layers, 400 images, one epoch of pretraining, two of fine-tuning
TINY_SPARSENESS = dict(sparseness.SETTINGS["quick"], n_unlabelled=400, hidden=(20, 20), pretrain_epochs=1,
                       finetune_epochs=2, patience=2, labels=(50, 400), reach={50: 0.8, 400: 0.6}, n_valid=200,
                       n_test=200, n_probe=100, probe_every=1, rhos=(None, 0.1), n_boot=20)
TINY_DIVERSIFY = dict(diversify.SETTINGS["quick"], n_unlabelled=400, hidden=(20, 20), pretrain_epochs=1,
                      finetune_epochs=2, patience=2, labels=(50, 400), reach={50: 0.8, 400: 0.6}, n_valid=200,
                      n_test=200, grad_steps=6, grad_every=2)


def test_sparseness_serial_and_parallel_agree_and_resume_skips_finished_units(tmp_path, monkeypatch):
    monkeypatch.setitem(sparseness.SETTINGS, "quick", TINY_SPARSENESS)
    serial = sparseness.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    parallel = sparseness.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert _records(parallel) == _records(serial) and _records(parallel, "sweep") == _records(serial, "sweep")
    assert [(r["seed"], r["n_labels"], r["arm"]) for r in serial["runs"]] == [
        (s, n, arm) for s in (0, 1) for n in (50, 400) for arm in sparseness.ARMS]  # the serial loop's order
    assert [(r["kind"], r["rho"]) for r in serial["sweep"]] == [("dbn", None), ("dbn", 0.1), ("sda", None),
                                                               ("sda", 0.1)]
    assert all("histograms" in r for r in serial["runs"] if r["seed"] == 0)
    assert not any("histograms" in r for r in serial["runs"] if r["seed"] == 1)
    _nothing_reruns(monkeypatch, sparseness, "fine_tune_one")
    _nothing_reruns(monkeypatch, pretrain, "greedy_pretrain")  # what ``load_or_pretrain`` trains with
    again = sparseness.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert again["runs"] == parallel["runs"] and again["sweep"] == parallel["sweep"]  # the same seconds too


def test_diversify_serial_and_parallel_agree_and_resume_skips_finished_units(tmp_path, monkeypatch):
    monkeypatch.setitem(diversify.SETTINGS, "quick", TINY_DIVERSIFY)
    serial = diversify.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    parallel = diversify.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert _records(parallel) == _records(serial)
    # the planned order: the MLP arm's units first, then the DBN arm's; α > 0 with the labels' pairs and each control
    planned = diversify.planned_units(TINY_DIVERSIFY, [0 + k for k in TINY_DIVERSIFY["seeds"]])
    assert [(r["arm"], r["alpha"], r["pairs"], r["seed"]) for r in serial["runs"]] == [u[:4] for u in planned]
    assert {r["pairs"] for r in serial["runs"] if r["alpha"]} == set(TINY_DIVERSIFY["pairs"])
    # each stack pretrained once, in one folder whichever process ran it
    stacks = sorted(p.name for p in (tmp_path / "parallel").glob("stack-dbn-*-layer1.npz"))
    assert stacks == sorted(p.name for p in (tmp_path / "serial").glob("stack-dbn-*-layer1.npz")) and stacks
    _nothing_reruns(monkeypatch, diversify, "fine_tune_one")
    _nothing_reruns(monkeypatch, pretrain, "greedy_pretrain")  # what ``load_or_pretrain`` trains with
    again = diversify.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    assert again["runs"] == serial["runs"]


def test_diversify_on_a_local_dask_cluster_agrees_with_the_serial_run(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the [cluster] extra runs the Dask test")
    monkeypatch.setitem(diversify.SETTINGS, "quick", TINY_DIVERSIFY)
    serial = diversify.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    with local_cluster(2) as c:
        on_dask = diversify.run("quick", tmp_path / "dask", verbose=False, scheduler=c.scheduler_address,
                                threads_per_job=1)
    assert _records(on_dask) == _records(serial)


# study 5's quick mode, smaller: two tiny models on 300 images
TINY_DRSAE = dict(drsae.SETTINGS["quick"], n_train=300, n_valid=100, n_test=100, models=((12, 3), (8, 2)),
                  protocol=dict(drsae.SETTINGS["quick"]["protocol"], unsupervised_epochs=1, discriminative_epochs=2))


def test_drsae_models_run_as_units_serial_equals_parallel_and_a_spent_budget_leaves_them_to_resume(tmp_path,
                                                                                                   monkeypatch):
    monkeypatch.setitem(drsae.SETTINGS, "quick", TINY_DRSAE)
    serial = drsae.run("quick", tmp_path / "serial", verbose=False, threads_per_job=1)
    parallel = drsae.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert serial["status"] == parallel["status"] == "finished"
    assert [m["model"] for m in serial["models"]] == ["h12-T3", "h8-T2"]  # the settings' order, however they finish
    for a, b in zip(_records(serial, "models"), _records(parallel, "models")):
        assert {k: v for k, v in a.items() if k != "train_seconds"} == {k: v for k, v in b.items() if k != "train_seconds"}
    _nothing_reruns(monkeypatch, drsae, "train_drsae")
    again = drsae.run("quick", tmp_path / "parallel", verbose=False, jobs=2, threads_per_job=1)
    assert again["models"] == parallel["models"]
    # no time left: nothing is trained, nothing recorded, and the status says what is left to resume
    monkeypatch.setitem(drsae.SETTINGS, "quick", dict(TINY_DRSAE, budget_hours=-1.0))
    spent = drsae.run("quick", tmp_path / "spent", verbose=False)
    assert spent["models"] == [] and "h12-T3" in spent["status"] and "h8-T2" in spent["status"]


def _environ(name):
    import os

    return os.environ.get(name)


def test_local_cluster_workers_keep_glibc_adaptive_malloc_and_one_blas_thread():
    pytest.importorskip("distributed", reason="the [cluster] extra runs the Dask test")
    from distributed import Client

    with local_cluster(1) as c, Client(c.scheduler_address) as client:
        assert client.submit(_environ, "MALLOC_TRIM_THRESHOLD_").result() is None  # Dask's default sets it
        assert client.submit(_environ, "OPENBLAS_NUM_THREADS").result() == "1"
