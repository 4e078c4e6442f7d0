"""Multi-layer perceptron for classification, with its backward pass (backpropagation) written out by hand.

For layer sizes (n_0, n_1, ..., n_L) the network computes (Rumelhart, Hinton & Williams 1986)

    h_0 = x,    a_l = h_{l−1} W_l + b_l,    h_l = f_l(a_l)   (l = 1..L−1),    p = softmax(h_{L−1} W_L + b_L)

and is trained on the mean cross-entropy −(1/n) Σ_n log p_{n, y_n} plus ½λ Σ_l ‖W_l‖².  W_l is (n_{l−1}, n_l),
so a batch goes through as ``x @ W`` — the same orientation as an RBM's or autoencoder's W, which is what
lets greedy pretraining copy those weights straight into ``W1``, ``W2``, ...
"""
import numpy as np

from . import kernels
from . import penalties as penalty_terms
from .base import Model, check_float_dtype, terms_from
from .layers import affine_backward, affine_forward, get_activation, init_weights, softmax, softmax_cross_entropy
from .validation import as_generator, check_array, check_labels, check_number, check_positive_int

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")


class MLP(Model):
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
        λ: adds ½λ Σ_l ‖W_l‖² to the loss (not the biases; ``penalties.WeightDecay``).
    dtype : float32 (fast) or float64 (exact checks).
    penalties : further penalty terms; activity terms act on every hidden layer h_1 … h_{L−1} (study 3's
        diversifying terms).
    dropout_input, dropout_hidden : float in [0, 1)
        Dropout (Srivastava et al., JMLR 2014) during training: each input unit is dropped with probability
        ``dropout_input`` (0.2 in the paper), each hidden unit with ``dropout_hidden`` (0.5). The kept units are
        scaled by 1/(1 − p) ("inverted" dropout), so prediction uses the weights unchanged. The masks are drawn
        from ``rng`` in ``loss_and_grads``; the backward pass multiplies by the same masks. Off by default.
    max_norm : float or None
        Srivastava et al.'s §5.1 bound c on each unit's incoming weight vector, ‖W_l[:, j]‖ ≤ c, applied by
        ``project_max_norm`` (the trainer calls it after each step: ``after_step=[MLP.project_max_norm]``).

    Which path runs: ``_loss_and_grads_numpy`` (the reference) or, for batches of at most
    ``kernels.MLP_KERNEL_MAX_BATCH`` rows, ``kernels/dense.py``'s ``mlp_loss_and_grads`` (the same forward and
    backward pass, one pass over each W); ``kernels.set_backend("numpy")`` forces the reference.

    Attributes
    ----------
    params : dict "W1", "b1", "W2", "b2", ...  with W_l (n_{l−1}, n_l) and b_l (n_l,).
    """

    config_names = ("layer_sizes", "activation", "init", "weight_decay", "dropout_input", "dropout_hidden",
                    "max_norm")

    def __init__(self, layer_sizes, rng=None, activation="sigmoid", init="uniform", weight_decay=0.0,
                 dtype=np.float32, penalties=(), dropout_input=0.0, dropout_hidden=0.0, max_norm=None):
        sizes = list(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else []
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes must list at least the input and output sizes, got {layer_sizes!r}")
        self.layer_sizes = [check_positive_int(n, "layer_sizes") for n in sizes]
        if self.layer_sizes[-1] < 2:
            raise ValueError(f"layer_sizes must end with the number of classes (≥ 2), got {self.layer_sizes[-1]}")
        if isinstance(activation, (list, tuple)):
            activation = list(activation)
        n_hidden_layers = len(self.layer_sizes) - 2
        names = [activation] * n_hidden_layers if isinstance(activation, str) else list(activation)
        if len(names) != n_hidden_layers:
            raise ValueError(f"activation must be one name or {n_hidden_layers} names (one per hidden layer), "
                             f"got {len(names)}")
        self._activations = [get_activation(name, "activation", HIDDEN_ACTIVATIONS) for name in names]
        self.activation = activation if isinstance(activation, str) else names
        self.weight_decay = penalty_terms.check_weight(weight_decay, "weight_decay")
        self.extra_penalties = terms_from(penalties)
        self.penalties = penalty_terms.build(weight_decay, extra=self.extra_penalties)
        self._activity_penalties = [t for t in self.penalties if not penalty_terms.is_weight_term(t)]
        if any(isinstance(t, penalty_terms.KLSparsity) for t in self.penalties) and set(names) != {"sigmoid"}:
            # KL(ρ‖ρ̂) reads each unit's mean activation as a rate in (0, 1): log of a ReLU's 0 or a tanh's −0.3 is NaN
            raise ValueError(f"penalties: a KL sparsity term needs sigmoid hidden units (rates in (0, 1)), got "
                             f"activation={self.activation!r}; use penalties.L1Activity")
        self.dropout_input = check_number(dropout_input, "dropout_input", 0.0, 1.0, high_open=True)
        self.dropout_hidden = check_number(dropout_hidden, "dropout_hidden", 0.0, 1.0, high_open=True)
        self.max_norm = None if max_norm is None else check_number(max_norm, "max_norm", 0.0, low_open=True)
        self.init = init
        self.rng = as_generator(rng)
        self.dtype = check_float_dtype(dtype)
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

    def check_x(self, x, name="x"):
        return check_array(x, name, n_cols=self.layer_sizes[0], dtype=self.dtype)

    # ------------------------------------------------------------------ forward
    def _dropout_mask(self, shape, p):
        """m = [u ≥ p] / (1 − p): keep a unit with probability 1 − p and scale it so E[m] = 1 (inverted dropout)."""
        mask = self.rng.random(shape, dtype=self.dtype)
        np.greater_equal(mask, p, out=mask)  # the 0/1 written over the uniforms: one buffer, no bool copy
        mask *= self.dtype.type(1.0) / self.dtype.type(1.0 - p)  # the same float as dividing 1 by (1 − p)
        return mask

    def project_max_norm(self, model=None):
        """Rescale each unit's incoming weights W_l[:, j] to norm ≤ ``max_norm`` (in place; nothing if None).

        (``model`` is ignored: the signature lets ``after_step=[mlp.project_max_norm]`` be called with the model.)
        """
        if self.max_norm is not None:
            for l in range(1, self.n_layers + 1):
                W = self.params[f"W{l}"]
                norms = np.sqrt(np.einsum("ij,ij->j", W, W))
                over = norms > self.max_norm
                if over.any():  # a write pass over W only when some unit is outside the ball
                    W *= np.where(over, self.max_norm / np.where(over, norms, 1.0), 1.0).astype(W.dtype)

    def _forward(self, x, train=False):
        """Return the output logits and every layer's caches (for the backward pass).

        ``train``: apply dropout (a cache then holds the layer's mask, else None).
        """
        caches = []
        h = x
        if train and self.dropout_input:
            h = h * self._dropout_mask(h.shape, self.dropout_input)
        for l, (act_forward, _) in enumerate(self._activations, start=1):
            a, affine_cache = affine_forward(h, self.params[f"W{l}"], self.params[f"b{l}"])
            h, act_cache = act_forward(a)
            mask = self._dropout_mask(h.shape, self.dropout_hidden) if train and self.dropout_hidden else None
            if mask is not None:
                h = h * mask
            caches.append((affine_cache, act_cache, mask))
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
        """Mean softmax cross-entropy (+ ½λ Σ‖W_l‖² and any penalty terms) of labels y and its gradients,
        by backpropagation:

            δ_L = ∂L/∂logits = (p − onehot(y)) / n
            ∂L/∂W_l = h_{l−1}ᵀ δ_l + λ W_l,    ∂L/∂b_l = Σ_n δ_l,
            δ_{l−1} = ((δ_l W_lᵀ + ∂R/∂h_{l−1}) ⊙ m_{l−1}) ⊙ f'_{l−1}(a_{l−1})
                      (R: activity penalties on h_{l−1}; m: its dropout mask, 1 without dropout)

        x : (n, n_inputs), y : (n,) ints in 0..n_classes−1.  Returns ``(loss, grads)`` keyed like ``params``.
        """
        x = self.check_x(x)
        y = check_labels(y, "y", self.n_classes, n_samples=len(x))
        # (the kernels have no hook for activity penalties or dropout: such a model takes the reference path)
        dropout = self.dropout_input or self.dropout_hidden
        if not (self._activity_penalties or dropout) and kernels.use_kernel(len(x), kernels.MLP_KERNEL_MAX_BATCH):
            from .kernels.dense import mlp_loss_and_grads  # the one dispatch line: the same pass, compiled
            L = self.n_layers
            loss, dW, db = mlp_loss_and_grads(x, y, [self.params[f"W{l}"] for l in range(1, L + 1)],
                                              [self.params[f"b{l}"] for l in range(1, L + 1)],
                                              self._activation_names())
            grads = {}
            for l in range(1, L + 1):
                grads[f"W{l}"], grads[f"b{l}"] = dW[l - 1], db[l - 1]
        else:
            loss, grads = self._loss_and_grads_numpy(x, y)
        loss = penalty_terms.add_weight_terms(self.penalties, self.params, loss, grads)
        return float(loss), {name: grads[name] for name in self.params}

    def _loss_and_grads_numpy(self, x, y):
        """The reference path: the layers' forward/backward pairs, BLAS for the products."""
        logits, caches, out_cache = self._forward(x, train=True)
        loss, delta = softmax_cross_entropy(logits, y)
        grads = {}
        L = self.n_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(delta, out_cache, need_dx=L > 1)
        for l in range(L - 1, 0, -1):
            affine_cache, act_cache, mask = caches[l - 1]
            if self._activity_penalties:
                h_l = caches[l][0][0] if l < L - 1 else out_cache[0]  # h_l is the next affine map's input
                value, d_penalty = penalty_terms.activity_terms(self._activity_penalties, h_l, y, self.rng)
                loss += value
                dh = dh + d_penalty
            if mask is not None:  # h_l = f(a_l) ⊙ m: the same mask passes the gradient back
                dh *= mask  # (dh is this pass's own array: affine_backward's dx or the sum above)
            delta = self._activations[l - 1][1](dh, act_cache)
            dh, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(delta, affine_cache, need_dx=l > 1)
        return loss, grads

    def _activation_names(self):
        n_hidden_layers = len(self.layer_sizes) - 2
        return [self.activation] * n_hidden_layers if isinstance(self.activation, str) else list(self.activation)
