"""``pretrainlab gradcheck``: every model of the lab × every option, checked against finite differences.

The check itself is the library's ``pretrainlab/gradcheck.py`` (``check_gradients``, central differences in
float64); this module only lists the cases — each model family with each of its options on a small random
problem — and formats the table the command prints. It lives with the command line because it reaches across
the library and the studies (DrSAE's model is study 5's).
"""
import numpy as np

from ..autoencoder import Autoencoder, TiedAutoencoder
from ..gradcheck import TOLERANCE, check_gradients
from ..mlp import MLP
from ..studies.drsae.model import DrSAE
from ..studies.drsae.steps import normalize_rows


def _autoencoder_options():
    """(label, constructor kwargs) for every autoencoder option: each unit/loss pair, then each extra on top."""
    options = [(f"{enc}/{dec}, {loss}", {"encoder": enc, "decoder": dec, "loss": loss})
               for enc in ("sigmoid", "tanh", "relu", "linear")
               for dec, loss in (("sigmoid", "cross_entropy"), ("sigmoid", "squared_error"),
                                 ("linear", "squared_error"))]
    options += [
        ("mask noise 0.3", {"noise": "mask", "noise_level": 0.3}),
        ("gaussian noise 0.2", {"noise": "gaussian", "noise_level": 0.2}),
        ("kl sparsity", {"sparsity": "kl", "sparsity_target": 0.1, "sparsity_weight": 0.5}),
        ("l1 sparsity", {"sparsity": "l1", "sparsity_weight": 0.3}),
        ("l1 sparsity, relu", {"encoder": "relu", "sparsity": "l1", "sparsity_weight": 0.3}),
        ("weight decay", {"weight_decay": 0.1}),
        ("frozen biases", {"train_biases": False}),
        ("frozen biases, relu/linear", {"encoder": "relu", "decoder": "linear", "loss": "squared_error",
                                        "train_biases": False}),
        ("all: mask + kl + decay", {"noise": "mask", "noise_level": 0.3, "sparsity": "kl",
                                    "sparsity_target": 0.1, "sparsity_weight": 0.5, "weight_decay": 0.1}),
    ]
    return options


def _mlp_options():
    return [
        ("sigmoid", {"layer_sizes": (6, 5, 3)}),
        ("tanh", {"layer_sizes": (6, 5, 3), "activation": "tanh"}),
        ("relu, he init", {"layer_sizes": (6, 5, 3), "activation": "relu", "init": "he"}),
        ("relu+tanh+sigmoid, glorot", {"layer_sizes": (6, 5, 4, 4, 3), "activation": ("relu", "tanh", "sigmoid"),
                                       "init": "glorot"}),
        ("no hidden layer", {"layer_sizes": (6, 3)}),
        ("weight decay", {"layer_sizes": (6, 5, 4, 3), "weight_decay": 0.1}),
        ("dropout 0.2 / 0.5 (fixed masks)", {"layer_sizes": (6, 5, 4, 3), "dropout_input": 0.2,
                                              "dropout_hidden": 0.5}),
    ]


def gradcheck_cases(seed=0):
    """Yield ``(model_name, option, model, x, y)``: every model × option on a small random float32 problem.

    Biases are set to random values (instead of 0) so no ReLU pre-activation sits at the kink.
    """
    rng = np.random.default_rng(seed)
    n_visible, n_hidden, n = 7, 5, 6
    for cls in (TiedAutoencoder, Autoencoder):
        for option, kwargs in _autoencoder_options():
            model = cls(n_visible, n_hidden, rng=rng.integers(2**31), init="glorot", **kwargs)
            for name in ("b_vis", "b_hid"):
                if name in model.params:
                    model.params[name][...] = rng.normal(0, 0.5, model.params[name].shape)
            yield cls.__name__, option, model, rng.uniform(0.05, 0.95, (n, n_visible)), None
    for option, kwargs in _mlp_options():
        model = MLP(rng=rng.integers(2**31), **kwargs)
        for l in range(1, model.n_layers + 1):
            model.params[f"b{l}"][...] = rng.normal(0, 0.5, model.params[f"b{l}"].shape)
        sizes = model.layer_sizes
        yield "MLP", option, model, rng.normal(0, 1, (n, sizes[0])), rng.integers(0, sizes[-1], n)
    yield from _drsae_cases(rng)


def _drsae_cases(rng, n_visible=6, n_hidden=5, n_classes=3, n=5, margin=1e-3):
    """DrSAE (Rolfe & LeCun 2013) at T = 4 and the paper's T = 11, unsupervised and discriminative phase.

    Random parameters (S near ½I so the iterates stay bounded) are redrawn until every pre-activation a^t of
    every step keeps ``margin`` from the ReLU kink and no code is all zero (z/‖z‖ then is the real map).
    """
    for n_steps in (4, 11):
        for _ in range(500):
            model = DrSAE(n_visible, n_hidden, n_classes, n_steps=n_steps, rng=rng.integers(2**31))
            P = model.params
            for name, (mean, scale) in {"E": (0, 0.6), "S": (0, 0.25), "b": (0, 0.2), "D": (0, 0.5),
                                        "C": (0, 1.0), "c": (0, 0.5)}.items():
                P[name][...] = rng.normal(mean, scale, P[name].shape)
            P["S"] += 0.5 * np.eye(n_hidden, dtype=P["S"].dtype)
            x = normalize_rows(rng.normal(0, 1, (n, n_visible))).astype(np.float32)
            zs = model.astype(np.float64).encode(x, return_all=True)
            a = np.stack([x @ model.E.T + zs[t] @ model.S.T - model.b for t in range(n_steps)])
            model.astype(np.float32)
            if np.abs(a).min() >= margin and (zs[-1] > 0).any(axis=1).all():
                break
        else:
            raise RuntimeError("no random DrSAE draw kept its pre-activations off the ReLU kink")
        yield "DrSAE", f"T={n_steps}, unsupervised", model, x, None
        yield "DrSAE", f"T={n_steps}, discriminative", model, x, rng.integers(0, n_classes, n)


def run_gradcheck_table(seed=0, tolerance=TOLERANCE):
    """Check every model × option; return rows ``{"model", "option", "parameter", "rel_error", "passed"}``."""
    rows = []
    for model_name, option, model, x, y in gradcheck_cases(seed):
        for name, err in check_gradients(model, x, y).items():
            rows.append({"model": model_name, "option": option, "parameter": name, "rel_error": err,
                         "passed": bool(err <= tolerance)})
    return rows


def format_table(rows):
    """The rows of ``run_gradcheck_table`` as a fixed-width text table."""
    header = f"{'model':<16} {'option':<28} {'parameter':<10} {'rel. error':>10}  result"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['model']:<16} {r['option']:<28} {r['parameter']:<10} {r['rel_error']:>10.2e}  "
                     f"{'pass' if r['passed'] else 'FAIL'}")
    n_failed = sum(not r["passed"] for r in rows)
    lines.append(f"{len(rows) - n_failed}/{len(rows)} passed (tolerance {TOLERANCE:g}, float64 central differences)")
    return "\n".join(lines)
