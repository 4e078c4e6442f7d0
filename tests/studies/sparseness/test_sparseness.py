"""Sparseness measures on hand-made vectors: extremes, hand-computed middles, invariances, axes, bad input."""
import json

import numpy as np
import pytest

from pretrainlab.studies.sparseness import measures as sp


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -------------------------------------------------------------------------------------------- Hoyer
@pytest.mark.parametrize("n", [2, 3, 10, 500])
def test_hoyer_one_hot_is_one_and_constant_is_zero(n):
    one_hot = np.zeros(n)
    one_hot[n // 2] = 3.0
    assert sp.hoyer(one_hot) == pytest.approx(1.0, abs=1e-12)
    assert sp.hoyer(np.full(n, 0.7)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n, k", [(4, 2), (4, 3), (9, 4), (100, 25)])
def test_hoyer_k_equal_entries_by_hand(n, k):
    # k equal non-zeros: ‖a‖₁ = k, ‖a‖₂ = √k, so H = (√n − √k)/(√n − 1); e.g. (1,1,0,0) → 2 − √2.
    a = np.zeros(n)
    a[:k] = 1.0
    assert sp.hoyer(a) == pytest.approx((np.sqrt(n) - np.sqrt(k)) / (np.sqrt(n) - 1), rel=1e-12)


def test_hoyer_hand_values():
    assert sp.hoyer([1, 1, 0, 0]) == pytest.approx(2 - np.sqrt(2), rel=1e-12)
    # (3, 4): ‖a‖₁ = 7, ‖a‖₂ = 5, H = (√2 − 1.4)/(√2 − 1)
    assert sp.hoyer([3.0, 4.0]) == pytest.approx((np.sqrt(2) - 1.4) / (np.sqrt(2) - 1), rel=1e-12)
    # magnitudes: signs do not matter (a tanh unit at −1 is as active as one at +1)
    assert sp.hoyer([-3.0, 4.0]) == pytest.approx(sp.hoyer([3.0, 4.0]), rel=1e-12)


def test_hoyer_scale_and_permutation_invariant_in_range(rng):
    a = rng.random((6, 20)) ** 3
    h = sp.hoyer(a)
    assert h.shape == (6,) and np.all((h > 0) & (h < 1))
    for c in (1e-200, 1e-3, 7.0, 1e200):  # the peak normalisation keeps even extreme scales exact
        np.testing.assert_allclose(sp.hoyer(c * a), h, rtol=1e-12)
    np.testing.assert_allclose(sp.hoyer(a[:, rng.permutation(20)]), h, rtol=1e-12)


def test_hoyer_sparser_vector_scores_higher():
    assert sp.hoyer([1, 0.1, 0.1, 0.1]) > sp.hoyer([1, 0.5, 0.5, 0.5]) > sp.hoyer([1, 0.9, 0.9, 0.9])


def test_hoyer_population_and_lifetime_axes(rng):
    A = rng.random((7, 5))
    pop, life = sp.population_hoyer(A), sp.lifetime_hoyer(A)
    assert pop.shape == (7,) and life.shape == (5,)
    np.testing.assert_allclose(pop, [sp.hoyer(row) for row in A], rtol=1e-12)
    np.testing.assert_allclose(life, [sp.hoyer(col) for col in A.T], rtol=1e-12)
    np.testing.assert_allclose(sp.hoyer(A, axis=0), life, rtol=1e-12)


def test_hoyer_all_zero_vector_convention():
    A = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(sp.population_hoyer(A), [1.0, 0.0])
    assert np.isnan(sp.hoyer(np.zeros(4), zero_value=np.nan))
    assert sp.hoyer(np.zeros(4), zero_value=0.25) == 0.25


def test_hoyer_float32_and_int_input():
    assert sp.hoyer(np.array([1, 1, 0, 0], dtype=np.float32)) == pytest.approx(2 - np.sqrt(2), rel=1e-6)
    assert sp.hoyer(np.array([1, 1, 0, 0])) == pytest.approx(2 - np.sqrt(2), rel=1e-12)
    assert sp.hoyer(np.array([True, False, False])) == pytest.approx(1.0)


# -------------------------------------------------------------------------------------------- Gini
def _gini_pairwise(c):
    """The mean-absolute-difference form Σ_i Σ_j |c_i − c_j| / (2 n Σ c): a second, independent formula."""
    c = np.abs(np.asarray(c, float))
    return np.abs(c[:, None] - c[None, :]).sum() / (2 * len(c) * c.sum())


@pytest.mark.parametrize("n", [2, 5, 500])
def test_gini_one_hot_and_constant(n):
    one_hot = np.zeros(n)
    one_hot[0] = 2.5
    assert sp.gini(one_hot) == pytest.approx(1 - 1 / n, rel=1e-12)
    assert sp.gini(np.full(n, 0.3)) == pytest.approx(0.0, abs=1e-12)


def test_gini_hand_values():
    # (0, 0, 1, 1): sorted terms k = 3, 4 give (1/2)(1.5/4) + (1/2)(0.5/4) = 1/4, G = 1 − 2/4 = 1/2
    assert sp.gini([1, 0, 1, 0]) == pytest.approx(0.5, rel=1e-12)
    # (1, 2, 3): pairwise |differences| sum to 8, G = 8 / (2·3·6) = 2/9
    assert sp.gini([3, 1, 2]) == pytest.approx(2 / 9, rel=1e-12)


def test_gini_matches_pairwise_form_and_is_scale_invariant(rng):
    A = rng.random((5, 11)) ** 2 * rng.choice([-1, 1], (5, 11))
    g = sp.gini(A)
    np.testing.assert_allclose(g, [_gini_pairwise(row) for row in A], rtol=1e-12)
    for c in (1e-100, 0.01, 1e100):
        np.testing.assert_allclose(sp.gini(c * A), g, rtol=1e-10)
    np.testing.assert_allclose(sp.lifetime_gini(A), [_gini_pairwise(col) for col in A.T], rtol=1e-12)
    np.testing.assert_allclose(sp.population_gini(A), g, rtol=1e-12)


def test_gini_all_zero_convention():
    assert sp.gini(np.zeros(3)) == 1.0
    assert np.isnan(sp.gini(np.zeros(3), zero_value=np.nan))


# -------------------------------------------------------------------------------------------- size-based measures
def test_l1_norm_and_mean_activation():
    a = np.array([[1.0, -2.0, 0.0, 3.0], [0.5, 0.5, 0.5, 0.5]])
    np.testing.assert_allclose(sp.l1_norm(a), [6.0, 2.0])
    np.testing.assert_allclose(sp.mean_activation(a), [1.5, 0.5])
    np.testing.assert_allclose(sp.mean_activation(a, axis=0), [0.75, 1.25, 0.25, 1.75])
    assert sp.l1_norm(a, axis=None) == pytest.approx(8.0)
    assert isinstance(sp.mean_activation([0.2, 0.4]), float)


def test_fraction_below_counts_exact_zeros_with_threshold_zero():
    relu = np.array([0.0, 0.0, 0.3, 1.2, 0.0])
    assert sp.fraction_below(relu, 0.0) == pytest.approx(3 / 5)  # ≤, so τ = 0 counts the exact zeros
    assert sp.fraction_below(relu, 0.3) == pytest.approx(4 / 5)  # the boundary value counts as below
    assert sp.fraction_below(relu, 0.29) == pytest.approx(3 / 5)
    assert sp.fraction_below([-0.05, 0.5], 0.1) == pytest.approx(0.5)  # magnitudes
    np.testing.assert_allclose(sp.fraction_below(np.array([[0.0, 1.0], [0.0, 0.0]]), 0.0, axis=0), [1.0, 0.5])


# -------------------------------------------------------------------------------------------- summary
def test_summary_of_a_hand_made_layer():
    A = np.array([[1.0, 0.0, 0.0, 0.0],
                  [1.0, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0],
                  [0.5, 0.5, 0.0, 0.0]])
    s = sp.summary(A, threshold=0.5)
    assert s["population_hoyer"] == pytest.approx((1 + (2 - np.sqrt(2)) + 1 + (2 - np.sqrt(2))) / 4)
    # columns: (1, 1, 0, .5), (0, 1, 0, .5), 0, 0 — the last two are dead units (Hoyer convention 1)
    col0 = (2 - 2.5 / np.sqrt(2.25)) / 1
    col1 = (2 - 1.5 / np.sqrt(1.25)) / 1
    assert s["lifetime_hoyer"] == pytest.approx((col0 + col1 + 2) / 4)
    assert s["population_gini"] == pytest.approx(np.mean(sp.population_gini(A)))
    assert s["lifetime_gini"] == pytest.approx(np.mean(sp.lifetime_gini(A)))
    assert s["l1_norm"] == pytest.approx((1 + 2 + 0 + 1) / 4)
    assert s["mean_activation"] == pytest.approx(4 / 16)
    assert s["fraction_zero"] == pytest.approx(11 / 16)
    assert s["fraction_below"] == pytest.approx(13 / 16)
    assert (s["n_silent_samples"], s["n_dead_units"], s["n_samples"], s["n_units"]) == (1, 2, 4, 4)
    assert json.loads(json.dumps(s)) == s


def test_summary_sparser_layer_scores_sparser(rng):
    dense = rng.uniform(0.4, 0.6, (50, 20))
    sparse = dense * (rng.random((50, 20)) < 0.1)
    d, s = sp.summary(dense), sp.summary(sparse)
    for key in ("population_hoyer", "lifetime_hoyer", "population_gini", "lifetime_gini", "fraction_zero"):
        assert s[key] > d[key], key
    assert s["mean_activation"] < d["mean_activation"]


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("func", [sp.hoyer, sp.gini, sp.l1_norm, sp.mean_activation])
def test_bad_arrays_raise_naming_a(func):
    with pytest.raises(TypeError, match="a must"):
        func("abc")
    with pytest.raises(TypeError, match="a must"):
        func(None)
    with pytest.raises(TypeError, match="a must"):
        func(np.array([object(), 1]))
    with pytest.raises(ValueError, match="a must have at least one dimension"):
        func(3.0)
    with pytest.raises(ValueError, match="a must not be empty"):
        func(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="a contains NaN"):
        func([1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="axis must be in"):
        func(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis must be an integer"):
        func(np.ones((2, 3)), axis=1.0)


def test_hoyer_needs_two_entries_and_a_numeric_zero_value():
    with pytest.raises(ValueError, match="at least 2 entries along axis 1"):
        sp.hoyer(np.ones((3, 1)), axis=1)
    with pytest.raises(TypeError, match="zero_value"):
        sp.hoyer([1.0, 0.0], zero_value="nan")
    with pytest.raises(TypeError, match="axis must be an integer"):
        sp.hoyer([1.0, 0.0], axis=None)


def test_fraction_below_threshold_checked():
    with pytest.raises(ValueError, match="threshold"):
        sp.fraction_below([0.1, 0.2], -0.1)
    with pytest.raises(ValueError, match="threshold"):
        sp.fraction_below([0.1, 0.2], np.nan)
    with pytest.raises(TypeError, match="threshold"):
        sp.fraction_below([0.1, 0.2], "0.1")


def test_two_dimensional_functions_check_A():
    for func in (sp.population_hoyer, sp.lifetime_hoyer, sp.population_gini, sp.lifetime_gini, sp.summary):
        with pytest.raises(ValueError, match="A must be a 2-D array"):
            func(np.ones(4))
    with pytest.raises(ValueError, match="A must have at least 2 samples and 2 units"):
        sp.summary(np.ones((1, 4)))
    with pytest.raises(ValueError, match="threshold"):
        sp.summary(np.ones((3, 4)), threshold=-1)
