"""Study 2 at the authors' protocols: the pretrained DBN fine-tuned as Hinton & Salakhutdinov and as Srivastava did.

Two fine-tunings of the same 784-500-500-2000 DBN (``experiment.py``, arms ``dbn-hs`` and
``dbn-dropout-srivastava``), each through the one ``Trainer`` (checkpoints, resume, ``TimeBudget``):

* **Hinton & Salakhutdinov (Science 2006), ``backpropclassify.m``**: nonlinear conjugate gradients over all the
  MLP's parameters — 3 line searches (``max_iter=3``) on each batch of 1 000 images (10 of ``makebatches.m``'s
  100-image batches joined), 200 epochs (``maxepoch=200``), the softmax layer ``w_class`` alone for the first 5
  epochs (``if epoch<6``, ``CG_CLASSIFY_INIT``), no early stopping, no weight decay; the objective is
  ``CG_CLASSIFY``'s *summed* cross-entropy over the batch, −Σ_n log p_{n, y_n}. ``ConjugateGradient`` below.
* **Srivastava et al. (JMLR 2014), Srivastava's deepnet example ``examples/dbn/mnist_classifier.pbtxt``**:
  SGD at ε = 0.01 (``base_epsilon: 0.01``, ``epsilon_decay: NONE``), momentum from 0.5 to 0.9 along
  ``parameter.py``'s ``momentum = final − (final − initial)·exp(−step / momentum_change_steps)`` with
  ``momentum_change_steps: 3000`` (an exponential approach with a 3 000-update time constant, not a linear
  ramp: 0.75 at update 3 000, 0.89 at 12 000), dropout 0.2 on the input (``dropout_prob: 0.2``) and 0.5 on the
  hidden units, L2 cost 1e-3 on the weights (``l2_decay: 0.001``; not the biases), no max-norm
  (``apply_weight_norm: false``), batches of 100, 1 M updates (``train_classifier.pbtxt``: ``steps: 1000000``).
  ``RampedMomentumSGD`` and ``srivastava_mlp`` below.

Units of the L2 cost: deepnet adds λW to the batch-*mean* gradient (``edge.py``/``neuralnet.py``: the gradient is
``add_dot(..., mult=1.0/numcases)``, then ``parameter.py``'s ``Update`` adds ``l2_decay · w``), so λ = 1e-3 is
per example: ½λ‖W‖² added to the *mean* cross-entropy, which is what ``penalties.WeightDecay`` on the MLP does.

Inverted dropout and the paper's weight scaling. deepnet drops units at training time (h ⊙ m, m ~ Bernoulli(q),
q = 1 − p the retention) and multiplies by q at test time; the paper (§10, "Dropout" with pretraining) scales
the pretrained weights up by 1/q before fine-tuning so that the training-time input to each layer keeps the
pretrained expectation. The lab's MLP uses *inverted* dropout: kept units are divided by q at training time and
prediction uses the weights unchanged. With W_i = q·W_s the two nets compute the same pre-activations for the
same masks, in training and at test, so starting the inverted net at the pretrained W (``to_mlp``) *is* the
paper's scaled start W_s = W/q. The gradients differ by the same factor, ∂L/∂W_i = (∂L/∂W_s)/q, so deepnet's
update ΔW_s = −ε(g_s + λW_s) becomes ΔW_i = −ε(q² g_i + λW_i): ``srivastava_mlp`` gives each W_l a rate scale
q_{l−1}² (``SGD.lr_scale``) and a decay scale 1/q_{l−1}² (``WeightDecay(scale=)``), which makes every update
(momentum included, being linear) the deepnet update of W_s = W_i / q exactly. (deepnet's example itself loads
the pretrained weights unscaled — no ``mult_factor`` — while the paper says to scale them; we follow the paper.)

Not reproduced: deepnet's example also sets a KL sparsity cost (``sparsity_cost: 0.001``, targets 0.1/0.1/0.05,
running means damped 0.9) during fine-tuning, which neither the paper nor ``docs/study2.md`` mentions; and its hidden
layers are 1024-1024-2048, where Table 2's DBN is 784-500-500-2000 (the lab uses the latter).
"""
import math

import numpy as np

from ...mlp import MLP
from ...optim import SGD
from ...penalties import WeightDecay
from ...pretrain import to_mlp
from ...train import Trainer
from ...base import check_float_dtype
from ...validation import check_array, check_labels, check_number, check_positive_int


#: The constants of Rasmussen's ``minimize.m`` (2006), which ``backpropclassify.m`` calls with ``max_iter=3``:
#: a step t along s is accepted when f(x + ts) ≤ f(x) + ρ t f′(0) (sufficient decrease) and |f′(t)| ≤ −σ f′(0)
#: (the slope has flattened: the strong Wolfe–Powell conditions); extrapolation grows t at most ``EXTRAPOLATE``×,
#: interpolation stays ``INSIDE`` of the bracket away from its ends; a line search may evaluate f at most
#: ``MAX_EVALUATIONS`` times; the next search's first trial grows by the slopes' ratio, at most ``RATIO``×.
RHO, SIGMA = 0.05, 0.1
INSIDE, EXTRAPOLATE = 0.1, 3.0
MAX_EVALUATIONS, RATIO = 20, 10.0


def _cubic_extrapolation(t1, f1, d1, t2, f2, d2):
    """The minimiser of the cubic through (t1, f1, slope d1) and (t2, f2, d2), t2 > t1, beyond t2 — or NaN."""
    h = t2 - t1
    A = 6 * (f1 - f2) + 3 * (d2 + d1) * h
    B = 3 * (f2 - f1) - (2 * d1 + d2) * h
    with np.errstate(all="ignore"):
        return t1 - d1 * h * h / (B + np.sqrt(B * B - A * d1 * h))


def _interpolation(t2, f2, d2, t4, f4, d4, f0):
    """A trial inside the bracket [t2, t4]: the quadratic through (t2, f2, d2) and (t4, f4) when f4 is above
    f(0) (the cubic would trust a poor end), else the cubic through both ends' values and slopes — or NaN."""
    h = t4 - t2
    with np.errstate(all="ignore"):
        if f4 > f0:
            return t2 - 0.5 * d2 * h * h / (f4 - f2 - d2 * h)
        A = 6 * (f2 - f4) / h + 3 * (d4 + d2)
        B = 3 * (f4 - f2) - (2 * d2 + d4) * h
        return t2 + (np.sqrt(B * B - A * d2 * h * h) - B) / A


def line_search(f, x, f0, g0, s, t, budget=MAX_EVALUATIONS):
    """Search along the descent direction s from x for a step t meeting the strong Wolfe–Powell conditions.

    Extrapolate (cubic fits, at most 3× per trial) while the slope along s is still steep and f still falls
    enough; then interpolate inside the bracket [last good point, first point too far] until both conditions
    hold or ``budget`` evaluations are spent.  f(θ) → (value, gradient); a NaN or infinite value at a trial
    halves the step and tries again.  Returns ``(accepted, t, f_t, g_t, evaluations, lowest)`` where ``lowest``
    = (θ, f, g) is the lowest point seen (kept when the search fails).
    """
    d0 = float(g0 @ s)
    lowest = (x, f0, g0)
    evaluations = 0
    t2, f2, d2 = 0.0, f0, d0  # the last point of the extrapolation (point "2"); t is point "3"
    while True:
        while True:  # evaluate at t, halving towards t2 while the value is not finite
            evaluations += 1
            f3, g3 = f(x + t * s)
            if np.isfinite(f3) and np.all(np.isfinite(g3)) or evaluations >= budget:
                break
            t = (t2 + t) / 2
        if f3 < lowest[1]:
            lowest = (x + t * s, f3, g3)
        d3 = float(g3 @ s)
        if d3 > SIGMA * d0 or f3 > f0 + t * RHO * d0 or evaluations >= budget:
            break  # the step went far enough: a bracket, or no evaluations left
        t1, f1, d1, t2, f2, d2 = t2, f2, d2, t, f3, d3
        t = _cubic_extrapolation(t1, f1, d1, t2, f2, d2)
        if not np.isfinite(t) or t < 0 or t > EXTRAPOLATE * t2:
            t = EXTRAPOLATE * t2  # a numerical problem, the wrong side, or too far: extrapolate the most
        elif t < t2 + INSIDE * (t2 - t1):
            t = t2 + INSIDE * (t2 - t1)  # too close to the previous point
    t4 = f4 = d4 = None
    while (abs(d3) > -SIGMA * d0 or f3 > f0 + t * RHO * d0) and evaluations < budget:
        if d3 > 0 or f3 > f0 + t * RHO * d0:
            t4, f4, d4 = t, f3, d3  # t is too far: the bracket's upper end
        else:
            t2, f2, d2 = t, f3, d3  # t is good but the slope still steep: the lower end
        t = _interpolation(t2, f2, d2, t4, f4, d4, f0)
        if not np.isfinite(t):
            t = (t2 + t4) / 2
        t = max(min(t, t4 - INSIDE * (t4 - t2)), t2 + INSIDE * (t4 - t2))
        evaluations += 1
        f3, g3 = f(x + t * s)
        if f3 < lowest[1]:
            lowest = (x + t * s, f3, g3)
        d3 = float(g3 @ s)
    accepted = abs(d3) < -SIGMA * d0 and f3 < f0 + t * RHO * d0
    return accepted, t, f3, g3, evaluations, lowest


def _steepest_descent(g):
    """The direction s = −∇f and its slope ∇fᵀs = −‖∇f‖²: where every minimisation starts and restarts."""
    return -g, -float(g @ g)


def minimize_cg(f, x, line_searches):
    """Polak–Ribière conjugate gradients from x with at most ``line_searches`` line searches (``line_search``).

    The first trial step is 1/(1 + ‖∇f‖²); after an accepted step the direction is
    s ← (gᵀg − g₀ᵀg)/(g₀ᵀg₀) · s − g (reset to −g if that is not downhill) and the next first trial is the last
    step times the ratio of the old and new slopes (at most ``RATIO``).  A failed search falls back to the
    lowest point seen and tries steepest descent; two failures in a row end the minimisation.  Returns
    ``(x, f(x), evaluations, searches, accepted)``.
    """
    f0, g0 = f(x)
    evaluations, searches, accepted, failed_before = 1, 0, 0, False
    s, d0 = _steepest_descent(g0)
    t = 1.0 / (1.0 - d0)
    while searches < line_searches:
        searches += 1
        ok, t, f3, g3, n, lowest = line_search(f, x, f0, g0, s, t)
        evaluations += n
        if ok:
            x, accepted, failed_before = x + t * s, accepted + 1, False
            s = (float(g3 @ g3) - float(g0 @ g3)) / float(g0 @ g0) * s - g3
            f0, g0 = f3, g3
            slope_before, d0 = d0, float(g0 @ s)
            if d0 > 0:  # not downhill: steepest descent
                s, d0 = _steepest_descent(g0)
            t *= min(RATIO, slope_before / (d0 - np.finfo(float).tiny))
        else:
            x, f0, g0 = lowest
            if failed_before or searches >= line_searches:
                break
            s, d0 = _steepest_descent(g0)
            t = 1.0 / (1.0 - d0)
            failed_before = True
    return x, f0, evaluations, searches, accepted


class ConjugateGradient:
    """Nonlinear conjugate gradients on each batch, a bounded number of line searches per batch.

    What ``backpropclassify.m`` does with Rasmussen's ``minimize.m``: for each batch, start at the current
    parameters θ (all MLP weights and biases as one vector), take ``line_searches`` Polak–Ribière conjugate-
    gradient iterations on that batch's objective f(θ) (each one line search meeting the strong Wolfe–Powell
    conditions), keep the result and go on to the next batch — the conjugate direction restarts at the
    steepest descent −∇f on every batch.

    The line search is the lab's own (``line_search``, ``minimize_cg``) with minimize.m's constants and rules:
    ρ = 0.05 and σ = 0.1, cubic extrapolation up to 3×, interpolation kept 10 % inside the bracket, **at most 20
    evaluations per search**, the first trial 1/(1 + ‖∇f‖²), a failed search falling back to the lowest point
    and then to steepest descent, two failures ending the batch.  (A first version used scipy's CG, whose
    MINPACK search has no such cap: once the training loss was ≈ 1e-7 per image its searches lost precision
    and spent up to 76 evaluations on a batch, against ≤ 61 for minimize.m — ``docs/study2.md``.)

    The Trainer calls ``step(closure)`` once per batch (``takes_closure``); ``closure()`` evaluates the batch's
    mean loss and gradients at the parameters as they are, and this optimiser writes each trial θ into the
    parameters before calling it. The objective is ``objective_scale`` × the mean loss: ``CG_CLASSIFY`` sums
    the cross-entropy over the batch, so the fine-tuning passes the batch size.

    Parameters
    ----------
    params : dict name → array, updated in place.
    line_searches : int, line searches per batch (``max_iter=3`` in backpropclassify.m).
    first_only : names of the parameters trained alone during the first ``first_epochs`` epochs (the softmax
        layer's ``W{L}``, ``b{L}``: ``if epoch<6 … CG_CLASSIFY_INIT``); the others are held fixed.
    first_epochs : int ≥ 0.
    objective_scale : float > 0.

    Attributes
    ----------
    last_result : dict of the last batch: ``searches``, ``accepted`` (searches that met the conditions),
        ``evaluations`` (of f, the start included).
    lr : NaN — there is no learning rate; the line searches choose each step (the Trainer's history records it).
    """

    takes_closure = True

    def __init__(self, params, line_searches=3, first_only=(), first_epochs=0, objective_scale=1.0):
        if not isinstance(params, dict) or not params:
            raise TypeError("params must be a non-empty dict name → array (a model's params)")
        self.line_searches = check_positive_int(line_searches, "line_searches")
        first_only = tuple(first_only)
        unknown = sorted(set(first_only) - set(params))
        if unknown:
            raise ValueError(f"first_only names unknown parameters {unknown}")
        self.first_epochs = check_positive_int(first_epochs, "first_epochs") if first_epochs else 0
        self.objective_scale = check_number(objective_scale, "objective_scale", low=0.0, low_open=True)
        self.params, self.first_only = params, first_only
        self.lr, self.momentum = math.nan, 0.0
        self.last_result = None
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """The parameters this epoch trains: ``first_only`` during the first ``first_epochs`` epochs, else all."""
        self.active = self.first_only if self.first_only and epoch < self.first_epochs else tuple(self.params)

    def _write(self, theta):
        """Copy the flat vector θ into the active parameters (in their own dtype)."""
        at = 0
        for name in self.active:
            p = self.params[name]
            p[...] = theta[at:at + p.size].reshape(p.shape)
            at += p.size

    def flat_objective(self, closure):
        """θ ↦ (f(θ), ∇f(θ)) over the active parameters, as flat float64 vectors, and the start θ₀."""
        scale = self.objective_scale

        def f(theta):
            self._write(theta)
            loss, grads = closure()
            return scale * loss, scale * np.concatenate([grads[k].ravel() for k in self.active]).astype(np.float64)

        return f, np.concatenate([self.params[k].ravel() for k in self.active]).astype(np.float64)

    def step(self, closure):
        """Run up to ``line_searches`` CG iterations on this batch; return the loss and gradients at the start."""
        first = []

        def recording():  # the first evaluation, at the start θ₀, is what the Trainer reports and checks
            out = closure()
            if not first:
                first.append(out)
            return out

        f, theta0 = self.flat_objective(recording)
        theta, _, evaluations, searches, accepted = minimize_cg(f, theta0, self.line_searches)
        self._write(theta)  # the point kept (the last evaluation may have been a rejected trial)
        self.last_result = {"searches": searches, "accepted": accepted, "evaluations": evaluations}
        return first[0]

    # no state between batches: every batch restarts the conjugate direction
    def state(self):
        return {}

    def load_state(self, arrays):
        pass

    def check_state(self, arrays):
        pass


def hs_mlp(stack, n_classes, rng):
    """The pretrained stack as backpropclassify.m starts it: the RBMs' W and hidden biases (``to_mlp``) and a
    softmax layer ``w_class = 0.1*randn(size(w3,2)+1,10)`` — weights *and* biases ~ 0.1·N(0, 1) (the bias is
    w_class's last row) — drawn from ``rng``; no weight decay."""
    mlp = to_mlp(stack, n_classes, rng=rng)
    L = mlp.n_layers
    for name in (f"W{L}", f"b{L}"):
        p = mlp.params[name]
        p[...] = 0.1 * mlp.rng.standard_normal(p.shape)
    return mlp


def fine_tune_hs(mlp, x, y, epochs=200, batch_size=1000, line_searches=3, top_epochs=5, rng=None, monitors=None,
                 verbose=False, callbacks=(), checkpoint=None, dtype=np.float64):
    """Hinton & Salakhutdinov's fine-tuning (``backpropclassify.m``) of ``mlp`` on (x, y) through the Trainer.

    In double precision by default, as the Matlab code runs: ``mlp`` is converted to ``dtype`` in place first.
    Near the end the training loss is ≈ 1e-7 per image, and in float32 the batch objective's rounding then
    swamps the changes along a line, so the line searches fail and spend their evaluations.

    epochs=200 (``maxepoch=200``), batch_size=1000 (10 × 100-image batches), line_searches=3 (``max_iter=3``),
    the top layer alone for ``top_epochs=5`` epochs (``epoch<6``), no early stopping, no weight decay (give an
    MLP without one). The batches are reshuffled every epoch (``makebatches.m`` fixes them once: a departure
    that only changes which images share a batch). ``monitors`` (e.g. the test error, which backpropclassify.m
    prints every epoch) are recorded, never used to stop. ``checkpoint``: resume as in ``pretrain.fine_tune``.
    Returns the History.
    """
    dtype = check_float_dtype(dtype)
    x = check_array(x, "x", n_cols=mlp.layer_sizes[0], dtype=dtype)
    y = check_labels(y, "y", mlp.n_classes, n_samples=len(x))
    mlp.astype(dtype)  # (after every check: a refused call leaves the MLP as it was)
    L = mlp.n_layers
    optimizer = ConjugateGradient(mlp.params, line_searches, first_only=(f"W{L}", f"b{L}"), first_epochs=top_epochs,
                                  objective_scale=batch_size)
    trainer = Trainer(mlp, optimizer, batch_size=batch_size, rng=rng, monitors=monitors, verbose=verbose,
                      callbacks=callbacks, checkpoint=checkpoint)
    return trainer.fit(x, y, epochs=epochs, resume=checkpoint is not None)


# ------------------------------------------------------------------------------------------------ Srivastava
class RampedMomentumSGD(SGD):
    """Momentum SGD whose momentum rises *per update*, along one of the two published ramps.

    ``ramp="exp"`` — deepnet's ``parameter.py`` (``GetMomentumAndEpsilon``):

        momentum_t = final − (final − initial) · exp(−t / steps),   t = updates made before this one,

    with a constant rate (``epsilon_decay: NONE``). deepnet's update is w_delta ← momentum·w_delta + g;
    w ← w − ε·w_delta, which for a constant ε is ``SGD``'s velocity form with velocity = −ε·w_delta.

    ``ramp="linear"`` with ``damped=True`` — Hinton et al. (arXiv:1207.0580, 2012, appendix A), the paper whose
    dropout fine-tuning of the 784-500-500-2000 DBN gave the 0.92 % that Srivastava et al. (2014) tabulate:
    the momentum rises linearly from initial to final over ``steps`` updates and stays there, and the gradient
    enters damped by 1 − momentum,

        Δw_t = p_t Δw_{t−1} − (1 − p_t) ε ⟨∂L/∂w⟩,

    i.e. ``SGD``'s velocity form at rate (1 − p_t)·ε: in a steady state the step is ε⟨∂L/∂w⟩ whatever p_t.

    The update count is ``SGD.updates`` (in the checkpoint), so a resumed run goes on along the same ramp.
    """

    RAMPS = ("exp", "linear")

    def __init__(self, params, lr=0.01, initial_momentum=0.5, final_momentum=0.9, momentum_steps=3000,
                 lr_scale=None, ramp="exp", damped=False):
        self.initial_momentum = check_number(initial_momentum, "initial_momentum", 0.0, 1.0, high_open=True)
        self.final_momentum = check_number(final_momentum, "final_momentum", 0.0, 1.0, high_open=True)
        self.momentum_steps = check_positive_int(momentum_steps, "momentum_steps")
        if ramp not in self.RAMPS:
            raise ValueError(f"ramp must be one of {self.RAMPS}, got {ramp!r}")
        if not isinstance(damped, bool):
            raise TypeError(f"damped must be True or False, got {type(damped).__name__}")
        self.ramp, self.damped = ramp, damped
        super().__init__(params, lr=lr, momentum=initial_momentum, lr_scale=lr_scale)  # its set_epoch(0) follows the ramp

    def momentum_at(self, t):
        """The momentum of update t (0-based)."""
        lo, hi = self.initial_momentum, self.final_momentum
        if self.ramp == "linear":
            return lo + (hi - lo) * min(t / self.momentum_steps, 1.0)
        return hi - (hi - lo) * math.exp(-t / self.momentum_steps)

    def _follow_ramp(self):
        self.momentum = self.momentum_at(self.updates)
        if self.damped:
            self.lr = self.base_lr * (1.0 - self.momentum)

    def set_epoch(self, epoch):
        super().set_epoch(epoch)
        self.base_lr = self.lr
        self._follow_ramp()

    def step(self, grads, n_rows=None):
        self._follow_ramp()
        super().step(grads, n_rows)


#: Srivastava's DBN fine-tuning (deepnet examples/dbn/mnist_classifier.pbtxt, train_classifier.pbtxt)
SRIVASTAVA = dict(lr=0.01, initial_momentum=0.5, final_momentum=0.9, momentum_steps=3000, dropout_input=0.2,
                  dropout_hidden=0.5, weight_decay=1e-3, batch_size=100, updates=1_000_000)

#: Hinton et al. (arXiv:1207.0580, 2012, appendix A: "dropout finetuning" of the 784-500-500-2000 DBN, the source
#: of the 0.92 %): ε = 1.0 constant in Δw = pΔw − (1 − p)ε⟨∂L/∂w⟩, p from 0.5 to 0.99 linearly over the first 500
#: epochs (of 600 updates: 60 000 images, batches of 100) then 0.99, dropout 0.2 / 0.5, no weight decay, no
#: max-norm bound, 1 000 epochs. Corroborated by MGL's reproduction (melisgl/mgl, examples/mnist.lisp,
#: ``train-mnist/1`` with ``:dropoutp t``: learning-rate 1 scaled by 1 − momentum, momentum 0.5 → 0.99 linear over
#: min(500, epochs/2) epochs, 1 000 epochs, ``:l2-upper-bound nil``, no weight penalty — it adds a 0.998 rate
#: decay and 10 softmax-only epochs first, which the paper does not describe).
HINTON_2012 = dict(lr=1.0, initial_momentum=0.5, final_momentum=0.99, momentum_steps=500 * 600, ramp="linear",
                   damped=True, dropout_input=0.2, dropout_hidden=0.5, weight_decay=0.0, batch_size=100,
                   updates=1000 * 600)

#: The published dropout fine-tunings by name (the experiment's ``PUBLISHED[mode]["dropout_protocol"]``).
DROPOUT_PROTOCOLS = {"deepnet": SRIVASTAVA, "hinton2012": HINTON_2012}


def split_protocol(protocol):
    """One of ``DROPOUT_PROTOCOLS`` as ``(start_net, fine_tune)``: the keywords of ``srivastava_mlp`` (dropout rates,
    L2 cost) and those of ``fine_tune_srivastava`` (everything else: rate, momentum ramp, batch size, updates)."""
    fine_tune = dict(protocol)
    start_net = {k: fine_tune.pop(k) for k in ("dropout_input", "dropout_hidden", "weight_decay")}
    return start_net, fine_tune


def retentions(mlp):
    """q_{l−1} = 1 − p of the units feeding W_l: the input's for W1, the hidden layers' above."""
    return [1.0 - mlp.dropout_input] + [1.0 - mlp.dropout_hidden] * (mlp.n_layers - 1)


def srivastava_mlp(stack, n_classes, rng, dropout_input=0.2, dropout_hidden=0.5, weight_decay=1e-3):
    """The pretrained stack as an inverted-dropout MLP whose decay makes deepnet's update exact (module docstring):
    ``WeightDecay(λ, scale={W_l: 1/q_{l−1}²})``. Pair it with ``dropout_lr_scale(mlp)`` as SGD's ``lr_scale``.

    The softmax layer starts as deepnet's example starts it (``mnist_classifier.pbtxt``: the output edge's weight
    ``DENSE_GAUSSIAN_SQRT_FAN_IN``, σ = 1; the output bias ``CONSTANT``, 0): ``parameter.py`` l. 50–57 draws
    W_s ~ N(0, σ² / dimensions[1]), and for a dense edge ``edge.py`` l. 164 sets dimensions = [node1, node2], so
    the "fan-in" it divides by is the *output* size, n_classes (std 1/√10 ≈ 0.32 for MNIST), not the 2 000 inputs.
    In the inverted-dropout units the lab trains, W_L = q_{L−1} · W_s (module docstring). Drawn from ``rng``.
    """
    n_layers = len(stack) + 1
    q = [1.0 - dropout_input] + [1.0 - dropout_hidden] * (n_layers - 1)
    decay = WeightDecay(weight_decay, scale={f"W{l}": 1.0 / q[l - 1] ** 2 for l in range(1, n_layers + 1)})
    mlp = to_mlp(stack, n_classes, rng=rng, dropout_input=dropout_input, dropout_hidden=dropout_hidden,
                 penalties=[decay])
    W, b = mlp.params[f"W{n_layers}"], mlp.params[f"b{n_layers}"]
    W[...] = q[-1] * mlp.rng.standard_normal(W.shape) / math.sqrt(n_classes)
    b[...] = 0.0
    return mlp


def dropout_lr_scale(mlp):
    """{W_l: q_{l−1}²}: the rate of each weight matrix that turns inverted dropout's step into deepnet's."""
    return {f"W{l}": q ** 2 for l, q in enumerate(retentions(mlp), start=1)}


def fine_tune_srivastava(mlp, x, y, updates=1_000_000, lr=0.01, initial_momentum=0.5, final_momentum=0.9,
                         momentum_steps=3000, batch_size=100, rng=None, monitors=None, monitor_every=1,
                         verbose=False, callbacks=(), checkpoint=None, ramp="exp", damped=False):
    """Srivastava's dropout fine-tuning of a pretrained ``mlp`` (from ``srivastava_mlp``) for ``updates`` updates.

    The Trainer counts epochs: training runs ceil(updates / batches per epoch) epochs, so the updates made are
    that many epochs' worth (≥ ``updates``; ``History`` and ``SGD.updates`` say how many). No early stopping:
    ``monitors`` (validation or test error) are evaluated every ``monitor_every`` epochs (NaN in between) and
    only recorded. ``checkpoint``: resume as in ``pretrain.fine_tune``. Returns ``(history, optimizer)``.
    """
    if not isinstance(mlp, MLP):
        raise TypeError(f"mlp must be an MLP, got {type(mlp).__name__}")
    x = mlp.check_x(x)
    y = check_labels(y, "y", mlp.n_classes, n_samples=len(x))
    updates = check_positive_int(updates, "updates")
    monitor_every = check_positive_int(monitor_every, "monitor_every")
    per_epoch = math.ceil(len(x) / check_positive_int(batch_size, "batch_size"))
    optimizer = RampedMomentumSGD(mlp.params, lr, initial_momentum, final_momentum, momentum_steps,
                                  lr_scale=dropout_lr_scale(mlp), ramp=ramp, damped=damped)

    epochs = math.ceil(updates / per_epoch)

    def sparse(fn):  # every monitor_every-th epoch and the last (the optimiser's update count says which)
        def monitor(m):
            done = optimizer.updates // per_epoch
            return fn(m) if done % monitor_every == 0 or done == epochs else math.nan
        return monitor

    trainer = Trainer(mlp, optimizer, batch_size=batch_size, rng=rng, verbose=verbose, callbacks=callbacks,
                      monitors={k: sparse(fn) for k, fn in (monitors or {}).items()}, checkpoint=checkpoint)
    history = trainer.fit(x, y, epochs=epochs, resume=checkpoint is not None)
    return history, optimizer
