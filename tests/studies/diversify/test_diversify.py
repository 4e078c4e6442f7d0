"""Diversifying regularisation: pairs, hand values, every gradient against finite differences, the RBM chain,
saturation, the registry, bad input."""
import json

import numpy as np
import pytest

from pretrainlab.studies.diversify import regularizers as dv
from pretrainlab.gradcheck import numerical_gradient, rel_error
from pretrainlab.layers import sigmoid

TOL = 1e-6
RBM_TERMS = (dv.BhattacharyyaDR, dv.SymmetricKLDR)
ALL_TERMS = tuple(dv.TERMS.values())


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _batch(cls, rng, n=8, J=5):
    """h suited to the term (probabilities away from 0 and 1 for RBM terms, real codes otherwise) and labels
    with three classes and two unlabelled samples."""
    if cls in RBM_TERMS:
        h = rng.uniform(0.05, 0.95, (n, J))
    else:
        h = rng.normal(0.0, 1.0, (n, J))
    y = np.array([0, 1, 2, 0, -1, 1, 2, -1])[:n]
    return h, y


# -------------------------------------------------------------------------------------------- pairs
def test_pairs_have_different_labels_and_skip_unlabelled(rng):
    y = rng.integers(-1, 4, 50)
    for n_pairs in (None, 7, 300):
        p, q = dv.different_label_pairs(y, rng, n_pairs)
        assert p.shape == q.shape == ((np.sum(y >= 0),) if n_pairs is None else (n_pairs,))
        assert np.all(y[p] != y[q])
        assert np.all(y[p] >= 0) and np.all(y[q] >= 0)


def test_pairs_same_seed_same_pairs_and_generator_advances():
    y = np.arange(20) % 3
    p1, q1 = dv.different_label_pairs(y, np.random.default_rng(5))
    p2, q2 = dv.different_label_pairs(y, np.random.default_rng(5))
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(q1, q2)
    gen = np.random.default_rng(5)
    first = dv.different_label_pairs(y, gen)
    second = dv.different_label_pairs(y, gen)  # the generator has moved on: new pairs
    assert not (np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1]))
    p3, q3 = dv.different_label_pairs(y, 5)  # an int seed is a fresh Generator with that seed
    np.testing.assert_array_equal(p3, p1)


def test_pairs_are_uniform_over_different_label_ordered_pairs():
    # y = (0, 0, 1, 2, −1): the ordered pairs with different labels are the 10 below (index 4 never appears).
    y = np.array([0, 0, 1, 2, -1])
    allowed = {(i, j) for i in range(4) for j in range(4) if y[i] != y[j]}
    assert len(allowed) == 10
    n = 40_000
    p, q = dv.different_label_pairs(y, np.random.default_rng(1), n_pairs=n)
    pairs, counts = np.unique(np.stack([p, q], axis=1), axis=0, return_counts=True)
    assert {tuple(pq) for pq in pairs} == allowed
    # each frequency ≈ 1/10 with standard error √(0.1 · 0.9 / n) ≈ 0.0015; 0.008 is over 5 standard errors
    np.testing.assert_allclose(counts / n, 0.1, atol=0.008)


@pytest.mark.parametrize("y", [[3, 3, 3, 3], [-1, -1, -1], [2, -1, -1, 2], [5]])
def test_no_pairs_gives_zero_value_and_zero_gradient(y, rng):
    p, q = dv.different_label_pairs(np.array(y), rng)
    assert p.size == 0 and q.size == 0
    h = rng.uniform(0.1, 0.9, (len(y), 4)).astype(np.float32)
    for cls in ALL_TERMS:
        value, dh = cls(2.0)(h, np.array(y), rng=rng)
        assert value == 0.0
        assert dh.shape == h.shape and dh.dtype == h.dtype and not np.any(dh)


def test_weight_zero_draws_the_same_pairs_as_weight_one(rng):
    h, y = _batch(dv.BhattacharyyaDR, rng)
    g0, g1 = np.random.default_rng(7), np.random.default_rng(7)
    value, dh = dv.BhattacharyyaDR(0.0)(h, y, rng=g0)
    dv.BhattacharyyaDR(1.0)(h, y, rng=g1)
    assert value == 0.0 and not np.any(dh)
    assert g0.bit_generator.state == g1.bit_generator.state  # α = 0 is a fair baseline: same random stream


# -------------------------------------------------------------------------------------------- hand values
def test_hand_values_of_each_similarity():
    h = np.array([[0.5, 0.2], [0.5, 0.8]])
    p, q = np.array([0]), np.array([1])
    # c = (1, √.16 + √.16) = (1, 0.8), s = 0.9, times weight 2
    assert dv.BhattacharyyaDR(2.0).penalty(h, p, q)[0] == pytest.approx(1.8, rel=1e-9)
    # KL_sym per unit: 0 and (0.2 − 0.8)(ℓ(.2) − ℓ(.8)) = (−0.6)(−2 log 4); s = −(1.2 log 4)/2
    assert dv.SymmetricKLDR(1.0).penalty(h, p, q)[0] == pytest.approx(-0.6 * np.log(4), rel=1e-9)
    codes = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert dv.InnerProductDR(1.0).penalty(codes, p, q)[0] == pytest.approx(1 / 3)
    assert dv.CosineDR(1.0).penalty(codes, p, q)[0] == pytest.approx(0.5)
    # the mean over pairs: cos(codes0, codes1) = 0.5 and cos(codes0, codes2) = 1/√2
    two = dv.CosineDR(3.0).penalty(codes, np.array([0, 0]), np.array([1, 2]))[0]
    assert two == pytest.approx(3.0 * (0.5 + 1 / np.sqrt(2)) / 2)


def test_identical_codes_are_most_similar():
    a = np.array([[0.3, 0.9, 0.1, 0.6]])
    s_same = dv.BhattacharyyaDR(1.0).similarity(a, a)[0]
    s_kl = dv.SymmetricKLDR(1.0).similarity(a, a)[0]
    np.testing.assert_allclose(s_same, 1.0)
    np.testing.assert_allclose(s_kl, 0.0, atol=1e-15)
    other = np.array([[0.7, 0.1, 0.9, 0.4]])
    assert dv.BhattacharyyaDR(1.0).similarity(a, other)[0] < 1.0
    assert dv.SymmetricKLDR(1.0).similarity(a, other)[0] < 0.0


# -------------------------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("n_pairs", [None, 20])  # 20 pairs from 6 labelled rows: rows repeat, gradients add up
@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_dh_matches_finite_differences(cls, n_pairs, rng):
    h, y = _batch(cls, rng)
    term = cls(0.7, n_pairs=n_pairs)
    seed = 11  # an int seed makes a fresh Generator per call: the same pairs in every evaluation
    value, dh = term(h, y, rng=seed)
    numeric = numerical_gradient(lambda: term(h, y, rng=seed)[0], h)
    assert np.any(dh)
    assert rel_error(dh, numeric) <= TOL
    assert not np.any(dh[y < 0])  # unlabelled rows take no part


@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_dh_matches_finite_differences_with_a_rewound_generator(cls, rng):
    h, y = _batch(cls, rng)
    term = cls(1.3)
    gen = np.random.default_rng(3)
    state = gen.bit_generator.state

    def evaluate():
        gen.bit_generator.state = state  # the other way to fix the pairs: rewind the model's generator
        return term(h, y, rng=gen)

    dh = evaluate()[1]
    assert rel_error(dh, numerical_gradient(lambda: evaluate()[0], h)) <= TOL


@pytest.mark.parametrize("cls", RBM_TERMS, ids=lambda c: c.kind)
def test_rbm_prior_gradient_through_the_sigmoid(cls, rng):
    # R(W, b_hid) = term(σ(vW + b_hid)) for a fixed batch v and fixed pairs; chain by hand:
    # dx = dh ⊙ a(1 − a),  ∂R/∂W = vᵀ dx,  ∂R/∂b_hid = Σ_n dx_n.
    n, n_visible, n_hidden = 8, 7, 4
    v = (rng.random((n, n_visible)) < 0.5).astype(float)
    W = rng.normal(0.0, 0.5, (n_visible, n_hidden))
    b_hid = rng.normal(0.0, 0.5, n_hidden)
    y = np.array([0, 1, 2, 0, -1, 1, 2, 1])
    p, q = dv.different_label_pairs(y, np.random.default_rng(2), n_pairs=12)
    term = cls(0.9)

    def R():
        return term.penalty(sigmoid(v @ W + b_hid), p, q)[0]

    a = sigmoid(v @ W + b_hid)
    _, dh = term.penalty(a, p, q)
    dx = dh * a * (1 - a)
    assert rel_error(v.T @ dx, numerical_gradient(R, W)) <= TOL
    assert rel_error(dx.sum(axis=0), numerical_gradient(R, b_hid)) <= TOL


def test_cosine_gradient_is_orthogonal_to_the_code(rng):
    a, b = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    _, ds_da, ds_db = dv.CosineDR(1.0).similarity(a, b)
    np.testing.assert_allclose(np.einsum("kj,kj->k", ds_da, a), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("kj,kj->k", ds_db, b), 0.0, atol=1e-12)


def test_cosine_zero_code_counts_as_orthogonal():
    codes = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [2.0, 4.0, 0.0]])
    value, dh = dv.CosineDR(1.0).penalty(codes, np.array([0, 1]), np.array([1, 2]))
    assert value == pytest.approx((0.0 + 1.0) / 2)  # the zero pair adds 0 but counts in K = 2
    assert np.all(np.isfinite(dh)) and not np.any(dh[0])


def test_float32_h_gives_float32_dh(rng):
    h, y = _batch(dv.BhattacharyyaDR, rng)
    value, dh = dv.BhattacharyyaDR(1.0)(h.astype(np.float32), y, rng=0)
    assert dh.dtype == np.float32 and isinstance(value, float)
    np.testing.assert_allclose(dh, dv.BhattacharyyaDR(1.0)(h, y, rng=0)[1], rtol=1e-4, atol=1e-7)


# -------------------------------------------------------------------------------------------- saturation
def test_bhattacharyya_is_bounded_and_finite_at_saturated_units():
    h = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]], dtype=np.float32)
    term = dv.BhattacharyyaDR(2.0)
    opposite, dh = term.penalty(h, np.array([0]), np.array([1]))
    assert np.all(np.isfinite(dh))
    assert 0.0 <= opposite <= 2.0 * 2 * np.sqrt(1e-6) + 1e-12  # c_j = 2√(eps(1 − eps)) after the clip
    same, dh_same = term.penalty(h, np.array([0]), np.array([2]))
    assert same == pytest.approx(2.0, rel=1e-6) and np.all(np.isfinite(dh_same))


def test_bhattacharyya_logit_gradient_is_bounded_by_half_per_unit(rng):
    # ∂c/∂x_a = ½ r (1 − a) − ½ t a: at most ½ in size for every logit, saturated or not.
    J = 6
    x = rng.uniform(-30, 30, (2, J))
    a = sigmoid(x)
    weight = 3.0
    _, dh = dv.BhattacharyyaDR(weight).penalty(a, np.array([0]), np.array([1]))
    dx = dh * a * (1 - a)
    assert np.all(np.isfinite(dx))
    assert np.max(np.abs(dx)) <= 0.5 * weight / J + 1e-12


def test_symmetric_kl_grows_without_bound_as_the_clip_shrinks():
    h = np.array([[1.0, 0.0], [0.0, 1.0]])
    values = [dv.SymmetricKLDR(1.0, eps=eps).penalty(h, np.array([0]), np.array([1]))[0]
              for eps in (1e-3, 1e-6, 1e-9)]
    assert all(np.isfinite(values))
    assert values[0] > values[1] > values[2]  # −KL_sym keeps falling: only the clip stops it
    assert values[2] == pytest.approx(-2 * np.log(1e9), rel=1e-3)  # ≈ −(1 − 2eps)·2 log((1 − eps)/eps)


# -------------------------------------------------------------------------------------------- registry
@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_config_round_trip(cls, rng):
    term = cls(0.25, n_pairs=9)
    config = json.loads(json.dumps(term.config()))
    assert config["kind"] == cls.kind and dv.TERMS[cls.kind] is cls
    rebuilt = dv.from_config(config)
    assert type(rebuilt) is cls and rebuilt.config() == term.config()
    h, y = _batch(cls, rng)
    assert rebuilt(h, y, rng=4)[0] == term(h, y, rng=4)[0]


def test_default_rbm_kind_is_the_bounded_bhattacharyya_term():
    assert dv.TERMS[dv.DEFAULT_RBM_KIND] is dv.BhattacharyyaDR


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_bad_constructor_arguments(cls):
    with pytest.raises(TypeError, match="weight"):
        cls("1")
    with pytest.raises(ValueError, match="weight"):
        cls(-0.1)
    with pytest.raises(ValueError, match="weight"):
        cls(np.nan)
    with pytest.raises(ValueError, match="n_pairs"):
        cls(1.0, n_pairs=0)
    with pytest.raises(TypeError, match="n_pairs"):
        cls(1.0, n_pairs=2.5)


def test_bad_eps():
    for cls in RBM_TERMS:
        with pytest.raises(ValueError, match="eps"):
            cls(1.0, eps=0.0)
        with pytest.raises(ValueError, match="eps"):
            cls(1.0, eps=0.7)
    with pytest.raises(ValueError, match="eps"):
        dv.CosineDR(1.0, eps=-1.0)
    with pytest.raises(TypeError, match="eps"):
        dv.CosineDR(1.0, eps="small")


@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_bad_call_arguments(cls, rng):
    h, y = _batch(cls, rng)
    term = cls(1.0)
    with pytest.raises(ValueError, match="h must be a 2-D array"):
        term(h[0], y[:1], rng=0)
    with pytest.raises(ValueError, match="y is required"):
        term(h, rng=0)
    with pytest.raises(ValueError, match="y must have 8 entries"):
        term(h, y[:5], rng=0)
    with pytest.raises(TypeError, match="y must hold integer"):
        term(h, y + 0.5, rng=0)
    with pytest.raises(ValueError, match="y must hold labels ≥ 0, or −1"):
        term(h, np.where(y < 0, -2, y), rng=0)
    with pytest.raises(ValueError, match="y must be a 1-D array"):
        term(h, y[:, None], rng=0)
    with pytest.raises(TypeError, match="rng is required"):
        term(h, y)
    with pytest.raises(TypeError, match="rng must be"):
        term(h, y, rng="seed")
    h_nan = h.copy()
    h_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="h contains NaN"):
        term(h_nan, y, rng=0)


def test_rbm_terms_need_probabilities(rng):
    h, y = _batch(dv.InnerProductDR, rng)  # normal codes: outside [0, 1]
    for cls in RBM_TERMS:
        with pytest.raises(ValueError, match=r"h must have values in \[0.0, 1.0\]"):
            cls(1.0)(h, y, rng=0)


def test_bad_pair_indices(rng):
    h = rng.uniform(0.1, 0.9, (4, 3))
    term = dv.BhattacharyyaDR(1.0)
    with pytest.raises(ValueError, match="p must hold row indices in 0..3"):
        term.penalty(h, np.array([4]), np.array([0]))
    with pytest.raises(ValueError, match="p and q must have the same length"):
        term.penalty(h, np.array([0, 1]), np.array([2]))
    with pytest.raises(TypeError, match="q must hold integer row indices"):
        term.penalty(h, np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="n_pairs"):
        dv.different_label_pairs(np.array([0, 1]), rng, n_pairs=0)


def test_bad_configs():
    with pytest.raises(TypeError, match="config must be a dict"):
        dv.from_config("bhattacharyya")
    with pytest.raises(ValueError, match=r"config\['kind'\] must be one of"):
        dv.from_config({"kind": "hellinger", "weight": 1.0})
    with pytest.raises(TypeError, match="unknown keys"):
        dv.from_config({"kind": "cosine", "weight": 1.0, "alpha": 1000})


# -------------------------------------------------------------------------------------------- study 3's controls
@pytest.mark.parametrize("pairs, rule", [("same", lambda a, b: a == b), ("random", lambda a, b: True)])
def test_control_pairs_are_uniform_over_their_ordered_pairs(pairs, rule):
    # y = (0, 0, 1, 1, 1, 2, −1): "same" has the 2 + 6 ordered pairs inside classes 0 and 1 (never i = j, never the
    # lone 2, never the unlabelled 6); "random" all 6·5 = 30 ordered pairs of the labelled rows
    y = np.array([0, 0, 1, 1, 1, 2, -1])
    allowed = {(i, j) for i in range(6) for j in range(6) if i != j and rule(y[i], y[j])}
    n = 60_000
    p, q = dv.PAIRINGS[pairs](y, np.random.default_rng(1), n_pairs=n)
    found, counts = np.unique(np.stack([p, q], axis=1), axis=0, return_counts=True)
    assert {tuple(pq) for pq in found} == allowed
    f = 1 / len(allowed)  # each frequency within 5 standard errors of uniform
    np.testing.assert_allclose(counts / n, f, atol=5 * np.sqrt(f * (1 - f) / n))
    p, q = dv.PAIRINGS[pairs](y, np.random.default_rng(2))  # default: one pair per labelled sample
    assert p.size == 6


@pytest.mark.parametrize("y", [[0, 1, 2, -1], [-1, -1], [4]])
def test_same_label_pairs_need_two_members_of_a_class(y, rng):
    p, q = dv.same_label_pairs(np.array(y), rng)
    assert p.size == q.size == 0
    assert dv.random_pairs(np.array([3, -1]), rng)[0].size == 0


@pytest.mark.parametrize("pairs", ["same", "random"])
@pytest.mark.parametrize("cls", ALL_TERMS, ids=lambda c: c.kind)
def test_control_terms_dh_matches_finite_differences(cls, pairs, rng):
    h, y = _batch(cls, rng)
    term = cls(0.7, n_pairs=20, pairs=pairs)
    value, dh = term(h, y, rng=11)
    numeric = numerical_gradient(lambda: term(h, y, rng=11)[0], h)  # float64, the same pairs every call
    assert np.any(dh) and rel_error(dh, numeric) <= TOL
    assert not np.any(dh[y < 0])
    # the control differs from the diversifying term only in its pairs
    p, q = dv.PAIRINGS[pairs](y, np.random.default_rng(11), 20)
    assert value == pytest.approx(cls(0.7, pairs="different").penalty(h, p, q)[0], rel=1e-12)


def test_pairs_round_trip_and_bad_pairs():
    term = dv.BhattacharyyaDR(2.0, pairs="random")
    assert dv.from_config(json.loads(json.dumps(term.config()))).pairs == "random"
    assert dv.from_config({"kind": "inner_product", "weight": 1.0}).pairs == "different"  # older configs
    for cls in ALL_TERMS:
        with pytest.raises(ValueError, match="pairs must be one of"):
            cls(1.0, pairs="all")
