"""Building blocks: arrays in, arrays out, numerically safe.

Elementwise primitives (sigmoid, softplus, Bernoulli sampling), then the layers of a network as
forward/backward pairs (affine maps, activations, losses, penalties) and the weight initialisations.
These are the bottom layer of the house: models import them, they import nothing from the lab.
"""
import numpy as np


def sigmoid(x, out=None):
    """σ(x) = 1 / (1 + e^{-x}), computed as ½(1 + tanh(x/2)).

    The tanh form never overflows (1 + e^{-x} does for x < -88 in float32) and is as fast as the naive
    formula; ``out`` lets hot loops reuse a buffer.
    """
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def softplus(x):
    """softplus(x) = log(1 + e^x), computed stably as max(x, 0) + log1p(e^{−|x|}).

    Equal to ``np.logaddexp(0, x)`` to rounding, but built from exp/log1p, which NumPy vectorises:
    about 10× faster in float32, which matters in AIS (Salakhutdinov & Murray 2008), where it runs
    on every hidden unit of every chain at each of 14 500 temperatures.
    """
    x = np.asarray(x)
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def bernoulli_sample(p, rng):
    """Draw binary states with P(state = 1) = p: one uniform u per unit, state = [u < p].

    p : float array of probabilities.  Returns an array of 0.0/1.0 of p's shape and dtype.
    The uniforms are drawn in p's dtype, in C order, so a Numba kernel fed the same uniforms
    gives exactly the same states.
    """
    u = rng.random(p.shape, dtype=p.dtype)
    return np.less(u, p, out=u)  # the comparison's 0/1 written over the uniforms: no second array


# ==================================================================================================
# Forward/backward pairs (cs231n style).
#
# Each ``*_forward`` returns ``(out, cache)``; the matching ``*_backward(dout, cache)`` takes the gradient
# of the loss with respect to ``out`` and returns the gradients with respect to the forward's inputs.
# The functions never modify their arguments, so a Numba kernel can be tested against them entry by entry.
# Arrays are row-major batches: x is (n_samples, n_in).  Every loss is the mean over the batch.
# ==================================================================================================

# -------------------------------------------------------------------------------------------- affine
def affine_forward(x, W, b):
    """out = x W + b.

    x : (n, n_in), W : (n_in, n_out), b : (n_out,).  Returns out (n, n_out) and cache (x, W).
    """
    out = x @ W
    out += b
    return out, (x, W)


def affine_backward(dout, cache, need_dx=True):
    """Gradients of out = x W + b:  dx = dout Wᵀ,  dW = xᵀ dout,  db = Σ_n dout_n.

    dout : (n, n_out).  Returns ``(dx, dW, db)`` with the shapes of x, W, b.  ``need_dx=False`` skips dx
    (returned as None): the first layer of a network never needs it, and it costs a full matrix product.
    """
    x, W = cache
    dx = dout @ W.T if need_dx else None
    return dx, x.T @ dout, dout.sum(axis=0)


def affine_transpose_forward(h, W, b):
    """out = h Wᵀ + b: the affine map that runs a weight matrix backwards.

    The decoder of a tied autoencoder, x̂ = g(Wᵀh + b_vis), and an RBM's p(v | h) use W (n_visible, n_hidden)
    this way.  h : (n, n_hidden), W : (n_visible, n_hidden), b : (n_visible,).  Returns (n, n_visible), (h, W).
    """
    out = h @ W.T
    out += b
    return out, (h, W)


def affine_transpose_backward(dout, cache, need_dx=True):
    """Gradients of out = h Wᵀ + b:  dh = dout W,  dW = doutᵀ h,  db = Σ_n dout_n.

    dW comes out directly in W's shape (n_visible, n_hidden) — no transpose to add to an encoder's gradient.
    dout : (n, n_visible).  Returns ``(dh, dW, db)``.
    """
    h, W = cache
    dh = dout @ W if need_dx else None
    return dh, dout.T @ h, dout.sum(axis=0)


# -------------------------------------------------------------------------------------------- activations
def sigmoid_forward(x):
    """out = σ(x).  Returns out and cache = out (σ' = σ(1 − σ) needs only the output)."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout · σ(x)(1 − σ(x))."""
    out = cache
    dx = dout * out
    dx -= dx * out
    return dx


def tanh_forward(x):
    """out = tanh(x).  Returns out and cache = out (tanh' = 1 − tanh²)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout · (1 − tanh(x)²)."""
    out = cache
    dx = dout * out
    dx *= out
    np.subtract(dout, dx, out=dx)
    return dx


def relu_forward(x):
    """out = max(0, x)  (Nair & Hinton 2010; Glorot, Bordes & Bengio 2011).  Cache = out."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """dx = dout · [x > 0].  At x = 0 the kink's subgradient 0 is used (gradient checks avoid x = 0)."""
    out = cache
    return dout * (out > 0)


def softplus_forward(x):
    """out = softplus(x) = log(1 + eˣ).  Cache = x (softplus' = σ)."""
    return softplus(x), x


def softplus_backward(dout, cache):
    """dx = dout · σ(x)."""
    dx = sigmoid(cache)
    dx *= dout
    return dx


def linear_forward(x):
    """out = x (the identity: a linear unit).  Cache = None.  Returns x itself, not a copy: do not modify out."""
    return x, None


def linear_backward(dout, cache):
    """dx = dout."""
    return dout


#: activation name → (forward, backward); models look their units up here by name.
ACTIVATIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "softplus": (softplus_forward, softplus_backward),
    "linear": (linear_forward, linear_backward),
}


def get_activation(name, argname="activation", allowed=None):
    """Return the ``(forward, backward)`` pair of activation ``name``, or raise a ValueError naming ``argname``."""
    allowed = tuple(ACTIVATIONS) if allowed is None else tuple(allowed)
    if name not in allowed:
        raise ValueError(f"{argname} must be one of {', '.join(map(repr, allowed))}, got {name!r}")
    return ACTIVATIONS[name]


# -------------------------------------------------------------------------------------------- losses
# A loss returns ``(loss, dx)``: the batch-mean loss as a float and its gradient with respect to its input.

def softmax_cross_entropy(logits, y):
    """Mean negative log-likelihood of integer labels under a softmax:

        p_nk = exp(a_nk) / Σ_k' exp(a_nk'),    L = −(1/n) Σ_n log p_{n, y_n},    ∂L/∂a_nk = (p_nk − [k = y_n]) / n.

    logits : (n, n_classes), y : (n,) ints in 0..n_classes−1.  Returns ``(loss, dlogits)``.
    The row maximum is subtracted first so exp never overflows; log p is computed as a − logsumexp(a).
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    sum_exp = p.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.log(sum_exp[:, 0]).sum() - shifted[rows, y].sum()) / n
    p /= sum_exp
    dlogits = p
    dlogits[rows, y] -= 1
    dlogits /= n
    return loss, dlogits


def softmax(logits):
    """p_nk = exp(a_nk) / Σ_k' exp(a_nk') per row, with the row maximum subtracted first (no overflow)."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p


def squared_error(pred, target):
    """L = (1/n) Σ_n ½‖pred_n − target_n‖²,   ∂L/∂pred = (pred − target) / n.

    pred, target : (n, d).  Returns ``(loss, dpred)``.  (Summed over the d outputs, averaged over samples.)
    """
    n = pred.shape[0]
    diff = pred - target
    loss = 0.5 * float(np.vdot(diff, diff)) / n
    diff /= n
    return loss, diff


def binary_cross_entropy_with_logits(logits, target):
    """Cross-entropy of targets t ∈ [0, 1] under Bernoulli means σ(a), computed from the logits a:

        L = −(1/n) Σ_n Σ_i [t_ni log σ(a_ni) + (1 − t_ni) log(1 − σ(a_ni))]
          =  (1/n) Σ_n Σ_i [softplus(a_ni) − t_ni a_ni],        ∂L/∂a = (σ(a) − t) / n.

    The softplus form never takes log(0) (the naive form does once σ saturates), and the gradient with
    respect to the logits is the simple difference σ(a) − t (Bishop 2006, §4.3.2; the reconstruction
    cross-entropy of Vincent et al. 2008).  logits, target : (n, d).  Returns ``(loss, dlogits)``.
    """
    n = logits.shape[0]
    loss = float(softplus(logits).sum() - np.vdot(target, logits)) / n
    dlogits = sigmoid(logits)
    dlogits -= target
    dlogits /= n
    return loss, dlogits


# -------------------------------------------------------------------------------------------- penalties
# Penalties have the losses' form ``(value, gradient)``; the model multiplies both by its weight.

def l2_penalty(W):
    """R = ½‖W‖²_F (weight decay),  ∂R/∂W = W.  Returns ``(R, W)`` (the gradient is W itself: do not modify it)."""
    return 0.5 * float(np.vdot(W, W)), W


def kl_sparsity(h, rho):
    """Σ_j KL(ρ ‖ ρ̂_j) of the mean activations ρ̂_j = (1/n) Σ_n h_nj to a target rate ρ (UFLDL, "Sparse autoencoder"):

        KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂)),
        ∂/∂h_nj = (1/n) (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)).

    Every sample's gradient depends on the whole batch through ρ̂ (so the penalty is a function of the batch,
    not a sum over samples).  h : (n, n_hidden) with values in (0, 1) (sigmoid units).  Returns ``(value, dh)``.
    """
    n = h.shape[0]
    rho_hat = h.mean(axis=0)
    value = float(np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))))
    d_rho_hat = (1 - rho) / (1 - rho_hat) - rho / rho_hat
    dh = np.broadcast_to(d_rho_hat / n, h.shape).copy()
    return value, dh


def l1_activity(h):
    """R = (1/n) Σ_n ‖h_n‖₁ (an L1 penalty on activations),  ∂R/∂h = sign(h) / n.  Returns ``(R, dh)``."""
    n = h.shape[0]
    dh = np.sign(h)
    dh /= n
    return float(np.abs(h).sum()) / n, dh


# -------------------------------------------------------------------------------------------- initialisation
INIT_SCHEMES = ("uniform", "glorot", "he")


def init_weights(n_in, n_out, scheme, rng, activation="sigmoid", dtype=np.float32):
    """Draw an (n_in, n_out) weight matrix by a named scheme.

    "uniform" : W ~ U(−r, r), r = √(6 / (n_in + n_out)), times 4 for sigmoid units — the Theano Deep Learning
                Tutorials' init (Glorot & Bengio 2010's normalised init; ×4 because σ'(0) = ¼ where tanh'(0) = 1).
    "glorot"  : W ~ N(0, 2 / (n_in + n_out))  (Glorot & Bengio 2010, same variance as the ×1 uniform).
    "he"      : W ~ N(0, 2 / n_in)  (He et al. 2015, for ReLU units).
    """
    if scheme == "uniform":
        r = np.sqrt(6.0 / (n_in + n_out)) * (4.0 if activation == "sigmoid" else 1.0)
        W = rng.uniform(-r, r, size=(n_in, n_out))
    elif scheme == "glorot":
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / (n_in + n_out))
    elif scheme == "he":
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
    else:
        raise ValueError(f"init must be one of {', '.join(map(repr, INIT_SCHEMES))}, got {scheme!r}")
    return W.astype(dtype)
