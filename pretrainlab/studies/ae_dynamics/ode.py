r"""Study 4, theory: the ODEs of online SGD in a shallow autoencoder (Refinetti & Goldt, ICML 2022).

Refinetti & Goldt, "The dynamics of representation learning in shallow, non-linear autoencoders",
ICML 2022, arXiv 2201.02115. This module turns the online SGD step of ``shallow_ae.online_ae_grads`` into a
handful of deterministic ODEs for *order parameters* and integrates them on their own, from the initial
weights of an SGD run, so that ``experiments`` can lay the theory over the simulation.

The model (the conventions of ``shallow_ae.online_ae_grads``)
---------------------------------------------------------
W, V are stored as (D, K) arrays, column k is unit k: w_k, v_k ∈ ℝᴰ. One sample x ~ N(0, Ω):

    λ_k = (x·w_k + b_k)/√D,   h_k = g(λ_k),   x̂ = Σ_k v_k h_k,   L = ‖x − x̂‖²/(2D),

    e = x̂ − x,   Δv_k = −η_V e h_k / D,   Δw_k = −η_W x (v_k·e) g′(λ_k) / D^{3/2},

with η_W = η/D (the encoder learns D times slower) and η_V = η; time t = steps/D. g is "linear" or
"erf" (g(u) = erf(u/√2), the paper's sigmoidal unit). **Assumption throughout: b = 0 and not trained**
(lr_b = 0); ``initial_state`` refuses a non-zero b. (With x zero-mean a bias only shifts the λ's mean:
the erf averages below would need a non-zero mean, which this module does not do.) Untied only.

Order parameters (the paper's (K, D)-row notation translated to the lab's (D, K) columns)
---------------------------------------------------------------------------------------
The paper writes W, V with units as *rows* and Q = WΩWᵀ/D, R = VΩWᵀ/D^{3/2}, T = VΩVᵀ/D², T⁰ = VVᵀ/D.
With the lab's columns the same K×K matrices are

    Q = WᵀΩW/D,   R = VᵀΩW/D^{3/2}  (R_kl = v_k·Ωw_l/D^{3/2}),   T = VᵀΩV/D²,   T⁰ = VᵀV/D.

Write Ω = Σ_τ ρ_τ ψ_τψ_τᵀ with *unit* eigenvectors ψ_τ (τ = 1…D, ρ_1 ≥ ρ_2 ≥ …), ρ̃_τ = ρ_τ/D, and the
per-eigendirection overlaps

    a_k^τ = w_k·ψ_τ,   b_k^τ = v_k·ψ_τ/√D        (A = ΨᵀW, B = ΨᵀV/√D, both (D, K), row τ).

(docs/study4.md writes a = w·ψ/√D, b = v·ψ/D with ψ of norm √D, like the data's spike directions a_m: the
same numbers.) Then every order parameter is a sum over directions:

    Q = Aᵀ diag(ρ̃) A,   R = Bᵀ diag(ρ̃) A,   T = Bᵀ diag(ρ̃) B,   T⁰ = BᵀB.

Population error. For Gaussian x, E[(v_k·x) g(λ_l)] = Cov(v_k·x, λ_l) ⟨g′(λ_l)⟩ = D R_kl ⟨g′_l⟩ (Stein's
lemma), so the expected loss is, *exactly at any D*,

    ε = E‖x − x̂‖²/(2D) = ½ tr Ω/D − Σ_k R_kk ⟨g′(λ_k)⟩ + ½ Σ_kl T⁰_kl ⟨g(λ_k) g(λ_l)⟩,       (1)

where ⟨·⟩ is over λ ~ N(0, Q). Linear g: ε = ½ tr Ω/D − tr R + ½ tr(Q T⁰). PCA with k components leaves
ε_PCA(k) = ½ Σ_{τ>k} ρ̃_τ, the floor a K-unit linear autoencoder can reach.

Derivation of the ODEs
----------------------
Project the SGD step on ψ_τ: Δa_k^τ = Δw_k·ψ_τ, Δb_k^τ = Δv_k·ψ_τ/√D. Use

    v_k·e = D Σ_l T⁰_kl g(λ_l) − v_k·x,      e·ψ_τ = √D Σ_l b_l^τ g(λ_l) − x·ψ_τ,

and Gaussian identities for z_τ = x·ψ_τ (variance ρ_τ, Cov(z_τ, λ_m) = ρ_τ a_m^τ/√D) and z' = v_k·x
(Cov(z_τ, z') = ρ_τ √D b_k^τ, Cov(z', λ_k) = D R_kk): Stein's lemma E[z F(λ)] = Σ_m Cov(z, λ_m) E[∂_m F]
and its second-order form E[z z' F(λ_k)] = Cov(z, z') E[F] + Cov(z, λ_k) Cov(z', λ_k) E[F″]. Taking the
expectation of one step over the fresh sample x gives E[Δa] and E[Δb] *exactly*; with dt = 1/D:

    da_k^τ/dt = η ρ̃_τ [ b_k^τ ⟨g′_k⟩ + a_k^τ R_kk ⟨g‴_k⟩ − Σ_l T⁰_kl (a_k^τ ⟨g″_k g_l⟩ + a_l^τ ⟨g′_k g′_l⟩) ]   (2)
    db_k^τ/dt = η [ ρ̃_τ a_k^τ ⟨g′_k⟩ − Σ_l ⟨g_k g_l⟩ b_l^τ ]                                              (3)

(η the encoder's η = D·η_W in (2), the decoder's η_V in (3)). For linear g (g′ = 1, g″ = g‴ = 0) these
are the equations of docs/study4.md:

    da_k^τ/dt = η ρ̃_τ (b_k^τ − Σ_l T⁰_kl a_l^τ),    db_k^τ/dt = η (ρ̃_τ a_k^τ − Σ_l Q_kl b_l^τ).        (4)

They are *closed*: the right-hand sides need only the overlaps of direction τ and Q, R, T⁰, which are
themselves sums of overlaps (above). So the state is the 2·D·K numbers (A, B) and nothing is fed back
from a simulation. The only thing dropped is the second-order part of the step (E[Δa²] and the
fluctuations around the mean), O(η²/D) per unit time: the ODE is the D → ∞ limit of SGD. That is why
the right-hand sides are linear in η: η only rescales time as D → ∞.

Which Ω this covers. Any Gaussian input: (2)–(4) hold for every eigendirection of any Ω. For the spiked
model (``data.spiked_covariance``) the bulk is isotropic (ρ_τ = σ² for τ > M): there ρ̃ = σ²/D, so the
bulk encoder overlaps move only at rate O(1/D) (frozen as D → ∞; their contribution σ²W_⊥ᵀW_⊥/D to Q
stays put) while the bulk decoder overlaps decay at rate ηQ. Within the degenerate bulk any orthonormal
basis gives the same dynamics, so ``eigenbasis`` may return any one. The module keeps the O(1/D) bulk
terms (they are exact drift at finite D); a reduction to spike overlaps plus three K×K bulk Gram
matrices is possible but not needed: a D×K state costs microseconds per step.

Truncated (Sanger) variant. ``online_ae_grads(..., truncated=True)`` lets unit k see only the partial
error e⁽ᵏ⁾ = Σ_{a≤k} v_a h_a − x, and multiplies it by g′(λ_k) (the form the authors' ODEs describe).
In (2)–(4) this replaces T⁰ in the encoder equation and ⟨g g⟩ (Q, for linear g) in the decoder
equation by their lower triangles (l ≤ k, diagonal included); the terms from −v_k·x and −x·ψ_τ are
unchanged. Its fixed point is unit k = principal component k itself (Sanger 1989).

Closed-form Gaussian averages for g(u) = erf(u/√2)
--------------------------------------------------
The averages ⟨g g⟩, ⟨g′⟩, ⟨g‴⟩, ⟨g′g′⟩, ⟨g″g⟩ in (1)–(3) are in closed form (Saad & Solla 1995): they live in
``pretrainlab.studies.ae_dynamics.erf_averages`` (re-exported here), with their derivation.

What is *not* here: tied weights (x̂ = Wᵀh), ReLU, a trained bias, and the second-order (finite-D,
O(η²/D)) corrections.

Use
---
    state = initial_state(W, V, data.covariance)          # exactly the SGD run's start (b = 0)
    sol = solve_ae_ode(state, t_end=20.0, dt=0.05, lr=eta, activation="erf")
    sol["t"], sol["error"]                                 # ε(t), to lay over the SGD run's population error

(``tests/studies/ae_dynamics/test_ae_ode.py``: at D = 200, K = 2, η = 0.1 the SGD run's ε stays within ≈ 1.5 % (erf) and
≈ 2.5–6 % (linear) of the ODE over t ≤ 20; the deviation shrinks as D grows.)

Integration. ``rk4`` is a classical fixed-step Runge–Kutta integrator; ``rk4_error`` compares a solve
at dt with one at dt/2 to tell whether dt is small enough. The linear ODE is stiff through its largest
rate ≈ η ρ̃_1 max(T⁰, …): RK4 is stable for dt · rate ≲ 2.8.
"""
import math
from typing import NamedTuple

import numpy as np

from ...validation import check_int, check_number

from .erf_averages import (  # noqa: F401  (re-exported: ae_ode.erf_avg_* is the documented name)
    _SQRT_2_OVER_PI, _as_matrix, _check_covariance, _erf_pair_averages, erf_avg_ddg_g, erf_avg_dddg, erf_avg_dg,
    erf_avg_dg_lambda_g, erf_avg_dg_zz, erf_avg_dgdg, erf_avg_gg)

from .integrate import rk4, rk4_error  # noqa: F401  (re-exported)

ODE_ACTIVATIONS = ("linear", "erf")


# ------------------------------------------------------------------------------------------ input checks
def _check_activation(activation):
    if activation not in ODE_ACTIVATIONS:
        raise ValueError(f"activation must be one of {ODE_ACTIVATIONS}, got {activation!r}")


def _check_positive(value, name):
    return check_number(value, name, low=0.0, low_open=True)


def _check_spectrum(rho_tilde, name="rho_tilde", size=None):
    """``rho_tilde`` as a finite real 1-D float64 array of eigenvalues/D ≥ 0 (of length ``size``), or a
    TypeError/ValueError naming it."""
    r = np.asarray(rho_tilde) if not isinstance(rho_tilde, (str, bytes)) else np.asarray(None)
    if r.ndim != 1 or (size is not None and len(r) != size):
        raise ValueError(f"{name} must be a 1-D array{'' if size is None else f' of length {size}'}, got shape "
                         f"{r.shape}")
    r = _as_matrix(r[None, :], name)[0]  # finite, real, float64
    if r.size and r.min() < -1e-10 * max(1.0, r.max()):  # (eigh's rounding: −1e-17 is a zero eigenvalue)
        raise ValueError(f"{name} must be ≥ 0 (eigenvalues of a covariance), found {r.min():g}")
    return r


def _check_overlaps(A, B, rho_tilde):
    """A, B (D, K) finite real and ρ̃ (D,) finite, ≥ 0: the checked state of the ODEs, as float64."""
    A = _as_matrix(A, "A")
    return A, _as_matrix(B, "B", A.shape), _check_spectrum(rho_tilde, size=A.shape[0])


# ------------------------------------------------------------------------------------ order parameters
class AEOverlaps(NamedTuple):
    """Per-eigendirection overlaps, the state of the ODEs: A = ΨᵀW, B = ΨᵀV/√D (both (D, K)), ρ̃ = ρ/D."""

    A: np.ndarray
    B: np.ndarray
    rho_tilde: np.ndarray


def eigenbasis(Omega):
    """Eigenvalues ρ (descending) and unit eigenvectors Ψ (columns) of the input covariance Ω = ΨdiagρΨᵀ.

    Parameters
    ----------
    Omega : array_like, (D, D)
        Symmetric positive semi-definite covariance.

    Returns
    -------
    rho : (D,) ndarray, largest first.   Psi : (D, D) ndarray, column τ = ψ_τ.
    """
    Omega = _check_covariance(Omega, "Omega")
    rho, Psi = np.linalg.eigh(Omega)
    if rho[0] < -1e-10 * max(1.0, rho[-1]):
        raise ValueError(f"Omega must be positive semi-definite, smallest eigenvalue {rho[0]:.3g}")
    return rho[::-1].copy(), Psi[:, ::-1].copy()


def order_parameters(W, V, Omega):
    """Q, R, T, T⁰ straight from the definitions (lab storage: W, V are (D, K), column k = unit k).

    Q = WᵀΩW/D,  R = VᵀΩW/D^{3/2},  T = VᵀΩV/D²,  T⁰ = VᵀV/D   (the paper's WΩWᵀ/D, … with units as rows).

    Returns
    -------
    dict with K×K arrays "Q", "R" (R[k, l] = v_k·Ωw_l/D^{3/2}), "T", "T0".
    """
    W = _as_matrix(W, "W")
    D, K = W.shape
    V = _as_matrix(V, "V", (D, K))
    Omega = _check_covariance(Omega, "Omega")
    if Omega.shape != (D, D):
        raise ValueError(f"Omega must have shape {(D, D)} to match W, got {Omega.shape}")
    OW, OV = Omega @ W, Omega @ V
    return {"Q": W.T @ OW / D, "R": V.T @ OW / D ** 1.5, "T": V.T @ OV / D ** 2, "T0": V.T @ V / D}


def order_parameters_from_overlaps(A, B, rho_tilde):
    """Q = Aᵀdiag(ρ̃)A, R = Bᵀdiag(ρ̃)A, T = Bᵀdiag(ρ̃)B, T⁰ = BᵀB: the same dict as ``order_parameters``.

    The identity behind the closure of the ODEs: every order parameter is a sum over eigendirections.
    """
    A, B, rho_tilde = _check_overlaps(A, B, rho_tilde)
    rA = rho_tilde[:, None] * A
    return {"Q": A.T @ rA, "R": B.T @ rA, "T": B.T @ (rho_tilde[:, None] * B), "T0": B.T @ B}


def initial_state(W, V, Omega, b=None):
    """The ODE's initial condition from an SGD run's initial weights: overlaps A = ΨᵀW, B = ΨᵀV/√D, ρ̃ = ρ/D.

    Start ``solve_ae_ode`` from this and it starts from exactly the weights SGD starts from.

    Parameters
    ----------
    W, V : array_like, (D, K)
        Encoder and decoder weights, lab storage (column k = unit k).
    Omega : array_like, (D, D)
        Input covariance.
    b : array_like, (K,), optional
        Encoder bias; the ODEs assume it is zero (and untrained), so a non-zero b is refused.

    Returns
    -------
    AEOverlaps(A, B, rho_tilde)
    """
    W = _as_matrix(W, "W")
    D, K = W.shape
    V = _as_matrix(V, "V", (D, K))
    if b is not None:
        b = np.asarray(b, dtype=np.float64)
        if b.shape != (K,):
            raise ValueError(f"b must have shape ({K},), got {b.shape}")
        if np.any(b != 0):
            raise ValueError("b must be zero: the ODEs assume no encoder bias (train SGD with lr_b = 0)")
    Omega = _check_covariance(Omega, "Omega")
    if Omega.shape != (D, D):
        raise ValueError(f"Omega must have shape {(D, D)} to match W, got {Omega.shape}")
    rho, Psi = eigenbasis(Omega)
    return AEOverlaps(A=Psi.T @ W, B=Psi.T @ V / math.sqrt(D), rho_tilde=rho / D)


def pca_errors(rho_tilde, K):
    """ε_PCA(k) = ½ Σ_{τ>k} ρ̃_τ for k = 1…K: the error of reconstructing x from its top-k principal components.

    In the loss's normalisation ‖x − x̂‖²/(2D), with ρ̃ = eigenvalues of Ω / D (any order).
    Returns a (K,) array; entry k−1 is the floor of a k-unit linear autoencoder.
    """
    rho_tilde = np.sort(_check_spectrum(rho_tilde))[::-1]
    if not isinstance(K, (int, np.integer)) or isinstance(K, bool):
        raise TypeError(f"K must be an integer, got {type(K).__name__}")
    if not 1 <= K <= len(rho_tilde):
        raise ValueError(f"K must be in 1..{len(rho_tilde)}, got {K}")
    tail = np.cumsum(rho_tilde[::-1])[::-1]  # tail[k] = Σ_{τ≥k} (0-based)
    return 0.5 * np.append(tail[1:], 0.0)[:K]


def reconstruction_error(Q, R, T0, trace_omega, activation="linear"):
    """Population error ε = E‖x − x̂‖²/(2D) from order parameters, equation (1) of the module docstring.

    ε = ½ tr Ω/D − Σ_k R_kk ⟨g′(λ_k)⟩ + ½ Σ_kl T⁰_kl ⟨g(λ_k)g(λ_l)⟩, λ ~ N(0, Q); for linear g
    ε = ½ tr Ω/D − tr R + ½ tr(Q T⁰). Exact for Gaussian inputs at any D (b = 0).

    Parameters
    ----------
    Q, R, T0 : (K, K) arrays (R[k, l] = v_k·Ωw_l/D^{3/2}).
    trace_omega : float
        tr Ω / D (= Σ_τ ρ̃_τ).
    activation : {"linear", "erf"}
    """
    _check_activation(activation)
    Q = _as_matrix(Q, "Q")
    R, T0 = _as_matrix(R, "R", Q.shape), _as_matrix(T0, "T0", Q.shape)
    if Q.shape[0] != Q.shape[1]:
        raise ValueError(f"Q, R, T0 must be K×K arrays of one shape, got {Q.shape}")
    trace_omega = check_number(trace_omega, "trace_omega", low=0.0)
    if activation == "linear":
        return 0.5 * trace_omega - np.trace(R) + 0.5 * np.sum(Q * T0)  # Q symmetric: Σ Q_kl T⁰_kl = tr(QT⁰)
    avg = _erf_pair_averages(Q)
    return 0.5 * trace_omega - np.diag(R) @ avg["dg"] + 0.5 * np.sum(T0 * avg["gg"])


def cosine_overlaps(A, n_directions=None):
    """|cos| of the angle between unit k's weight vector and eigendirection τ: |A_τk| / ‖A_:,k‖ (τ rows).

    With A = ΨᵀW (or B) the columns' norms are the weight norms, so this is |w_k·ψ_τ|/‖w_k‖. A truncated
    (Sanger) autoencoder drives the top K×K block to the identity. ``n_directions`` keeps the first rows.
    """
    A = _as_matrix(A, "A")
    norms = np.linalg.norm(A, axis=0)
    if np.any(norms == 0):
        raise ValueError("A: a unit's weight vector is zero, so its angle to the eigendirections is undefined")
    if n_directions is not None and check_int(n_directions, "n_directions", 1) > A.shape[0]:
        raise ValueError(f"n_directions must be ≤ {A.shape[0]} (the rows of A), got {n_directions}")
    C = np.abs(A) / norms
    return C if n_directions is None else C[:n_directions]


# ------------------------------------------------------------------------------------ ODE right-hand sides
def linear_ae_rhs(A, B, rho_tilde, lr=1.0, lr_decoder=None, truncated=False):
    """dA/dt, dB/dt of the linear autoencoder, equation (4) of the module docstring, for all τ at once.

    da_k^τ/dt = η ρ̃_τ (b_k^τ − Σ_l T⁰_kl a_l^τ),  db_k^τ/dt = η_V (ρ̃_τ a_k^τ − Σ_l Q_kl b_l^τ),
    T⁰ → tril(T⁰), Q → tril(Q) when ``truncated`` (Sanger's rule). A, B: (D, K) rows τ; returns two (D, K).
    """
    lr_decoder = lr if lr_decoder is None else lr_decoder
    rA = rho_tilde[:, None] * A
    Q, T0 = A.T @ rA, B.T @ B
    if truncated:
        Q, T0 = np.tril(Q), np.tril(T0)
    # (A T⁰ᵀ)_τk = Σ_l T⁰_kl a_l^τ: the transpose matters once tril breaks the symmetry
    dA = lr * rho_tilde[:, None] * (B - A @ T0.T)
    dB = lr_decoder * (rA - B @ Q.T)
    return dA, dB


def erf_ae_rhs(A, B, rho_tilde, lr=1.0, lr_decoder=None, truncated=False):
    """dA/dt, dB/dt of the untied erf autoencoder (g(u) = erf(u/√2)), equations (2)–(3), for all τ at once.

    da_k^τ/dt = η ρ̃_τ [b_k^τ⟨g′_k⟩ + a_k^τ R_kk⟨g‴_k⟩ − Σ_l T⁰_kl (a_k^τ⟨g″_k g_l⟩ + a_l^τ⟨g′_k g′_l⟩)],
    db_k^τ/dt = η_V [ρ̃_τ a_k^τ⟨g′_k⟩ − Σ_l ⟨g_k g_l⟩ b_l^τ];
    ``truncated``: T⁰ (encoder) and ⟨g_k g_l⟩ (decoder) → lower triangles, l ≤ k.
    """
    lr_decoder = lr if lr_decoder is None else lr_decoder
    rA = rho_tilde[:, None] * A
    Q, R, T0 = A.T @ rA, B.T @ rA, B.T @ B
    avg = _erf_pair_averages(Q)
    G, dg = avg["gg"], avg["dg"]
    if truncated:
        T0, G = np.tril(T0), np.tril(G)
    # term a_k^τ [R_kk⟨g‴_k⟩ − Σ_l T⁰_kl⟨g″_k g_l⟩] (a per-unit factor) and −Σ_l T⁰_kl⟨g′_k g′_l⟩ a_l^τ (a mix)
    own = np.diag(R) * avg["dddg"] - np.sum(T0 * avg["ddg_g"], axis=1)
    mix = T0 * avg["dgdg"]  # [k, l]
    dA = lr * rho_tilde[:, None] * (B * dg + A * own - A @ mix.T)
    dB = lr_decoder * (rA * dg - B @ G.T)
    return dA, dB


# ---------------------------------------------------------------------------------------------- solve
def _rhs(activation, truncated, rho_tilde, lr, lr_decoder):
    step = linear_ae_rhs if activation == "linear" else erf_ae_rhs

    def f(t, y):  # autonomous: t unused; y = stack(A, B), (2, D, K)
        dA, dB = step(y[0], y[1], rho_tilde, lr, lr_decoder, truncated)
        return np.stack([dA, dB])
    return f


def solve_ae_ode(state, t_end, dt=0.01, lr=1.0, lr_decoder=None, activation="linear", truncated=False,
                 save_every=10, n_directions=None):
    """Integrate the autoencoder ODEs (4) (linear) or (2)–(3) (erf) from ``state`` — a pure solve, nothing fed back.

    Parameters
    ----------
    state : AEOverlaps
        From ``initial_state(W, V, Omega)`` (the same start as an SGD run).
    t_end, dt : float
        Time (= SGD steps / D) and RK4 step; check dt with ``rk4_error`` or by re-solving at dt/2.
    lr, lr_decoder : float
        η of the encoder (SGD's lr_W = η/D) and of the decoder (SGD's lr_V = η_V; default η).
    activation : {"linear", "erf"}
    truncated : bool
        Sanger's truncated rule (``online_ae_grads(..., truncated=True)``).
    save_every : int
        Record every this many RK4 steps.
    n_directions : int, optional
        How many leading eigendirections' overlaps to record (default min(D, 2K)).

    Returns
    -------
    dict: "t" (n,), "error" (n,) the population error (1), "Q", "R", "T0" (n, K, K), "A", "B" (n, n_directions, K)
    the leading overlaps, and "state" the AEOverlaps at t_end.
    """
    _check_activation(activation)
    if not isinstance(state, AEOverlaps):
        raise TypeError(f"state must be an AEOverlaps (from initial_state), got {type(state).__name__}")
    lr = _check_positive(lr, "lr")
    lr_decoder = lr if lr_decoder is None else _check_positive(lr_decoder, "lr_decoder")
    A0, B0, rho_tilde = _check_overlaps(*state)  # finite and real: a NaN state is not a step-size problem
    D, K = A0.shape
    n_dir = min(D, 2 * K) if n_directions is None else check_int(n_directions, "n_directions", 1)
    if n_dir > D:
        raise ValueError(f"n_directions must be ≤ D = {D}, got {n_dir}")
    trace_omega = float(rho_tilde.sum())

    def observe(y):
        op = order_parameters_from_overlaps(y[0], y[1], rho_tilde)
        err = reconstruction_error(op["Q"], op["R"], op["T0"], trace_omega, activation)
        return np.concatenate([[err], op["Q"].ravel(), op["R"].ravel(), op["T0"].ravel(), y[:, :n_dir].ravel()])

    t, obs, y = rk4(_rhs(activation, truncated, rho_tilde, lr, lr_decoder), np.stack([A0, B0]), t_end, dt,
                    observe, save_every)
    n, KK = len(t), K * K
    out = {"t": t, "error": obs[:, 0]}
    for i, name in enumerate(("Q", "R", "T0")):
        out[name] = obs[:, 1 + i * KK:1 + (i + 1) * KK].reshape(n, K, K)
    AB = obs[:, 1 + 3 * KK:].reshape(n, 2, n_dir, K)
    out["A"], out["B"] = AB[:, 0], AB[:, 1]
    out["state"] = AEOverlaps(y[0], y[1], rho_tilde)
    return out
