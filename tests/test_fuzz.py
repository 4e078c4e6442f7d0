"""Fuzzing the public entry points with generated bad input (hypothesis): every refusal is the documented
error type, names the argument, and leaves the model's parameters as they were."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="install the [dev] extra for the fuzz suite")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from pretrainlab import MLP, BernoulliRBM, ContrastiveDivergence, TiedAutoencoder  # noqa: E402

N_VISIBLE = 6
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# bad batches: wrong width, wrong rank, empty, NaN/inf, out of [0, 1], complex, strings, ragged lists
bad_batches = st.one_of(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 9).filter(lambda n: n != N_VISIBLE))),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))),
    hnp.arrays(np.float64, st.tuples(st.just(0), st.just(N_VISIBLE))),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.just(N_VISIBLE)),
               elements=st.sampled_from([np.nan, np.inf, -np.inf, 2.0, -1.0])),
    hnp.arrays(np.complex128, st.tuples(st.integers(1, 3), st.just(N_VISIBLE))),
    st.just("not an array"), st.none(), st.just([[0.0] * N_VISIBLE, [0.0] * 3]),
)


def models():
    rbm = BernoulliRBM(N_VISIBLE, 3, rng=0)
    return [
        ("rbm.free_energy", rbm, rbm.free_energy),
        ("cd", rbm, ContrastiveDivergence(BernoulliRBM(N_VISIBLE, 3, rng=0), k=1)),
        ("ae.loss_and_grads", TiedAutoencoder(N_VISIBLE, 3, rng=0), None),
        ("mlp.loss_and_grads", MLP([N_VISIBLE, 4, 3], rng=0), None),
    ]


@pytest.mark.parametrize("name", [m[0] for m in models()])
@FUZZ
@given(x=bad_batches)
def test_bad_batches_are_refused_without_changing_the_model(name, x):
    _, model, fn = next(m for m in models() if m[0] == name)
    if name == "cd":
        model = fn.rbm
    fn = fn or (lambda batch: model.loss_and_grads(batch, np.zeros(4, int)))  # x is checked before y
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises((ValueError, TypeError)) as err:
        fn(x)
    assert any(word in str(err.value) for word in ("v ", "v must", "x ", "x must", "v contains", "x contains",
                                                    "y must")), str(err.value)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)


bad_numbers = st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(max_value=-1e-9),
                        st.none(), st.text(max_size=3))


@FUZZ
@given(value=bad_numbers, which=st.sampled_from(["weight_decay", "sparsity_weight", "noise_level"]))
def test_bad_hyper_parameters_name_themselves(value, which):
    kwargs = {which: value}
    if which == "noise_level":
        kwargs["noise"] = "gaussian"
    with pytest.raises((ValueError, TypeError), match=which):
        TiedAutoencoder(N_VISIBLE, 3, **kwargs)


@FUZZ
@given(labels=hnp.arrays(np.int64, st.just(4), elements=st.integers(-5, 12)).filter(
    lambda y: y.min() < 0 or y.max() > 2))
def test_labels_out_of_range_are_refused(labels):
    mlp = MLP([N_VISIBLE, 4, 3], rng=0)
    with pytest.raises(ValueError, match="y must be in 0..2"):
        mlp.loss_and_grads(np.zeros((4, N_VISIBLE)), labels)
