"""Files: one ``.npz`` reader for every archive the lab reads, atomic writes, and model checkpoints.

A model file holds ``param/NAME`` arrays and a ``__meta__`` JSON string naming the model's class and its
``config()``. Loading builds the model only from the explicit registry ``model_classes()`` — pretrainlab's
own classes — and never imports or calls a name read from a file (a crafted file naming ``os.system`` is
refused). Everything is checked before anything is written: a refused file leaves the model untouched.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

TMP_SUFFIX = ".npz.tmp"


def read_npz(path, what="file"):
    """Every array of the ``.npz`` at ``path`` as a dict (no pickles), or a ValueError naming ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no {what} at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as err:  # zipfile.BadZipFile, OSError, EOFError, pickled data: all mean "unreadable"
        raise ValueError(f"path: cannot read {path} as an .npz archive ({type(err).__name__}: {err})") from err


def remove_stale_temporaries(folder, target=None):
    """Delete ``*.npz.tmp`` files a killed process left in ``folder`` (half-written, never renamed).

    With ``target`` (a file in ``folder``) only the temporaries of writes of that file go: other processes of a
    parallel sweep may be writing their own files into the same folder at this moment.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    prefix = "" if target is None else Path(target).name + "."
    for tmp in folder.iterdir():
        name = tmp.name
        if name.startswith(prefix) and name.endswith(TMP_SUFFIX) and (
                target is None or "." not in name[len(prefix):-len(TMP_SUFFIX)]):  # not a longer name's
            tmp.unlink(missing_ok=True)


def atomic_savez(path, arrays):
    """Write an .npz next to ``path`` and rename it into place: a crash never leaves half a file at ``path``.

    Refuses (ValueError) to write a non-finite floating array: a checkpoint must always be a good one.
    """
    for name, a in arrays.items():
        if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise ValueError(f"refusing to save {path}: {name} holds NaN or infinite values")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def model_classes():
    """The registry: class name → class, for every model a checkpoint may hold. Nothing else is ever built."""
    from .autoencoder import Autoencoder, TiedAutoencoder
    from .mlp import MLP
    from .rbm import BernoulliRBM, GaussianBernoulliRBM

    classes = [BernoulliRBM, GaussianBernoulliRBM, TiedAutoencoder, Autoencoder, MLP]
    try:
        from .drsae import DrSAE
        classes.append(DrSAE)
    except ImportError:  # (the DrSAE module lands with study 5)
        pass
    return {cls.__name__: cls for cls in classes}


def save_model(model, path, extra=None):
    """Save ``model.params`` and how to rebuild the model (its class name and ``config()``) to ``path`` (.npz).

    ``extra`` maps further names to arrays (the trainer stores optimiser and estimator state there).
    The write is atomic and refuses non-finite arrays.
    """
    meta = {"class": type(model).__name__, "config": model.config()}  # load_model builds registry classes only
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    arrays["__meta__"] = np.array(json.dumps(meta))
    arrays.update(extra or {})
    atomic_savez(path, arrays)


def generator_entry(rng):
    """``{"__rng__": …}``, the extra entry (``save_model(model, path, extra)``) that records a generator's state
    in a model file: a resumed run sets its generator to it and draws exactly the numbers an uninterrupted run
    would have drawn next."""
    return {"__rng__": np.array(json.dumps(rng.bit_generator.state))}


def restore_generator(path, rng, arrays=None):
    """Set ``rng`` to the state that ``generator_entry`` stored in the model file ``path``; return True.

    Returns False and leaves ``rng`` unchanged if the file has no such entry (a file written before it existed)
    or holds a state that is not one of ``rng``'s kind of bit generator. ``arrays``: the file's contents, if the
    caller has read them already (``read_npz``), so that the file is read once.
    """
    arrays = read_npz(path, "checkpoint") if arrays is None else arrays
    if "__rng__" not in arrays:
        return False
    state = read_meta(arrays, path, "__rng__")
    if not generator_state_fits(state, rng):
        return False
    rng.bit_generator.state = state
    return True


def generator_state_fits(state, rng):
    """Whether ``state`` is one that ``rng``'s kind of bit generator accepts.

    Tried on a fresh generator of the same kind, so that checking a bad state changes nothing: a loader checks
    every state it will write before it writes any.
    """
    try:
        np.random.Generator(type(rng.bit_generator)()).bit_generator.state = state
    except (KeyError, TypeError, ValueError):
        return False
    return True


def read_meta(arrays, path, key="__meta__"):
    """The JSON object stored under ``key``, or a ValueError naming ``path``."""
    if key not in arrays:
        raise ValueError(f"path: {path} is not a pretrainlab checkpoint (no {key} entry)")
    try:
        meta = json.loads(str(arrays[key]))
    except (TypeError, ValueError) as err:
        raise ValueError(f"path: {path} has an unreadable {key} entry ({err})") from err
    if not isinstance(meta, dict):
        raise ValueError(f"path: {path} has a malformed {key} entry")
    return meta


def check_params(arrays, params, path):
    """Raise a ValueError naming ``path`` unless ``arrays`` holds a finite ``param/NAME`` of each param's shape."""
    for k, p in params.items():
        a = arrays.get(f"param/{k}")
        if a is None:
            raise ValueError(f"path: {path} has no parameter {k!r}")
        if a.shape != p.shape:
            raise ValueError(f"path: {path} holds {k} of shape {a.shape}, the model needs {p.shape}")
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise ValueError(f"path: {path} holds a non-finite or non-float {k}")


def load_model(path, arrays=None):
    """Rebuild a model saved by ``save_model``: look its class up in the registry, construct it from its
    config, check every parameter, then copy them in. ``arrays``: the file's contents, if already read."""
    arrays = read_npz(path, "checkpoint") if arrays is None else arrays
    meta = read_meta(arrays, path)
    registry = model_classes()
    # Older files name the class with its module path: only the bare name is looked up, in the registry.
    name = str(meta.get("class", "")).rpartition(".")[2]
    if name not in registry:
        raise ValueError(f"path: {path} names the model class {meta.get('class')!r}, which is not one of "
                         f"pretrainlab's models ({', '.join(sorted(registry))})")
    config = meta.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"path: {path} has no model config")
    try:
        model = registry[name](**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"path: {path} holds a config that does not build a {name} ({err})") from err
    check_params(arrays, model.params, path)
    for k, p in model.params.items():
        p[...] = arrays[f"param/{k}"]
    return model

