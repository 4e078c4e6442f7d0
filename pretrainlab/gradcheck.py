"""Gradient checking: compare a hand-written gradient with central finite differences, in float64.

    ∂L/∂θ_k ≈ (L(θ + ε e_k) − L(θ − ε e_k)) / 2ε          (error O(ε²) against O(ε) for a one-sided difference)

    rel_error(a, n) = max_k |a_k − n_k| / max_k (|a_k| + |n_k|)     (scale-free; 0 when both are 0)

In float64 with ε = 1e-5 a correct gradient agrees to ~1e-8 or better; a wrong one (a missing term, a
wrong sign, a transposed product) typically gives 1e-2 to 1. The pitfalls, and how this module avoids them:

* float32 models: the checker deep-copies the model and converts the copy to float64 (``model.astype``),
  because float32 rounding (~1e-7 relative) divided by 2ε swamps the comparison.
* random models (denoising noise): the copy's ``rng`` is rewound to the same state before *every* evaluation,
  so L(θ + εe_k) and L(θ − εe_k) see the same corruption as the analytic gradient.
* kinks (ReLU at 0, |h| at 0): a difference straddling a kink is meaningless; use inputs and biases that keep
  pre-activations away from 0 (``run_gradcheck_table`` draws random biases for that reason).
* batch-coupled terms (the KL sparsity penalty depends on the batch mean of h): nothing special is needed
  as long as the *whole batch* goes through one loss evaluation, which is what happens here.
"""
import copy

import numpy as np

from .validation import as_generator, check_number, check_positive_int

TOLERANCE = 1e-6


def rel_error(analytic, numeric, tiny=1e-300):
    """max_k |a_k − n_k| / max_k (|a_k| + |n_k|): the largest error relative to the array's largest entry.

    Dividing each entry by its own size (cs231n's per-entry form) fails for entries that happen to be near 0:
    there the finite difference's rounding error (~1e-16 · |L| / ε ≈ 1e-11 in float64) is all that is left,
    so a correct 4e-7 entry shows a "relative error" of 1e-5. Scaling by the largest entry avoids that, and a
    real bug (a missing term, a wrong sign, a transpose) still shows at 1e-3 or more.
    """
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    scale = max(float(np.max(np.abs(analytic) + np.abs(numeric), initial=0.0)), tiny)
    return float(np.max(np.abs(analytic - numeric), initial=0.0)) / scale


def numerical_gradient(f, x, eps=1e-5, indices=None):
    """Central differences of a scalar function ``f()`` with respect to the array ``x``, perturbed in place.

    f : callable with no arguments, reading ``x`` (e.g. a closure over a model whose parameter x is).
    indices : flat indices to perturb (default: every entry).  Returns the derivatives at those indices
    (an array of x's shape when ``indices`` is None).  x is restored exactly afterwards.
    """
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("x must be a contiguous array (it is perturbed in place)")
    chosen = np.arange(x.size) if indices is None else np.asarray(indices)
    grad = np.empty(len(chosen))
    for k, i in enumerate(chosen):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape) if indices is None else grad


def numerical_gradient_array(f, x, dout, eps=1e-5):
    """Numerical gradient of Σ f(x) ⊙ dout with respect to x: what ``*_backward(dout, cache)`` must return.

    f : callable x ↦ array (e.g. ``lambda x: sigmoid_forward(x)[0]``).  x is perturbed in place and restored.
    """
    return numerical_gradient(lambda: float(np.vdot(f(x), dout)), x, eps)


def check_gradients(model, x, y=None, eps=1e-5, max_entries=200, rng=0):
    """Maximum relative error between ``model.loss_and_grads`` and central differences, per parameter.

    Parameters
    ----------
    model : object with ``params``, ``loss_and_grads(x, y)`` and ``astype(dtype)``; it is not modified
        (a float64 copy is checked), and its ``rng`` is not advanced.
    x, y : a small batch (the whole batch enters every loss evaluation).
    eps : finite-difference step.
    max_entries : parameters with more entries are checked on a random sample of this many.
    rng : generator or seed choosing that sample.

    Returns
    -------
    dict name → max relative error over the checked entries (pass: ≤ ``TOLERANCE`` = 1e-6).
    """
    if not all(hasattr(model, a) for a in ("astype", "params", "loss_and_grads")):
        raise TypeError(f"model must have params, loss_and_grads(x, y) and astype(dtype) (a pretrainlab model), "
                        f"got {type(model).__name__}")
    eps = check_number(eps, "eps", low=0.0, high=0.1, low_open=True)
    max_entries = check_positive_int(max_entries, "max_entries")
    model = copy.deepcopy(model).astype(np.float64)
    x = np.asarray(x, dtype=np.float64)
    model_rng = getattr(model, "rng", None)
    state = model_rng.bit_generator.state if isinstance(model_rng, np.random.Generator) else None

    def evaluate():
        if state is not None:
            model_rng.bit_generator.state = state  # the same noise in every evaluation
        return model.loss_and_grads(x, y)

    _, grads = evaluate()
    chooser = as_generator(rng)
    errors = {}
    for name, p in model.params.items():
        indices = None if p.size <= max_entries else chooser.choice(p.size, max_entries, replace=False)
        numeric = numerical_gradient(lambda: evaluate()[0], p, eps, indices)
        analytic = grads[name] if indices is None else grads[name].reshape(-1)[indices]
        errors[name] = rel_error(analytic, numeric)
    return errors


def assert_gradients(model, x, y=None, tolerance=TOLERANCE, **kwargs):
    """``check_gradients`` with its verdict: the per-parameter errors if every one is ≤ ``tolerance`` (1e-6, the
    lab's standard for a float64 check), else an AssertionError naming each parameter over it and its error.
    ``kwargs``: ``eps``, ``max_entries``, ``rng`` of ``check_gradients``."""
    tolerance = check_number(tolerance, "tolerance", low=0.0, low_open=True)
    errors = check_gradients(model, x, y, **kwargs)
    failed = {name: err for name, err in errors.items() if not err <= tolerance}
    if failed:
        raise AssertionError(f"gradient check failed (tolerance {tolerance:g}, relative error, float64): "
                             + ", ".join(f"{name} {err:.2e}" for name, err in failed.items()))
    return errors


# ---------------------------------------------------------------------------------------------- the table
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
    from .autoencoder import Autoencoder, TiedAutoencoder
    from .mlp import MLP

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
    from .drsae import DrSAE
    from .drsae_steps import normalize_rows

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
