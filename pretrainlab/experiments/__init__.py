"""The studies the lab reproduces, one module each, run by ``pretrainlab experiment NAME``.

Each module has ``run(mode, out, seed=0, verbose=True) -> dict`` (mode "quick", "default" or "full") that
writes ``results.json`` and its figures into ``out`` and returns the results. Modules are imported only when
their experiment runs, so the registry below names them as "module:function" strings.
"""
import importlib
from pathlib import Path

EXPERIMENTS = {
    "demo": "pretrainlab.experiments.demo:run",
    "autoencoder-filters": "pretrainlab.experiments.autoencoder_filters:run",
    "mlp-baseline": "pretrainlab.experiments.mlp_baseline:run",
    "pretraining": "pretrainlab.experiments.pretraining:run",
    "rbm-likelihood": "pretrainlab.experiments.rbm_likelihood:run",
}


def get_experiment(name):
    """Return the ``run`` function registered under ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"name: unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}")
    module_name, _, func = EXPERIMENTS[name].partition(":")
    return getattr(importlib.import_module(module_name), func)


def prepare(mode, settings, out):
    """Check ``mode`` against an experiment's ``settings`` table; create ``out``. Returns ``(cfg, out)``."""
    if mode not in settings:
        raise ValueError(f"mode must be one of {sorted(settings)}, got {mode!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return settings[mode], out
