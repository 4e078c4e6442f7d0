"""The registry of ``pretrainlab experiment NAME``, and the run-folder scaffolding the experiments share.

Each experiment is a module of its study's folder (``studies/<study>/experiment.py``; the demo, the MLP baseline,
the autoencoder filters and the RBM likelihood in ``studies/classics/``) and has ``run(mode, out, seed=0, verbose=True) -> dict`` (mode "quick", "default" or "full") that
writes ``results.json`` and its figures into ``out`` and returns the results. Modules are imported only when
their experiment runs, so the registry below names them as "module:function" strings (a fixed table in this
file, never a name read from elsewhere).

Experiments only orchestrate: they choose settings and call library functions. The scaffolding they share —
settings per mode, the output folder, the record of the run's configuration, timing and ``results.json`` —
is ``prepare`` and ``Run`` below; experiments that sweep independent units (arm × seed × labels) hand them to
``run_and_save``, which runs them through ``sweep.run_units`` and saves after each.
"""
import importlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import read_json, remove_stale_temporaries
from .sweep import run_units

EXPERIMENTS = {
    "ae-dynamics": "pretrainlab.studies.ae_dynamics.experiment:run",
    "demo": "pretrainlab.studies.classics.demo:run",
    "drsae": "pretrainlab.studies.drsae.experiment:run",
    "autoencoder-filters": "pretrainlab.studies.classics.autoencoder_filters:run",
    "mlp-baseline": "pretrainlab.studies.classics.mlp_baseline:run",
    "pretraining": "pretrainlab.studies.pretraining.experiment:run",
    "rbm-likelihood": "pretrainlab.studies.classics.rbm_likelihood:run",
    "sparseness": "pretrainlab.studies.sparseness.experiment:run",
    "diversify": "pretrainlab.studies.diversify.experiment:run",
}
MODES = ("quick", "default", "full")
#: every experiment writes under pretrainlab-runs/NAME unless told otherwise
RUNS_ROOT = Path("pretrainlab-runs")
#: the keys of results.json under which the sweeping experiments keep their finished units' records
RECORD_LISTS = ("runs", "models")


class RunFolderMismatch(ValueError):
    """``out`` holds a run of another configuration: it is neither resumed nor overwritten."""


def get_experiment(name):
    """Return the ``run`` function registered under ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"name: unknown experiment {name!r}; choose one of {', '.join(sorted(EXPERIMENTS))}")
    module_name, _, func = EXPERIMENTS[name].partition(":")
    return getattr(importlib.import_module(module_name), func)


def default_out(name, mode="default", seed=0):
    """``pretrainlab-runs/NAME/MODE-seedSEED``: each configuration has a folder of its own."""
    return RUNS_ROOT / name / f"{mode}-seed{seed}"


def _plain(value):
    """``value`` as JSON would give it back (tuples → lists), so a stored configuration compares equal."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class Run:
    """One experiment run: its configuration, its folder, and its clock."""

    name: str
    mode: str
    seed: int
    cfg: dict
    out: Path
    options: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def config(self):
        return {"experiment": self.name, "mode": self.mode, "seed": self.seed, "settings": _plain(self.cfg),
                "options": _plain(self.options)}

    def stored_results(self, filename="results.json"):
        """What an earlier invocation of this run wrote (``{}`` if nothing yet): a resumed run skips its units."""
        path = self.out / filename
        if not path.is_file():
            return {}
        stored = read_json(path, "out", expect=dict)
        for key in RECORD_LISTS:  # the experiments read their finished units from these
            if key in stored and not (isinstance(stored[key], list) and all(isinstance(r, dict) for r in stored[key])):
                raise ValueError(f"out: {path} holds a malformed {key!r} (not a list of records); delete the file "
                                 "to rerun its units")
        return stored

    def say_quick(self, what, verbose=True):
        """Say plainly, in quick mode, that the numbers prove the code path and nothing about the science."""
        if verbose and self.mode == "quick":
            print(f"quick mode: {what} — it proves the code path; its numbers mean nothing about the science")

    def write_results(self, results, filename="results.json"):
        """Write ``results`` with the run's configuration, wall time and machine into ``out/filename``."""
        record = dict(self.config(), out=str(self.out.resolve()), **results)
        record.setdefault("seconds", time.perf_counter() - self.started)
        record.setdefault("machine", {"processor": platform.processor() or platform.machine(),
                                      "python": platform.python_version()})
        (self.out / filename).write_text(json.dumps(record, indent=1, default=str))
        return record


def command_line(record):
    """The command that made the run recorded in ``record`` (a run.json): ``pretrainlab demo --quick --seed 1``,
    ``pretrainlab experiment NAME --seed 0`` (the default mode has no flag)."""
    name, mode = record.get("experiment"), record.get("mode")
    command = "pretrainlab demo" if name == "demo" else f"pretrainlab experiment {name}"
    flag = f" --{mode}" if mode in ("quick", "full") else "" if mode == "default" else f" (mode {mode!r})"
    return f"{command}{flag} --seed {record.get('seed')}"


def prepare(name, mode, settings, out=None, seed=0, options=None, environment=None):
    """Check ``mode`` against an experiment's ``settings`` table, make ``out`` and record the configuration.

    ``out/run.json`` records the experiment, mode, seed, settings and any further ``options`` (keyword
    arguments of the experiment's ``run``). A folder that already holds a run is
    resumed only if that record is the same; otherwise ``RunFolderMismatch`` says what the folder holds and
    how to start fresh or resume. Returns a ``Run``.

    ``environment`` (``provenance.environment()``: library versions, BLAS, CPU, thread counts): what the numbers
    may depend on beyond the configuration. run.json lists each distinct environment an invocation ran in under
    ``"environments"``; it is a record, not part of the configuration a resumed run must match.
    """
    if mode not in settings:
        raise ValueError(f"mode must be one of {sorted(settings)}, got {mode!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
    out = Path(out) if out is not None else default_out(name, mode, seed)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} is a file, not a folder")
    run = Run(name, mode, seed, settings[mode], out, dict(options or {}))
    record = out / "run.json"
    environments = []
    if record.is_file():
        try:
            stored = read_json(record, "out", expect=dict)
        except ValueError as err:
            raise RunFolderMismatch(f"out: {out}/run.json is unreadable ({err}); delete the folder or choose "
                                    "another --out") from err
        environments = stored.pop("environments", [])
        if stored != run.config():
            raise RunFolderMismatch(
                f"out: {out} holds a run of `{command_line(stored)}`" + (
                    " with other settings" if stored.get("mode") == mode and stored.get("seed") == seed else "")
                + f"; to resume it rerun that command, to start fresh choose another --out or delete {out}")
    elif out.is_dir() and any(out.iterdir()):
        raise RunFolderMismatch(f"out: {out} is not empty and holds no run.json (not a pretrainlab run "
                                "folder); choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    if environment is not None and _plain(environment) not in environments:
        environments.append(_plain(environment))
    record.write_text(json.dumps(dict(run.config(), **({"environments": environments} if environments else {})),
                                 indent=1))
    return run


def run_and_save(fn, units, records, order, save, report=None, **sweep):
    """Run the pending ``units`` through ``sweep.run_units``; as each finishes, add its record and save.

    Parameters
    ----------
    fn : picklable ``unit → record`` (a module-level function or a ``functools.partial`` of one).
    units : the units not done yet.
    records : list of the records so far (those of a resumed run included); extended and sorted in place.
    order : sort key of a record: its place in the serial loop, so the records (and results.json) are the same
        whatever order the units finish in.
    save : ``() → None``, writes results.json from ``records``; called after every unit, so a stopped run
        loses at most the units in flight.
    report : ``(unit, record) → None``, the experiment's one-line summary of a finished unit (when verbose).
    **sweep : ``jobs``, ``scheduler``, ``threads_per_job``, ``verbose`` of ``sweep.run_units``.

    Returns
    -------
    ``records``, sorted.
    """
    def collect(unit, record):  # in this process, as each unit finishes
        records.append(record)
        records.sort(key=order)
        if report is not None and sweep.get("verbose", True):
            report(unit, record)
        save()

    run_units(fn, units, on_result=collect, **sweep)
    records.sort(key=order)
    return records
