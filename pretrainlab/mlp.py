"""Multi-layer perceptron for classification, with its backward pass (backpropagation) written out by hand.

For layer sizes (n_0, n_1, ..., n_L) the network computes (Rumelhart, Hinton & Williams 1986)

    h_0 = x,    a_l = h_{l−1} W_l + b_l,    h_l = f_l(a_l)   (l = 1..L−1),    p = softmax(h_{L−1} W_L + b_L)

and is trained on the mean cross-entropy −(1/n) Σ_n log p_{n, y_n} plus ½λ Σ_l ‖W_l‖².  W_l is (n_{l−1}, n_l),
so a batch goes through as ``x @ W`` — the same orientation as an RBM's or autoencoder's W, which is what
lets greedy pretraining copy those weights straight into ``W1``, ``W2``, ...
"""
import numpy as np

from . import kernels
from .layers import (affine_backward, affine_forward, get_activation, init_weights, l2_penalty, softmax,
                     softmax_cross_entropy)
from .validation import as_generator, check_array, check_labels, check_positive_int

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")


class MLP:
    """Feed-forward classifier: hidden layers of sigmoid/tanh/ReLU units and a softmax output.

    Parameters
    ----------
    layer_sizes : sequence of int
        (n_inputs, n_hidden_1, ..., n_classes), at least two entries; e.g. (784, 500, 10).
    rng : numpy.random.Generator or int seed
        Used for the initial weights.
    activation : str or sequence of str
        The hidden units: one name for every hidden layer, or one name per hidden layer.
    init : "uniform" | "glorot" | "he"
        Weight initialisation by name (``layers.init_weights``): "uniform" is the Theano tutorials'
        U(±√(6/(n_in + n_out))), ×4 for sigmoid layers. Biases start at 0.
    weight_decay : float
        λ: adds ½λ Σ_l ‖W_l‖² to the loss (not the biases). It is part of this model's loss and gradient, so
        train with ``SGD(weight_decay=0)``.
    dtype : float32 (fast) or float64 (exact checks).

    Attributes
    ----------
    params : dict "W1", "b1", "W2", "b2", ...  with W_l (n_{l−1}, n_l) and b_l (n_l,).
    """

    def __init__(self, layer_sizes, rng=None, activation="sigmoid", init="uniform", weight_decay=0.0,
                 dtype=np.float32):
        sizes = list(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else []
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes must list at least the input and output sizes, got {layer_sizes!r}")
        self.layer_sizes = [check_positive_int(n, "layer_sizes") for n in sizes]
        if self.layer_sizes[-1] < 2:
            raise ValueError(f"layer_sizes must end with the number of classes (≥ 2), got {self.layer_sizes[-1]}")
        n_hidden_layers = len(self.layer_sizes) - 2
        names = [activation] * n_hidden_layers if isinstance(activation, str) else list(activation)
        if len(names) != n_hidden_layers:
            raise ValueError(f"activation must be one name or {n_hidden_layers} names (one per hidden layer), "
                             f"got {len(names)}")
        self._activations = [get_activation(name, "activation", HIDDEN_ACTIVATIONS) for name in names]
        self.activation = activation if isinstance(activation, str) else names
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be ≥ 0, got {weight_decay}")
        self.weight_decay = float(weight_decay)
        self.init = init
        self.rng = as_generator(rng)
        self.dtype = np.dtype(dtype)
        self.params = {}
        for l, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:]), start=1):
            unit = names[l - 1] if l <= n_hidden_layers else "softmax"
            self.params[f"W{l}"] = init_weights(n_in, n_out, init, self.rng, unit, self.dtype)
            self.params[f"b{l}"] = np.zeros(n_out, self.dtype)

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + the output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def n_classes(self):
        return self.layer_sizes[-1]

    def config(self):
        """Constructor arguments that rebuild this model (used by checkpoints)."""
        return {"layer_sizes": self.layer_sizes, "activation": self.activation, "init": self.init,
                "weight_decay": self.weight_decay, "dtype": self.dtype.name}

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` in place (e.g. float64 for gradient checks); returns self."""
        self.dtype = np.dtype(dtype)
        for name, value in self.params.items():
            self.params[name] = value.astype(self.dtype)
        return self

    def check_x(self, x, name="x"):
        return check_array(x, name, n_cols=self.layer_sizes[0], dtype=self.dtype)

    # ------------------------------------------------------------------ forward
    def _forward(self, x):
        """Return the output logits and every layer's caches (for the backward pass)."""
        caches = []
        h = x
        for l, (act_forward, _) in enumerate(self._activations, start=1):
            a, affine_cache = affine_forward(h, self.params[f"W{l}"], self.params[f"b{l}"])
            h, act_cache = act_forward(a)
            caches.append((affine_cache, act_cache))
        L = self.n_layers
        logits, affine_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        return logits, caches, affine_cache

    def hidden_activations(self, x):
        """List of the hidden layers' outputs h_1, ..., h_{L−1} for input x (e.g. to measure sparseness)."""
        x = self.check_x(x)
        out = []
        h = x
        for l, (act_forward, _) in enumerate(self._activations, start=1):
            h = act_forward(affine_forward(h, self.params[f"W{l}"], self.params[f"b{l}"])[0])[0]
            out.append(h)
        return out

    def predict_proba(self, x):
        """p(y = k | x) = softmax(logits)_k.  x (n, n_inputs) → (n, n_classes)."""
        return softmax(self._forward(self.check_x(x))[0])

    def predict(self, x):
        """The most probable class for each row of x.  Returns (n,) int64."""
        return np.argmax(self._forward(self.check_x(x))[0], axis=1)

    def score(self, x, y):
        """Classification accuracy, the fraction of rows of x whose predicted class equals y."""
        x = self.check_x(x)
        y = check_labels(y, "y", self.n_classes, n_samples=len(x))
        return float(np.mean(self.predict(x) == y))

    # ------------------------------------------------------------------ forward and backward
    def loss_and_grads(self, x, y=None):
        """Mean softmax cross-entropy (+ ½λ Σ‖W_l‖²) of labels y and its gradients, by backpropagation:

            δ_L = ∂L/∂logits = (p − onehot(y)) / n
            ∂L/∂W_l = h_{l−1}ᵀ δ_l + λ W_l,    ∂L/∂b_l = Σ_n δ_l,    δ_{l−1} = (δ_l W_lᵀ) ⊙ f'_{l−1}(a_{l−1})

        x : (n, n_inputs), y : (n,) ints in 0..n_classes−1.  Returns ``(loss, grads)`` keyed like ``params``.
        Batches of at most ``kernels.MLP_KERNEL_MAX_BATCH`` rows run the same computation in Numba kernels
        (``kernels.set_backend("numpy")`` forces the NumPy path).
        """
        x = self.check_x(x)
        y = check_labels(y, "y", self.n_classes, n_samples=len(x))
        if kernels.use_kernel(len(x), kernels.MLP_KERNEL_MAX_BATCH):
            loss, grads = self._loss_and_grads_kernel(x, y)
        else:
            loss, grads = self._loss_and_grads_numpy(x, y)
        if self.weight_decay:
            for l in range(1, self.n_layers + 1):
                value, d = l2_penalty(self.params[f"W{l}"])
                loss += self.weight_decay * value
                grads[f"W{l}"] += self.weight_decay * d
        return float(loss), {name: grads[name] for name in self.params}

    def _loss_and_grads_numpy(self, x, y):
        """The reference path: the layers' forward/backward pairs, BLAS for the products."""
        logits, caches, out_cache = self._forward(x)
        loss, delta = softmax_cross_entropy(logits, y)
        grads = {}
        L = self.n_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(delta, out_cache, need_dx=L > 1)
        for l in range(L - 1, 0, -1):
            affine_cache, act_cache = caches[l - 1]
            delta = self._activations[l - 1][1](dh, act_cache)
            dh, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(delta, affine_cache, need_dx=l > 1)
        return loss, grads

    def _loss_and_grads_kernel(self, x, y):
        """The same forward and backward pass, one ``kernels.dense_forward``/``dense_backward`` call per layer."""
        L, P = self.n_layers, self.params
        units = [kernels.DENSE_ACTIVATIONS.index(name) for name in self._activation_names()]
        units.append(kernels.DENSE_ACTIVATIONS.index("linear"))  # the logits
        h = [np.ascontiguousarray(x)]
        for l in range(1, L + 1):
            W = P[f"W{l}"]
            h.append(np.empty((len(x), W.shape[1]), W.dtype))
            kernels.dense_forward(h[l - 1], W, P[f"b{l}"], units[l - 1], h[l])
        loss, dh = softmax_cross_entropy(h[L], y)
        grads = {}
        for l in range(L, 0, -1):
            W = P[f"W{l}"]
            dh_in = np.empty_like(h[l - 1]) if l > 1 else np.empty((0, 0), W.dtype)
            grads[f"W{l}"], grads[f"b{l}"] = np.empty_like(W), np.empty_like(P[f"b{l}"])
            kernels.dense_backward(dh, h[l], units[l - 1], h[l - 1], W, l > 1, dh_in, grads[f"W{l}"],
                                   grads[f"b{l}"])
            dh = dh_in
        return loss, grads

    def _activation_names(self):
        n_hidden_layers = len(self.layer_sizes) - 2
        return [self.activation] * n_hidden_layers if isinstance(self.activation, str) else list(self.activation)
