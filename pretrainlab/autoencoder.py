"""Autoencoders with hand-written backward passes: tied weights (the classic) and untied (for comparison).

An autoencoder maps an input x to a code h and back to a reconstruction x̂ (Bengio et al. 2007; Vincent et al.
2008, "Extracting and composing robust features with denoising autoencoders"):

    a   = x̃ W + b_hid          h = f(a)             (encoder; x̃ is x, or a corrupted copy of it)
    â   = h W_decᵀ + b_vis     x̂ = g(â)             (decoder; W_dec = W for tied weights)
    L   = ℓ(x̂, x) + penalties                       (the *clean* x is the target, also when denoising)

with W (n_visible, n_hidden) as in an RBM, so a tied autoencoder and an RBM share one weight matrix shape and
``x W`` is the up pass, ``h Wᵀ`` the down pass.  Everything is built from the forward/backward pairs of
``layers.py``; the backward pass below is that chain of pairs run in reverse.
"""
import numpy as np

from . import penalties as penalty_terms
from .base import Model, check_float_dtype, param_view, terms_from
from .layers import (affine_backward, affine_forward, affine_transpose_backward, affine_transpose_forward,
                     binary_cross_entropy_with_logits, get_activation, init_weights, squared_error)
from .validation import as_generator, check_array, check_number, check_positive_int

LOSSES = ("cross_entropy", "squared_error")
NOISES = (None, "mask", "gaussian")
SPARSITIES = (None, "kl", "l1")


class Autoencoder(Model):
    """Autoencoder with separate encoder and decoder weights: x̂ = g(f(x̃ W + b_hid) W_decᵀ + b_vis).

    Parameters
    ----------
    n_visible, n_hidden : int
    rng : numpy.random.Generator or int seed
        Used for the initial weights and for the denoising noise (every call of ``corrupt``).
    encoder : "sigmoid" | "tanh" | "relu" | "linear"
        The hidden units f.
    decoder : "sigmoid" | "linear"
        The output units g.
    loss : "cross_entropy" | "squared_error"
        ℓ(x̂, x) summed over the visible units, averaged over the batch. Cross-entropy
        −Σ_i [x_i log x̂_i + (1 − x_i) log(1 − x̂_i)] needs x in [0, 1] and the sigmoid decoder; it is computed
        from the decoder's logits â (stable). Squared error is ½‖x̂ − x‖².
    noise : None | "mask" | "gaussian"
        Denoising (Vincent et al. 2008): "mask" sets each input to 0 with probability ``noise_level``
        ("masking noise"); "gaussian" adds N(0, noise_level²) to each input. The noise is drawn from ``rng``.
    noise_level : float
        Masking probability in [0, 1), or the Gaussian noise's standard deviation.
    sparsity : None | "kl" | "l1"
        "kl": β Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch-mean activation of hidden unit j (UFLDL; sigmoid encoder only).
        "l1": β (1/n) Σ_n ‖h_n‖₁.
    sparsity_target : float
        ρ for the KL penalty.
    sparsity_weight : float
        β (used only when ``sparsity`` is set).
    weight_decay : float
        λ: adds ½λ‖W‖² (and ½λ‖W_dec‖²) to the loss (``penalties.WeightDecay``).
    penalties : list of further penalty terms (``penalties.py``), e.g. study 3's diversifying terms on h.
    train_biases : bool
        False freezes b_vis and b_hid at 0: they are then left out of ``params`` (and of the gradients), so
        an optimiser and the gradient checker see only the trainable arrays. The biases remain readable as
        ``model.b_vis``, ``model.b_hid``.
    init : "uniform" | "glorot" | "he"
        Weight initialisation (``layers.init_weights``; "uniform" is the Theano dA tutorial's).
    dtype : float32 (fast) or float64 (exact checks).

    Attributes
    ----------
    params : dict with ``W`` (n_visible, n_hidden), ``W_dec`` (n_visible, n_hidden; untied only — the decoder
        computes h W_decᵀ, so both matrices have an RBM's orientation), and ``b_vis``, ``b_hid`` when trained.
    rng : the generator of the weights and the noise.
    """

    tied = False
    config_names = ("n_visible", "n_hidden", "encoder", "decoder", "loss", "noise", "noise_level", "sparsity",
                    "sparsity_target", "sparsity_weight", "weight_decay", "train_biases", "init")

    def __init__(self, n_visible, n_hidden, rng=None, encoder="sigmoid", decoder="sigmoid", loss="cross_entropy",
                 noise=None, noise_level=0.0, sparsity=None, sparsity_target=0.05, sparsity_weight=1.0,
                 weight_decay=0.0, train_biases=True, init="uniform", dtype=np.float32, penalties=()):
        self.n_visible = check_positive_int(n_visible, "n_visible")
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.rng = as_generator(rng)
        self._encoder = get_activation(encoder, "encoder", ("sigmoid", "tanh", "relu", "linear"))
        self._decoder = get_activation(decoder, "decoder", ("sigmoid", "linear"))
        self.encoder, self.decoder = encoder, decoder
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        if loss == "cross_entropy" and decoder != "sigmoid":
            raise ValueError("loss='cross_entropy' needs decoder='sigmoid' (a Bernoulli mean in (0, 1)), "
                             f"got decoder={decoder!r}; use loss='squared_error' with a linear decoder")
        self.loss = loss
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")
        noise_level = check_number(noise_level, "noise_level", low=0.0, high=1.0 if noise == "mask" else None,
                                   high_open=True)
        self.noise, self.noise_level = noise, noise_level
        if sparsity not in SPARSITIES:
            raise ValueError(f"sparsity must be one of {SPARSITIES}, got {sparsity!r}")
        if sparsity == "kl" and encoder != "sigmoid":
            raise ValueError(f"sparsity='kl' needs encoder='sigmoid' (activations read as rates in (0, 1)), "
                             f"got encoder={encoder!r}; use sparsity='l1'")
        self.extra_penalties = terms_from(penalties)
        self.penalties = penalty_terms.build(weight_decay, sparsity, sparsity_target, sparsity_weight,
                                             self.extra_penalties)
        self.sparsity = sparsity
        self.sparsity_target = penalty_terms.check_rate(sparsity_target, "sparsity_target")
        self.sparsity_weight = penalty_terms.check_weight(sparsity_weight, "sparsity_weight")
        self.weight_decay = penalty_terms.check_weight(weight_decay, "weight_decay")
        self.train_biases = bool(train_biases)
        self.init = init
        self.dtype = check_float_dtype(dtype)

        weights = {"W": init_weights(self.n_visible, self.n_hidden, init, self.rng, encoder, self.dtype)}
        if not self.tied:
            weights["W_dec"] = init_weights(self.n_visible, self.n_hidden, init, self.rng, encoder, self.dtype)
        biases = {"b_vis": np.zeros(self.n_visible, self.dtype), "b_hid": np.zeros(self.n_hidden, self.dtype)}
        self.params = {**weights, **biases} if self.train_biases else weights
        self.frozen = {} if self.train_biases else biases

    # The arrays live in ``params`` (trainable) or ``frozen``; these names are views on them.
    def _array(self, name):
        return self.params[name] if name in self.params else self.frozen[name]

    W = param_view("W", "encoder weights (n_visible, n_hidden)")

    @property
    def W_dec(self):
        """The decoder's weights (n_visible, n_hidden): W itself when the weights are tied."""
        return self.params["W" if self.tied else "W_dec"]

    @property
    def b_vis(self):
        return self._array("b_vis")

    @property
    def b_hid(self):
        return self._array("b_hid")

    def array_groups(self):
        return (self.params, self.frozen)

    # ------------------------------------------------------------------ input checks
    def check_x(self, x, name="x"):
        """x must be (n_samples, n_visible), finite, and in [0, 1] when the loss is the cross-entropy."""
        low, high = (0.0, 1.0) if self.loss == "cross_entropy" else (None, None)
        return check_array(x, name, n_cols=self.n_visible, low=low, high=high, dtype=self.dtype)

    # ------------------------------------------------------------------ the model
    def corrupt(self, x):
        """The denoising input x̃ (Vincent et al. 2008), drawn from ``self.rng``; x itself when noise is None.

        mask: x̃ = x ⊙ m with m_i ~ Bernoulli(1 − noise_level);  gaussian: x̃ = x + noise_level · ε, ε ~ N(0, I).
        """
        if self.noise == "mask":
            return x * (self.rng.random(x.shape, dtype=x.dtype) >= self.noise_level)
        if self.noise == "gaussian":
            eps = self.rng.standard_normal(x.shape, dtype=x.dtype)
            eps *= self.noise_level
            eps += x
            return eps
        return x

    def encode(self, x):
        """h = f(x W + b_hid): the code (no noise).  x (n, n_visible) → (n, n_hidden)."""
        a, _ = affine_forward(x, self.W, self.b_hid)
        return self._encoder[0](a)[0]

    def decode(self, h):
        """x̂ = g(h W_decᵀ + b_vis).  h (n, n_hidden) → (n, n_visible)."""
        a, _ = affine_transpose_forward(h, self.W_dec, self.b_vis)
        return self._decoder[0](a)[0]

    def transform(self, x):
        """The hidden code h = f(x W + b_hid) of validated input: the features handed to the next layer."""
        return self.encode(self.check_x(x))

    def reconstruct(self, x):
        """x̂ = g(f(x W + b_hid) W_decᵀ + b_vis), without noise."""
        return self.decode(self.transform(x))

    def reconstruction_loss(self, x):
        """Batch mean of ℓ(x̂, x) on clean input, without penalties (a monitor for validation data)."""
        x = self.check_x(x)
        a_vis, _ = affine_transpose_forward(self.encode(x), self.W_dec, self.b_vis)
        if self.loss == "cross_entropy":
            return binary_cross_entropy_with_logits(a_vis, x)[0]
        return squared_error(self._decoder[0](a_vis)[0], x)[0]

    # ------------------------------------------------------------------ forward and backward
    def loss_and_grads(self, x, y=None):
        """Return the batch-mean loss (reconstruction + every penalty switched on) and its gradients.

        Forward:  x̃ = corrupt(x);  a = x̃W + b_hid;  h = f(a);  â = hW_decᵀ + b_vis;  x̂ = g(â);  L = ℓ(x̂, x) + R.
        Backward, with δ_vis = ∂L/∂â (n, n_visible) and δ_hid = ∂L/∂a (n, n_hidden):

            δ_vis = (σ(â) − x) / n                            (cross-entropy on a sigmoid decoder)
                  = ((x̂ − x) / n) ⊙ g'(â)                    (squared error)
            ∂L/∂h = δ_vis W_dec + ∂R/∂h                       (R: the sparsity penalty on h)
            δ_hid = ∂L/∂h ⊙ f'(a)
            ∂L/∂W_dec = δ_visᵀ h,    ∂L/∂b_vis = Σ_n δ_vis,
            ∂L/∂W     = x̃ᵀ δ_hid,    ∂L/∂b_hid = Σ_n δ_hid,   plus λW (and λW_dec) for weight decay.

        x : (n, n_visible).  y : labels, read only by penalty terms that use them (study 3's diversifying
        terms; −1 marks an unlabelled sample), else ignored.

        Which path runs: always this NumPy code (autoencoder steps at batch ≥ 20 are matrix-product bound;
        study 4's online autoencoder, which runs at batch 1, has its kernel in ``studies/ae_dynamics/kernel.py``).
        Returns ``(loss, grads)`` with ``grads`` keyed like ``params``.
        """
        x = self.check_x(x)
        W, W_dec = self.W, self.W_dec
        encoder_forward, encoder_backward = self._encoder
        x_in = self.corrupt(x)

        a_hid, enc_cache = affine_forward(x_in, W, self.b_hid)
        h, h_cache = encoder_forward(a_hid)
        a_vis, dec_cache = affine_transpose_forward(h, W_dec, self.b_vis)
        if self.loss == "cross_entropy":
            loss, d_a_vis = binary_cross_entropy_with_logits(a_vis, x)
        else:
            decoder_forward, decoder_backward = self._decoder
            x_hat, x_hat_cache = decoder_forward(a_vis)
            loss, d_x_hat = squared_error(x_hat, x)
            d_a_vis = decoder_backward(d_x_hat, x_hat_cache)

        dh, dW_dec, db_vis = affine_transpose_backward(d_a_vis, dec_cache)
        penalty, d_penalty = penalty_terms.activity_terms(self.penalties, h, y, self.rng)  # R(h): sparsity, DR
        if d_penalty is not None:
            loss += penalty
            dh += d_penalty
        d_a_hid = encoder_backward(dh, h_cache)
        _, dW, db_hid = affine_backward(d_a_hid, enc_cache, need_dx=False)

        grads = {"W": dW}
        if self.tied:
            dW += dW_dec  # W is used twice: encoder and decoder contributions add (see TiedAutoencoder)
        else:
            grads["W_dec"] = dW_dec
        loss = penalty_terms.add_weight_terms(self.penalties, self.params, loss, grads)  # ½λ‖W‖² (+ ½λ‖W_dec‖²)
        if self.train_biases:
            grads["b_vis"], grads["b_hid"] = db_vis, db_hid
        return float(loss), grads


class TiedAutoencoder(Autoencoder):
    """Autoencoder with tied weights, W_dec = W:  h = f(x̃ W + b_hid),  x̂ = g(h Wᵀ + b_vis).

    The classic of greedy pretraining (Bengio et al. 2007; the Theano ``dA`` tutorial; Vincent et al. 2008):
    half the parameters, and the decoder cannot grow while the encoder shrinks. Parameters: ``W``
    (n_visible, n_hidden), ``b_vis``, ``b_hid``; constructor arguments as for ``Autoencoder``.

    The tied gradient
    -----------------
    W appears twice in the loss, in the encoder's a = x̃W + b_hid and in the decoder's â = hWᵀ + b_vis.
    Give the two uses separate names, L(W_enc, W_dec), and set both to W: by the chain rule the total
    derivative is the sum of the two partial derivatives,

        dL/dW = ∂L/∂W_enc + ∂L/∂W_dec  (at W_enc = W_dec = W).

    Decoder use: â_ni = Σ_j h_nj W_ij + b_vis_i, so ∂â_ni/∂W_ij = h_nj and ∂L/∂W_dec = δ_visᵀ h, with
    δ_vis = ∂L/∂â (n, n_visible).  Encoder use: a_nj = Σ_i x̃_ni W_ij + b_hid_j, so ∂L/∂W_enc = x̃ᵀ δ_hid,
    with δ_hid = ∂L/∂a = (δ_vis W + ∂R/∂h) ⊙ f'(a) — the error sent back through the decoder (with W in its
    decoder role) and the hidden units. Together:

        ∂L/∂W_ij = Σ_n ( x̃_ni δ_hid,nj  +  δ_vis,ni h_nj ),      i.e.  dL/dW = x̃ᵀ δ_hid + δ_visᵀ h.

    Both terms are (n_visible, n_hidden) matrices, so the sum needs no transpose (the decoder's affine map
    h Wᵀ has the gradient δ_visᵀ h directly in W's shape: ``layers.affine_transpose_backward``). Forgetting
    either term is the classic bug; ``pretrainlab gradcheck`` catches it.
    """

    tied = True
