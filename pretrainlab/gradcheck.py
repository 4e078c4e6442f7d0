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
  pre-activations away from 0 (``pretrainlab/runner/gradcheck_table.py`` draws random biases for that reason).
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
