"""Files: one ``.npz`` reader for every archive the lab reads, atomic writes, and model checkpoints.

A model file holds ``param/NAME`` arrays and a ``__meta__`` JSON string naming the model's class and its
``config()``. Loading builds the model only from the explicit registry ``model_classes()`` — pretrainlab's
own classes — and never imports or calls a name read from a file (a crafted file naming ``os.system`` is
refused). Everything is checked before anything is written: a refused file leaves the model untouched.
"""
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

TMP_SUFFIX = ".npz.tmp"
#: the bounds of every JSON text the lab reads from a file (``parse_json``): a crafted file is refused, never
#: allowed to exhaust the stack (JSON nested 10⁵ deep) or the memory
JSON_MAX_CHARS = 64 * 2 ** 20
JSON_MAX_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def parse_json(text, what, max_chars=JSON_MAX_CHARS, max_depth=JSON_MAX_DEPTH):
    """The JSON value in ``text``, or a ValueError naming ``what``: the one bounded reader of JSON from files.

    Refuses a text longer than ``max_chars`` or nested deeper than ``max_depth`` *before* parsing (Python's
    parser recurses once per level: 10⁵ levels raise RecursionError, not a clear error). NaN and ±Infinity are
    accepted, as ``json.dumps`` writes them (a monitor evaluated every few epochs records NaN in between).
    """
    if not isinstance(text, str):
        raise TypeError(f"{what}: JSON text must be a str, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ValueError(f"{what}: {len(text)} characters of JSON, more than the {max_chars} a lab file may hold")
    brackets = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8", "replace"), np.uint8)
    steps = (np.isin(brackets, (91, 123)).astype(np.int64) - np.isin(brackets, (93, 125)))  # [{ open, ]} close
    depth = int(np.cumsum(steps).max()) if steps.size else 0
    if depth > max_depth:
        raise ValueError(f"{what}: JSON nested {depth} deep, deeper than the {max_depth} a lab file may hold")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"{what}: unreadable JSON ({type(err).__name__}: {err})") from err


def read_json(path, what="file", expect=None):
    """The JSON in the file at ``path`` through ``parse_json`` (its size checked before it is read); with
    ``expect`` (a type, e.g. dict) a value of another type is a ValueError naming ``path``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > 4 * JSON_MAX_CHARS:  # (≤ 4 bytes per character in UTF-8): refused before it is read
            raise ValueError(f"{what}: {path} holds {size} bytes, more than a lab JSON file may hold")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{what}: cannot read {path} ({type(err).__name__}: {err})") from err
    value = parse_json(text, f"{what} {path}")
    if expect is not None and not isinstance(value, expect):
        raise ValueError(f"{what}: {path} holds a JSON {type(value).__name__}, not the {expect.__name__} a "
                         "pretrainlab run writes there (a file from elsewhere?)")
    return value


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
    """The registry: class name → class, for every model a checkpoint may hold. Nothing else is ever built.

    Imported on call, not at the top: the models import this module to save themselves, and study 5's DrSAE
    lives in ``studies/drsae/`` (the library reaches into ``studies/`` only through this registry and
    ``penalties.terms_registry``). Classes are looked up by bare name, so a checkpoint written before the
    package moved its modules still loads.
    """
    from .autoencoder import Autoencoder, TiedAutoencoder
    from .mlp import MLP
    from .rbm import BernoulliRBM, GaussianBernoulliRBM
    from .studies.drsae.model import DrSAE

    classes = [BernoulliRBM, GaussianBernoulliRBM, TiedAutoencoder, Autoencoder, MLP, DrSAE]
    return {cls.__name__: cls for cls in classes}


def save_model(model, path, extra=None):
    """Save ``model.params`` and how to rebuild the model (its class name and ``config()``) to ``path`` (.npz).

    ``extra`` maps further names to arrays (the trainer stores optimiser and estimator state there).
    The write is atomic and refuses non-finite arrays.
    """
    if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "config", None)):
        raise TypeError(f"model must be a model with params and config() (one of pretrainlab's: "
                        f"{', '.join(sorted(model_classes()))}), got {type(model).__name__}")
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
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
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
    except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: a counter of 2²⁰⁰
        return False
    return True


def read_meta(arrays, path, key="__meta__"):
    """The JSON object stored under ``key``, or a ValueError naming ``path``."""
    if key not in arrays:
        raise ValueError(f"path: {path} is not a pretrainlab checkpoint (no {key} entry)")
    entry = arrays[key]
    if not isinstance(entry, np.ndarray) or entry.dtype.kind != "U" or entry.ndim != 0:
        raise ValueError(f"path: {path} has an unreadable {key} entry (not one JSON string)")
    try:
        meta = parse_json(str(entry), f"path: {path} {key} entry")
    except ValueError as err:
        raise ValueError(f"path: {path} has an unreadable {key} entry ({err})") from err
    if not isinstance(meta, dict):
        raise ValueError(f"path: {path} has a malformed {key} entry")
    return meta


def check_params(arrays, params, path, prefix="param/"):
    """Raise a ValueError naming ``path`` unless ``arrays`` holds a finite real float ``PREFIX NAME`` of each
    param's shape (``prefix`` "param/" for the parameters, "best/" for early stopping's best ones,
    "velocity/" for the optimiser's velocity): a complex array would lose its imaginary part, a wrong shape
    would broadcast."""
    for k, p in params.items():
        a = arrays.get(f"{prefix}{k}")
        if a is None:
            raise ValueError(f"path: {path} has no {prefix}{k}")
        if a.shape != p.shape:
            raise ValueError(f"path: {path} holds {prefix}{k} of shape {a.shape}, the model needs {p.shape}")
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise ValueError(f"path: {path} holds a non-finite or non-float {prefix}{k} (dtype {a.dtype})")


def _plain(value):
    """``value`` as JSON gives it back (tuples → lists, NumPy scalars → numbers), so stored and live compare."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def check_same_config(meta, model, path):
    """Raise a ValueError naming ``path`` unless the file's ``config`` is ``model.config()``: a resumed run must
    be the same configuration (a ReLU MLP's checkpoint never resumes a sigmoid MLP, a DrSAE with T = 2 never
    one with T = 3). A key the file lacks (written before the key existed) is not compared."""
    stored = meta.get("config")
    if not isinstance(stored, dict):
        raise ValueError(f"path: {path} has no model config")
    current = _plain(model.config())
    differ = [f"{k}: file {stored[k]!r}, model {current[k]!r}" for k in sorted(current)
              if k in stored and stored[k] != current[k]]
    if differ:
        raise ValueError(f"path: {path} holds a {type(model).__name__} of another configuration ("
                         + "; ".join(differ) + "); resume only the run that wrote it, or delete the file")


def check_history(records, path):
    """``records`` (a History's dict name → list of numbers) as stored in a checkpoint, or a ValueError naming
    ``path``: a history of strings must not reach the monitors' arithmetic."""
    if not isinstance(records, dict):
        raise ValueError(f"path: {path} has a malformed history (not a dict)")
    for name, values in records.items():
        if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ValueError(f"path: {path} has a malformed history: {name!r} is not a list of numbers")
    return records


def declared_minimum(config):
    """A lower bound on the parameter count of the model ``config`` declares, computed without building it.

    Every model of the registry holds a weight matrix between its input and its first hidden layer
    (``n_visible`` × ``n_hidden``) and, for an MLP, one between each pair of consecutive ``layer_sizes``.
    """
    def size(value):
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    sizes = config.get("layer_sizes")
    if isinstance(sizes, list):
        return sum(size(a) * size(b) for a, b in zip(sizes, sizes[1:]))
    return size(config.get("n_visible")) * size(config.get("n_hidden"))


def check_declared_size(config, arrays, path):
    """Refuse (ValueError naming ``path``) a config declaring more parameters than the file holds values.

    The cap on what a file may declare: a few hundred bytes naming a 10⁶ × 10⁶ RBM would otherwise ask for TiBs
    (MemoryError) before the parameters' shapes are compared. The file's arrays are in memory already, so the
    bound costs nothing and a genuine file always meets it.
    """
    held = sum(a.size for k, a in arrays.items() if k.startswith("param/"))
    declared = declared_minimum(config)
    if declared > held:
        raise ValueError(f"path: {path} declares a model of at least {declared} parameters but holds only {held} "
                         "parameter values (a corrupt or crafted file)")


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
    check_declared_size(config, arrays, path)
    try:
        model = registry[name](**config)
    except (TypeError, ValueError) as err:
        raise ValueError(f"path: {path} holds a config that does not build a {name} ({err})") from err
    check_params(arrays, model.params, path)
    for k, p in model.params.items():
        p[...] = arrays[f"param/{k}"]
    return model

