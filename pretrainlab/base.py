"""What every model shares: ``params`` (a dict name → array, updated in place), named views on it, a float
dtype that ``astype`` changes, and ``config()`` — the constructor arguments a checkpoint rebuilds it from.
"""
import numpy as np

from . import penalties as penalty_terms

#: the float dtypes a model may compute in (float32: fast; float64: exact checks)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype, name="dtype"):
    """``dtype`` as a NumPy float32/float64 dtype, or a TypeError naming ``name`` (integer or float16 weights
    would silently round every update away)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from err
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt.name}")
    return dt


def param_view(name, doc=None):
    """A read-only attribute for ``params[name]`` (``rbm.W`` is ``rbm.params["W"]``, the same array)."""
    return property(lambda self: self.params[name], doc=doc or f"``params[{name!r}]``")


class Model:
    """Base of the lab's models: ``params``, ``dtype``, ``astype`` and ``config``.

    A subclass lists in ``config_names`` the attributes that, with ``dtype``, are its constructor arguments;
    it keeps its penalty terms (``penalties.py``) in ``self.penalties`` and lists the extra ones — those not
    built from its own arguments — in ``self.extra_penalties`` so that ``config()`` records them.
    """

    config_names = ()
    extra_penalties = ()

    def array_groups(self):
        """The dicts of arrays ``astype`` converts: ``params`` (subclasses add e.g. frozen biases)."""
        return (self.params,)

    def astype(self, dtype):
        """Convert every array to ``dtype`` in place (e.g. float64 for gradient checks); returns self."""
        self.dtype = check_float_dtype(dtype)
        for arrays in self.array_groups():
            for name, value in arrays.items():
                arrays[name] = value.astype(self.dtype)
        return self

    def config(self):
        """Constructor arguments that rebuild this model (used by checkpoints); JSON-serialisable."""
        cfg = {name: getattr(self, name) for name in self.config_names}
        cfg["dtype"] = self.dtype.name
        if self.extra_penalties:
            cfg["penalties"] = [term.config() for term in self.extra_penalties]
        return cfg


def terms_from(penalties):
    """Penalty terms given to a constructor: term objects, or their configs (as a checkpoint stores them)."""
    terms = [penalty_terms.from_config(t) if isinstance(t, dict) else t for t in (penalties or ())]
    return penalty_terms.check_terms(terms)
