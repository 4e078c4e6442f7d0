"""Numba kernels of dense layers — the MLP's forward/backward pass at small batch, and the SGD update.

=====================  ====================================================  ===========================
kernel                 computes                                              NumPy reference
=====================  ====================================================  ===========================
``sgd_update``         u ← μu − ηg, θ ← θ + u, in one pass                    ``optim.SGD.step``
``dense_forward``      h = f(h_in W + b), one MLP layer                        ``layers.affine_forward`` + f
``dense_backward``     δ, h_inᵀδ, Σδ and δWᵀ in one pass over W               ``layers.affine_backward`` + f'
=====================  ====================================================  ===========================

The adapters ``sgd_step`` and ``mlp_loss_and_grads`` are what ``SGD`` and ``MLP`` call: they check every
array (shape, dtype, contiguity) once per call, then run the loops.
"""
import math

import numpy as np
from numba import njit

from ..layers import softmax_cross_entropy
from .backend import JIT_OPTIONS, require
from .units import sigmoid

#: unit codes of ``dense_forward`` / ``dense_backward``; the output layer of an MLP is "linear" (logits)
DENSE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


@njit(**JIT_OPTIONS)
def sgd_update(param, velocity, grad, lr, momentum):
    """Momentum SGD in place, in one pass over the (flattened, C-contiguous) arrays:

        velocity ← momentum · velocity − lr · grad,   param ← param + velocity.

    NumPy reference: ``optim.SGD.step``, which makes three passes over memory where this makes one — the
    update of a 784×500 matrix is bandwidth-bound, so this is ~3× faster.
    """
    for i in range(param.size):
        u = momentum * velocity[i] - lr * grad[i]
        velocity[i] = u
        param[i] += u


@njit(**JIT_OPTIONS)
def dense_forward(h_in, W, b, act, h_out):
    """h_out = f(h_in W + b), one layer of an MLP, with f = DENSE_ACTIVATIONS[act].

    h_in (n, n_in), W (n_in, n_out), b (n_out,), h_out (n, n_out). Zero inputs (pixels, ReLU units) are skipped.
    NumPy reference: ``layers.affine_forward`` followed by the activation's forward (``mlp.MLP._forward``).
    """
    n, n_in = h_in.shape
    n_out = W.shape[1]
    for r in range(n):
        for j in range(n_out):
            h_out[r, j] = b[j]
    for i in range(n_in):
        for r in range(n):
            x = h_in[r, i]
            if x != 0.0:
                for j in range(n_out):
                    h_out[r, j] += x * W[i, j]
    for r in range(n):
        for j in range(n_out):
            a = h_out[r, j]
            if act == 0:
                h_out[r, j] = sigmoid(a)
            elif act == 1:
                h_out[r, j] = math.tanh(a)
            elif act == 2:
                h_out[r, j] = max(a, 0.0)


@njit(**JIT_OPTIONS)
def dense_backward(dh_out, h_out, act, h_in, W, need_dx, dh_in, gW, gb):
    """Backpropagation through h_out = f(h_in W + b), in one pass over the rows of W:

        δ = dh_out ⊙ f'(·)  (written over dh_out),   gW = h_inᵀ δ,   gb = Σ_r δ_r,   dh_in = δ Wᵀ (if need_dx).

    f' is computed from the output: σ' = h(1 − h), tanh' = 1 − h², relu' = [h > 0], linear' = 1.
    Row i of W is read, and row i of gW written, once for the whole batch; zero inputs are skipped.
    NumPy reference: the activation's backward and ``layers.affine_backward`` (``mlp.MLP._loss_and_grads_numpy``).
    """
    n, n_out = dh_out.shape
    n_in = W.shape[0]
    for r in range(n):
        for j in range(n_out):
            h = h_out[r, j]
            if act == 0:
                dh_out[r, j] *= h * (1.0 - h)
            elif act == 1:
                dh_out[r, j] *= 1.0 - h * h
            elif act == 2 and h <= 0.0:
                dh_out[r, j] = 0.0
    for j in range(n_out):
        gb[j] = 0.0
    for r in range(n):
        for j in range(n_out):
            gb[j] += dh_out[r, j]
    for i in range(n_in):
        for j in range(n_out):
            gW[i, j] = 0.0
        for r in range(n):
            x = h_in[r, i]
            if x != 0.0:
                for j in range(n_out):
                    gW[i, j] += x * dh_out[r, j]
        if need_dx:
            for r in range(n):
                s = W[i, 0] * dh_out[r, 0]  # (not 0.0: a float64 literal would make the sum float64)
                for j in range(1, n_out):
                    s += W[i, j] * dh_out[r, j]
                dh_in[r, i] = s


# ---------------------------------------------------------------------------------------------- adapters
def sgd_step(param, velocity, grad, lr, momentum):
    """Check the three arrays (one dtype, one shape, C-contiguous), then ``sgd_update`` them in place."""
    dtype = param.dtype
    require(param, "param", dtype, writeable=True)
    require(velocity, "velocity", dtype, shape=param.shape, writeable=True)
    require(grad, "grad", dtype, shape=param.shape)
    t = dtype.type
    sgd_update(param.reshape(-1), velocity.reshape(-1), grad.reshape(-1), t(lr), t(momentum))


def mlp_loss_and_grads(x, y, weights, biases, activations):
    """The kernel path of ``MLP.loss_and_grads`` (without its penalties): one ``dense_forward`` and one
    ``dense_backward`` per layer, softmax cross-entropy on the logits.

    weights, biases : lists of W_l (n_{l−1}, n_l) and b_l; activations : the hidden layers' unit names.
    Returns ``(loss, dW list, db list)``.
    """
    dtype = weights[0].dtype
    units = [DENSE_ACTIVATIONS.index(name) for name in activations] + [DENSE_ACTIVATIONS.index("linear")]
    h = [require(np.ascontiguousarray(x), "x", dtype, ndim=2)]
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        require(W, f"W{l}", dtype, ndim=2)
        require(b, f"b{l}", dtype, shape=(W.shape[1],))
        if W.shape[0] != h[-1].shape[1]:
            raise ValueError(f"W{l} must have {h[-1].shape[1]} rows, got {W.shape[0]}")
        h.append(np.empty((len(x), W.shape[1]), dtype))
        dense_forward(h[l - 1], W, b, units[l - 1], h[l])
    loss, dh = softmax_cross_entropy(h[-1], y)
    L = len(weights)
    dW, db = [None] * L, [None] * L
    for l in range(L, 0, -1):
        W = weights[l - 1]
        dh_in = np.empty_like(h[l - 1]) if l > 1 else np.empty((0, 0), dtype)
        dW[l - 1], db[l - 1] = np.empty_like(W), np.empty_like(biases[l - 1])
        dense_backward(dh, h[l], units[l - 1], h[l - 1], W, l > 1, dh_in, dW[l - 1], db[l - 1])
        dh = dh_in
    return loss, dW, db
