"""Discriminative recurrent sparse auto-encoder (DrSAE; Rolfe & LeCun, ICLR 2013, arXiv 1301.3775).

From ISTA to LISTA to DrSAE
---------------------------
Sparse coding finds, for an input x ∈ ℝᵐ and a dictionary D (m × n), the code that minimises the lasso

    F(z) = ½‖x − D z‖² + λ‖z‖₁.

ISTA (iterative shrinkage-thresholding; Daubechies, Defrise & De Mol 2004) takes a gradient step on the
quadratic part with step size α ≤ 1/‖D‖₂² and then shrinks.  Restricted to non-negative codes the shrinkage is
a shifted ReLU, and the iteration is

    z^{t+1} = max(0, z^t − α Dᵀ(D z^t − x) − αλ) = max(0, E x + S z^t − b)
    with   E = α Dᵀ,   S = I − α DᵀD,   b = αλ.

LISTA (Gregor & LeCun 2010) keeps that recurrent network, runs it for a fixed number T of steps, and *learns*
E, S and b so that T steps approximate the sparse code.  DrSAE (Rolfe & LeCun 2013) goes one step further: it
learns E, S, b *and* the decoder D together, as an auto-encoder whose encoder is the unrolled recurrence,

    z⁰ = 0,    z^{t+1} = max(0, E x + S z^t − b)   (t = 0 .. T−1),    x̂ = D z^T,
    L^U = ½‖x − D z^T‖² + λ‖z^T‖₁                                      (only the last iterate is scored),

and then fine-tunes it with a classifier on the normalised code added to the loss (reconstruction is kept):

    L = L^U + w · L^S,    L^S = −log softmax(C z^T/‖z^T‖ + c)_y.

Trained this way, two kinds of hidden unit appear: *part-units*, which stay close to ISTA (encoder row E_i
nearly parallel to decoder column D_i) and draw strokes, and *categorical-units*, whose encoder turns away from
their decoder (angle > 0.7 rad), which excite themselves and inhibit each other through S, carry most of the
classifier's weight and decode to whole-digit prototypes (``DrSAE.unit_analysis``).

Back-propagation through time
-----------------------------
Write a^t = x Eᵀ + z^{t−1} Sᵀ − b for the pre-activation of step t (z^t = max(0, a^t)), δ^t = ∂L/∂z^t and
g^t = ∂L/∂a^t.  The losses give δ^T; then, for t = T, T−1, .., 1,

    g^t     = δ^t ⊙ [a^t > 0]                  (the ReLU mask of step t, kept in its cache)
    δ^{t−1} = g^t S                            (the error flows back through the explaining-away matrix)

and the parameters, which every step shares, collect one term per step:

    ∂L/∂S = Σ_t (g^t)ᵀ z^{t−1},    ∂L/∂b = −Σ_t Σ_n g^t_n,    ∂L/∂E = (Σ_t g^t)ᵀ x.

Orientation
-----------
The matrices keep the paper's orientation, so each formula reads as in the paper: E (n_hidden, n_visible) —
row E_i is unit i's encoder filter; S (n_hidden, n_hidden); D (n_visible, n_hidden) — column D_i is unit i's
decoder (the orientation of an RBM's W); C (n_classes, n_hidden) — column C_i holds unit i's class weights.
A batch is stored as rows, x (n, n_visible), so E x becomes ``x @ E.T``, S z becomes ``z @ S.T``, and so on.
The inputs should be scaled to unit L2 norm per image (``normalize_rows``), as in the paper.
"""
import numpy as np

from ...base import Model, check_float_dtype, param_view
from .steps import (NORM_EPS, drsae_step_backward, drsae_step_forward, normalize_backward,  # noqa: F401
                          normalize_forward, normalize_rows, unrolled_backward, unrolled_forward)
from ...layers import affine_transpose_backward, affine_transpose_forward, softmax, softmax_cross_entropy, squared_error
from ...penalties import L1Activity, activity_terms
from ...validation import as_generator, check_array, check_labels, check_number, check_positive_int

#: The author's "cumulative step size" c (recpool ``build_recpool_net.lua`` l. 24–25, ``ENC_CUMULATIVE_STEP_SIZE_INIT``
#: and ``_BOUND``): the ISTA step of the initial encoder is α = c/T and E's rows are bounded by c/T (the paper writes
#: 1.25/(T − 1); the code divides by ``num_ista_iterations + 1`` = T).  The author's T = 2 runs used c = 1.25/4 and
#: 1.25/2 (commits c302e68 and 7d72f23, 21 Dec 2012).
ENCODER_NORM_CONSTANT = 1.25
#: The classifier's learning-rate factor in the author's code (``CLASS_DICT_GRAD_SCALING = 0.2``,
#: ``build_recpool_net.lua`` l. 21; the paper: "the learning rate of the classification matrix is scaled down by a
#: factor of 5").  It multiplies the gradient of C and of its bias c.
CLASSIFIER_LR_FACTOR = 0.2
#: The initial threshold b: E's bias starts at −1e-5 in the code (``build_recpool_net.lua`` l. 930, FixedShrink).
INITIAL_THRESHOLD = 1e-5


def _check_real(value, name, low=0.0, strict=False):
    """``value`` as a float ≥ low (> low when strict), or a TypeError/ValueError naming ``name``."""
    return check_number(value, name, low=low, low_open=strict)


class DrSAE(Model):
    """Discriminative recurrent sparse auto-encoder (Rolfe & LeCun 2013): an ISTA-shaped ReLU encoder unrolled
    T times, a linear decoder, and a softmax classifier on the normalised code.

    Parameters
    ----------
    n_visible : int
        m, the input size (784 for MNIST).
    n_hidden : int
        n, the number of hidden units (400 in the paper's best model, 200 in the smaller one).
    n_classes : int
        l, the number of classes (≥ 2).
    n_steps : int
        T, the number of encoder steps (the paper's 11: z¹ = max(0, Ex − b), then ten passes through S).
    rng : numpy.random.Generator or int seed
        Draws the initial decoder (and, by default, the images ``init_ista`` picks).
    sparsity_weight : float
        λ of the L1 term λ‖z^T‖₁.  0.018 is what the author's code amounts to relative to ½‖x − Dz‖²
        (the paper does not state it; ``docs/study5.md``).
    classification_weight : float
        w of the discriminative term w·L^S, used when labels are passed to ``loss_and_grads``.  0.2 relative to
        L^U, again the code's value (not in the paper).
    max_norm_D, max_norm_E, max_norm_C : float
        The norm bounds ``project_norms`` enforces: columns of D ≤ 1, rows of C ≤ 5 (paper and code agree), rows
        of E ≤ min(1, max(0.01, c/T)) by default (None) — **the author's code** (``build_recpool_net.lua``
        l. 1113: ``ENC_CUMULATIVE_STEP_SIZE_BOUND/(num_ista_iterations + 1)``, clipped to [0.01, 1]), which is
        exactly the norm of the ISTA initialisation's rows (α‖D_i‖ with α = c/T), so the bound is active from the
        first step.  The paper writes 1.25/(T − 1) (``max_norm_E=1.25 / (T - 1)``: looser, it leaves E room to
        grow past ISTA); where code and paper disagree the lab follows the code, which produced the published runs.
    step_constant : float
        c, the author's cumulative step size (1.25): the initial encoder is T steps of ISTA with α = c/T, and the
        default E bound is c/T.  The author's last T = 2 runs used 1.25/4 and 1.25/2.
    dtype : float32 (fast) or float64 (exact checks).

    Attributes
    ----------
    params : dict ``E`` (n_hidden, n_visible), ``S`` (n_hidden, n_hidden), ``b`` (n_hidden,), ``D`` (n_visible,
        n_hidden), ``C`` (n_classes, n_hidden), ``c`` (n_classes,); the optimiser updates them in place.
    penalties : ``[penalties.L1Activity(sparsity_weight)]`` — the λ‖z^T‖₁ term through the lab's one penalty
        contract (``term(h) → (value, ∂value/∂h)``), applied to the last iterate z^T; its dh is the start of
        δ^T together with the reconstruction's.  It is built from ``sparsity_weight`` at construction.

    Initialisation: D gets random unit-norm columns and (E, S, b) the ISTA correspondence with α = c/T
    (``set_ista``), so a fresh model is already a T-step (non-negative) ISTA encoder for its D; C and c start
    at 0.  ``init_ista(x_train)`` is the author's initialisation: a data-based dictionary, b = 1e-5 and random
    unit-norm classifier rows.
    """

    def __init__(self, n_visible, n_hidden, n_classes, n_steps=11, rng=None, sparsity_weight=0.018,
                 classification_weight=0.2, max_norm_D=1.0, max_norm_E=None, max_norm_C=5.0,
                 step_constant=ENCODER_NORM_CONSTANT, dtype=np.float32):
        self.n_visible = check_positive_int(n_visible, "n_visible")
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.n_classes = check_positive_int(n_classes, "n_classes")
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be ≥ 2, got {self.n_classes}")
        self.n_steps = check_positive_int(n_steps, "n_steps")
        self.sparsity_weight = _check_real(sparsity_weight, "sparsity_weight")
        self.classification_weight = _check_real(classification_weight, "classification_weight")
        self.max_norm_D = _check_real(max_norm_D, "max_norm_D", strict=True)
        self.step_constant = _check_real(step_constant, "step_constant", strict=True)
        if max_norm_E is None:  # the code's bound
            max_norm_E = self.code_step()
        self.max_norm_E = _check_real(max_norm_E, "max_norm_E", strict=True)
        self.max_norm_C = _check_real(max_norm_C, "max_norm_C", strict=True)
        self.dtype = check_float_dtype(dtype)
        self.rng = as_generator(rng)
        #: λ‖z^T‖₁ as a penalty term of the lab's contract (``penalties.L1Activity``: (value, ∂/∂z))
        self.penalties = [L1Activity(self.sparsity_weight)]

        m, n, l = self.n_visible, self.n_hidden, self.n_classes
        D = self.rng.standard_normal((m, n))
        D /= np.linalg.norm(D, axis=0)  # random directions, unit-norm columns
        self.params = {
            "E": np.zeros((n, m), self.dtype),
            "S": np.zeros((n, n), self.dtype),
            "b": np.zeros(n, self.dtype),
            "D": D.astype(self.dtype),
            "C": np.zeros((l, n), self.dtype),
            "c": np.zeros(l, self.dtype),
        }
        self.set_ista()

    # The arrays live in ``params`` (the optimiser updates them in place); these names are views on them.
    E = param_view("E", "Encoder (n_hidden, n_visible): row E_i is unit i's input filter.")
    S = param_view("S", "Explaining-away matrix (n_hidden, n_hidden): z^{t+1} = max(0, Ex + S z^t − b).")
    b = param_view("b", "Thresholds (n_hidden,) — ISTA's αλ.")
    D = param_view("D", "Decoder (n_visible, n_hidden): column D_i is unit i's dictionary element, x̂ = D z^T.")
    C = param_view("C", "Classifier (n_classes, n_hidden): logits = C z^T/‖z^T‖ + c.")
    c = param_view("c", "Classifier bias (n_classes,) (in the author's code; the paper writes C z/‖z‖ alone).")

    #: constructor arguments recorded by ``config()`` (``base.Model``), with ``dtype``
    config_names = ("n_visible", "n_hidden", "n_classes", "n_steps", "sparsity_weight", "classification_weight",
                    "max_norm_D", "max_norm_E", "max_norm_C", "step_constant")

    def check_x(self, x, name="x"):
        """x must be a finite (n_samples, n_visible) array; returned in the model's dtype."""
        return check_array(x, name, n_cols=self.n_visible, dtype=self.dtype)

    # ------------------------------------------------------------------ initialisation: the ISTA correspondence
    def _check_threshold(self, b):
        """b as a float array of shape () or (n_hidden,), finite, or a ValueError naming ``b``."""
        arr = None if isinstance(b, (str, bytes)) else np.asarray(b, dtype=float)
        if arr is None or arr.shape not in ((), (self.n_hidden,)) or not np.all(np.isfinite(arr)):
            raise ValueError(f"b must be a finite scalar or have shape ({self.n_hidden},), got {b!r:.60}")
        return arr

    def code_step(self):
        """c/T clipped to [0.01, 1], as the author's code clips it (``build_recpool_net.lua`` l. 909–912): the
        initial ISTA step α and the default bound on E's rows."""
        return min(1.0, max(0.01, self.step_constant / self.n_steps))

    def set_ista(self, alpha=None, b=None):
        """Set the encoder to T steps of non-negative ISTA for the current decoder D:

            E = α Dᵀ,    S = I − α DᵀD,    b = αλ        (Rolfe & LeCun 2013, §2; Gregor & LeCun 2010)

        alpha : float > 0, ISTA's step size; default c/T (``step_constant``/T, 1.25/T), the author's code's choice.  ISTA is guaranteed to
            decrease the lasso objective only for α ≤ 1/‖D‖₂² (and diverges for α > 2/‖D‖₂²).  Random unit
            columns have ‖D‖₂² ≈ (1 + √(n/m))², comfortably inside; a dictionary of overlapping digit images can
            have a much larger ‖D‖₂ (see ``init_ista``), and then 1.25/T is too large a step.
        b : float or (n_hidden,) array, optional; default αλ.  (The author's code starts b at ≈ 1e-5.)
        Returns self.  Nothing is changed if an argument is refused.
        """
        alpha = self.code_step() if alpha is None else _check_real(alpha, "alpha", strict=True)
        b = alpha * self.sparsity_weight if b is None else self._check_threshold(b)
        D = self.D.astype(np.float64)  # the products in float64, then stored in the model's dtype
        self.params["E"][...] = alpha * D.T
        self.params["S"][...] = np.eye(self.n_hidden) - alpha * (D.T @ D)
        self.params["b"][...] = b
        return self

    def init_ista(self, x_train, rng=None, alpha=None, image_weight=0.25, noise_norm=1.0, b=INITIAL_THRESHOLD):
        """The author's initialisation (recpool ``build_recpool_net.lua`` l. 880–931, ``ConstrainedLinear.lua``):

            D_i = (ν u_i/‖u_i‖ + image_weight · x̃_{k_i}) / ‖·‖      u_i ~ U(−1/√n, 1/√n)^m,  x̃_k a unit-norm
                                                                     training image drawn at random (with
                                                                     replacement, ``math.random``)
            E = α Dᵀ,  S = I − α DᵀD,  b = 1e-5                     (``set_ista``; α = c/T)
            C_k = v_k/‖v_k‖,  v_k ~ U(−1/√n, 1/√n)^n,   c = 0         (rows of unit norm, bias zeroed)

        The noise is the default ``nn.Linear`` initialisation of the decoder, whose columns the constrained
        module normalises at construction (``repair(true)``) *before* 0.25 × an image is added — so the noise
        and the image are in the ratio 1 : 0.25, and the columns are normalised again.  The mean-zero noise keeps
        the image-like columns from overlapping much (a dictionary of bare digit images has α‖D‖₂² ≫ 2 and its
        ISTA iterates oscillate).  The classifier's rows start at norm 1 (its bound is 5), its bias at 0
        (l. 603); b starts at 1e-5 (E's bias −1e-5, l. 930).

        x_train : (n_samples, n_visible) training images (any scale: each is normalised here).
        rng : generator or seed choosing the images and the noise (default: the model's ``rng``).
        alpha : ISTA step of the initial encoder (default c/T, ``code_step``).   b : initial threshold (1e-5).
        image_weight : 0.25, the code's.   noise_norm : ν, the norm of the noise column before the image is added
            (1, the code's; 0 gives a dictionary of bare images, for comparison).
        Returns self.  Nothing is changed if an argument is refused.
        """
        x = normalize_rows(self.check_x(x_train, "x_train"))
        rng = self.rng if rng is None else as_generator(rng)
        image_weight = _check_real(image_weight, "image_weight")
        noise_norm = _check_real(noise_norm, "noise_norm")
        if alpha is not None:
            _check_real(alpha, "alpha", strict=True)  # checked before anything is written
        b = self._check_threshold(b)
        bound = 1.0 / np.sqrt(self.n_hidden)  # nn.Linear's default U(±1/√fan_in); its scale is normalised away
        D = rng.uniform(-bound, bound, (self.n_visible, self.n_hidden))
        D *= noise_norm / np.linalg.norm(D, axis=0)
        picks = rng.integers(len(x), size=self.n_hidden)
        D += image_weight * x[picks].T.astype(np.float64)
        norms = np.linalg.norm(D, axis=0)
        if np.any(norms == 0):
            raise ValueError("x_train: a dictionary column came out all zero")
        C = rng.uniform(-bound, bound, (self.n_classes, self.n_hidden))
        C /= np.linalg.norm(C, axis=1, keepdims=True)
        self.params["D"][...] = D / norms
        self.params["C"][...] = C
        self.params["c"][...] = 0.0
        return self.set_ista(alpha, b)

    # ------------------------------------------------------------------ the constraints of training
    def project_norms(self, names=("D", "E", "C")):
        """Re-project onto the norm balls after an update (in place):  ‖D_{:,i}‖ ≤ max_norm_D,
        ‖E_{i,:}‖ ≤ max_norm_E,  ‖C_{k,:}‖ ≤ max_norm_C   (paper, §2; see the class docstring for the bounds).

        A column or row inside its ball is left unchanged (the bounds are upper bounds, not a renormalisation);
        one outside is scaled back onto the sphere.  Without the D bound, L^U could shrink the code (and λ‖z‖₁)
        at no cost by growing D.  ``names``: which of D, E, C to project (the author's code projects D and E only
        after every 5th update, C after every one: ``train.py``).  Returns self.
        """
        for name, axis, bound in (("D", 0, self.max_norm_D), ("E", 1, self.max_norm_E), ("C", 1, self.max_norm_C)):
            if name not in names:
                continue
            W = self.params[name]
            norms = np.sqrt(np.einsum("ij,ij->j" if axis == 0 else "ij,ij->i", W, W))
            over = norms > bound
            if np.any(over):
                scale = np.where(over, bound / np.where(over, norms, 1.0), 1.0).astype(W.dtype)
                W *= scale[None, :] if axis == 0 else scale[:, None]
        return self

    def lr_scale(self):
        """Divisor of each parameter's learning rate, as in the author's code: E and b by T, S by T − 1, C and c
        by 5, D by 1.

        The paper divides the learning rate of each *matrix* by the number of times it repeats in the unrolled
        network: E x enters all T steps, S acts in T − 1 of them (S z⁰ = 0).  Without it the shared matrices
        would take steps T times larger than a single layer's.  The code (``build_recpool_net.lua`` l. 802–809,
        ``ConstrainedLinear.accGradParameters``) scales E's *bias*, our threshold b, with E's factor 1/T, S by
        1/(T − 1), and the classifier and its bias by ``CLASSIFIER_LR_FACTOR`` = 0.2 (the paper: "scaled down by
        a factor of 5").  (For T = 1, S's divisor is 1: its gradient is 0 anyway.)
        """
        T = float(self.n_steps)
        return {"E": T, "S": float(max(self.n_steps - 1, 1)), "b": T, "D": 1.0, "C": 1.0 / CLASSIFIER_LR_FACTOR,
                "c": 1.0 / CLASSIFIER_LR_FACTOR}

    # ------------------------------------------------------------------ the model
    def _encode(self, x):
        """The unrolled encoder on validated x: z^T and the T step caches."""
        return unrolled_forward(x @ self.E.T, self.S, self.b, self.n_steps)  # E x is shared by every step

    def encode(self, x, return_all=False):
        """The code z^T after T steps of z^{t+1} = max(0, E x + S z^t − b), z⁰ = 0.

        x : (n, n_visible).  Returns z^T (n, n_hidden); with ``return_all`` an array (T + 1, n, n_hidden) whose
        entry t is z^t (entry 0 is z⁰ = 0), for following the iterations (e.g. which units turn on when).
        """
        x = self.check_x(x)
        if not return_all:
            return self._encode(x)[0]
        x_proj = x @ self.E.T
        zs = np.zeros((self.n_steps + 1, len(x), self.n_hidden), self.dtype)
        for t in range(self.n_steps):
            zs[t + 1] = drsae_step_forward(x_proj, zs[t], self.S, self.b)[0]
        return zs

    def reconstruct(self, x):
        """x̂ = D z^T.  x (n, n_visible) → (n, n_visible)."""
        return self.encode(x) @ self.D.T

    def sparse_coding_loss(self, x, z=None):
        """L^U = (1/n) Σ_n [½‖x_n − D z_n‖² + λ‖z_n‖₁], of the given codes z or (default) of the encoder's z^T.

        With z = z^t from ``encode(x, return_all=True)`` this is the lasso objective along the iterations.
        """
        x = self.check_x(x)
        z = self._encode(x)[0] if z is None else check_array(z, "z", n_cols=self.n_hidden, dtype=self.dtype)
        if len(z) != len(x):
            raise ValueError(f"z must have {len(x)} rows (one per row of x), got {len(z)}")
        return squared_error(z @ self.D.T, x)[0] + activity_terms(self.penalties, z)[0]

    def _logits(self, x):
        return affine_transpose_forward(normalize_forward(self._encode(x)[0])[0], self.C, self.c)[0]

    def predict_proba(self, x):
        """p(y = k | x) = softmax(C z^T/‖z^T‖ + c)_k.  x (n, n_visible) → (n, n_classes)."""
        return softmax(self._logits(self.check_x(x)))

    def predict(self, x):
        """The most probable class for each row of x.  Returns (n,) int64."""
        return np.argmax(self._logits(self.check_x(x)), axis=1)

    def score(self, x, y):
        """Classification accuracy, the fraction of rows of x whose predicted class equals y."""
        x = self.check_x(x)
        y = check_labels(y, "y", self.n_classes, n_samples=len(x))
        return float(np.mean(self.predict(x) == y))

    # ------------------------------------------------------------------ forward and backward
    def loss_and_grads(self, x, y=None):
        """Batch-mean loss and its gradients, by back-propagation through the T encoder steps.

            unsupervised (y None):  L = L^U = ½‖x − D z^T‖² + λ‖z^T‖₁
            discriminative (y):     L = L^U + w · (−log softmax(C ẑ + c)_y),   ẑ = z^T/√(‖z^T‖² + ε²)

        Backward: δ^T = ∂L/∂z^T = (x̂ − x) D / n + λ sign(z^T)/n [+ w · normalize_backward((p − onehot(y)) C / n)],
        ∂L/∂D = (x̂ − x)ᵀ z^T / n, ∂L/∂C = w (p − onehot(y))ᵀ ẑ / n, ∂L/∂c = w Σ_n (p_n − onehot(y_n)) / n; then
        for t = T..1 (``drsae_step_backward``):  g^t = δ^t ⊙ [a^t > 0],  δ^{t−1} = g^t S,  ∂L/∂S += (g^t)ᵀ z^{t−1},
        ∂L/∂b −= Σ_n g^t_n,  and finally  ∂L/∂E = (Σ_t g^t)ᵀ x.

        x : (n, n_visible); y : (n,) ints in 0..n_classes−1, or None for the unsupervised phase.
        Returns ``(loss, grads)`` keyed like ``params``.  In the unsupervised phase the loss does not depend on
        C and c: their gradients are returned as zero arrays, so an optimiser always sees every key.
        """
        x = self.check_x(x)
        if y is not None:
            y = check_labels(y, "y", self.n_classes, n_samples=len(x))
        P = self.params

        # forward: T steps, then the reconstruction and sparsity terms on the last iterate
        z, cache = unrolled_forward(x @ P["E"].T, P["S"], P["b"], self.n_steps)
        x_hat = z @ P["D"].T
        loss, dx_hat = squared_error(x_hat, x)
        l1, dz_l1 = activity_terms(self.penalties, z)  # λ‖z^T‖₁ and λ sign(z^T), batch means
        loss += l1
        grads = {"D": dx_hat.T @ z}
        dz = dx_hat @ P["D"]
        dz += dz_l1

        if y is None:
            grads["C"], grads["c"] = np.zeros_like(P["C"]), np.zeros_like(P["c"])
        else:
            z_hat, norm_cache = normalize_forward(z)
            logits, cls_cache = affine_transpose_forward(z_hat, P["C"], P["c"])
            nll, dlogits = softmax_cross_entropy(logits, y)
            loss += self.classification_weight * nll
            dlogits *= self.classification_weight
            dz_hat, grads["C"], grads["c"] = affine_transpose_backward(dlogits, cls_cache)
            dz += normalize_backward(dz_hat, norm_cache)

        # backward through time: every step shares E, S, b, so their gradients add up over the steps
        grads["S"], grads["b"], dx_proj = unrolled_backward(dz, cache)
        grads["E"] = dx_proj.T @ x
        return float(loss), {name: grads[name] for name in P}

    # ------------------------------------------------------------------ analysis (paper, §3)
    def unit_analysis(self):
        """Per-unit measures behind the paper's part-/categorical-unit distinction (Rolfe & LeCun 2013, §3).

        Returns a dict of (n_hidden,) float64 arrays:
          ``angle``          arccos(E_i·D_i / (‖E_i‖‖D_i‖)), the angle between unit i's encoder row and decoder
                             column, in radians: 0 in ISTA (E = αDᵀ), large for categorical-units;
          ``recurrent_norm`` ‖(S − I)_{i,:}‖, the size of the recurrent input unit i receives beyond ISTA's
                             identity (row i: the connections *into* unit i, as in the author's
                             analysis, which takes row norms of its explaining-away matrix);
          ``classifier_norm`` ‖C_{:,i}‖, the size of unit i's weights to the classes;
          ``encoder_norm``, ``decoder_norm``  ‖E_{i,:}‖ and ‖D_{:,i}‖.
        A unit with a zero encoder row or decoder column has no direction: its angle is NaN.
        """
        E, S, D, C = (self.params[k].astype(np.float64) for k in ("E", "S", "D", "C"))
        e_norm, d_norm = np.linalg.norm(E, axis=1), np.linalg.norm(D, axis=0)
        denom = e_norm * d_norm
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.einsum("ij,ji->i", E, D) / denom
        angle = np.where(denom > 0, np.arccos(np.clip(cos, -1.0, 1.0)), np.nan)
        return {"angle": angle, "recurrent_norm": np.linalg.norm(S - np.eye(self.n_hidden), axis=1),
                "classifier_norm": np.linalg.norm(C, axis=0), "encoder_norm": e_norm, "decoder_norm": d_norm}

    def classify_units(self, angle_part=0.5, angle_cat=0.7):
        """Label each unit "part" (angle < angle_part), "categorical" (angle > angle_cat) or "between".

        The paper's heuristic thresholds, 0.5 and 0.7 rad; it stresses the units form a continuum.  Returns an
        (n_hidden,) array of str.  Units with no defined angle (NaN) are labelled "between".
        """
        angle_part = _check_real(angle_part, "angle_part")
        angle_cat = _check_real(angle_cat, "angle_cat")
        if angle_part > angle_cat:
            raise ValueError(f"angle_part must be ≤ angle_cat, got {angle_part} > {angle_cat}")
        angle = self.unit_analysis()["angle"]
        labels = np.full(self.n_hidden, "between", dtype=object)
        labels[angle < angle_part] = "part"
        labels[angle > angle_cat] = "categorical"
        return labels.astype(str)
