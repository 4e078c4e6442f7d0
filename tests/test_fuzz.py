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


# ---------------------------------------------------------------------------------------------- properties
from pretrainlab import SGD, Trainer, kernels  # noqa: E402
from pretrainlab.checkpoint import read_npz  # noqa: E402


def _estimators(seed):
    """(name, model, step) for every estimator the trainer drives: CD-k, PCD, the autoencoder, the MLP."""
    rbm_cd, rbm_pcd = BernoulliRBM(N_VISIBLE, 3, rng=seed), BernoulliRBM(N_VISIBLE, 3, rng=seed)
    ae, mlp = TiedAutoencoder(N_VISIBLE, 3, rng=seed, noise="mask", noise_level=0.2), MLP([N_VISIBLE, 4, 3], rng=seed)
    return [("cd-2", rbm_cd, ContrastiveDivergence(rbm_cd, k=2)),
            ("pcd", rbm_pcd, ContrastiveDivergence(rbm_pcd, k=1, persistent=True, n_chains=5)),
            ("ae", ae, None), ("mlp", mlp, None)]


def _train(name, seed, epochs, checkpoint=None, resume=False, backend="auto"):
    _, model, step = next(e for e in _estimators(seed) if e[0] == name)
    rng = np.random.default_rng(100 + seed)
    x, y = (rng.random((12, N_VISIBLE)) < 0.4).astype(np.float32), rng.integers(0, 3, 12)
    trainer = Trainer(model, SGD(model.params, lr=0.1, momentum=0.5), step=step, batch_size=4, rng=seed,
                      checkpoint=checkpoint, verbose=False)
    with kernels.backend(backend):
        trainer.fit(x, y if name == "mlp" else None, epochs=epochs, resume=resume)
    return model


@pytest.mark.parametrize("name", ["cd-2", "pcd", "ae", "mlp"])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_same_seed_is_bit_identical_on_each_backend(name, seed):
    for backend in ("numpy", "numba"):
        a, b = _train(name, seed, 2, backend=backend), _train(name, seed, 2, backend=backend)
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])


@pytest.mark.parametrize("name", ["cd-2", "pcd", "ae", "mlp"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 16), stop=st.integers(1, 3))
def test_resume_equals_the_uninterrupted_run_and_checkpoints_are_finite(name, seed, stop, tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    whole = _train(name, seed, 4)
    _train(name, seed, stop, checkpoint=folder / "ck.npz")
    resumed = _train(name, seed, 4, checkpoint=folder / "ck.npz", resume=True)
    for k in whole.params:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])
    saved = read_npz(folder / "ck.npz")
    assert all(np.all(np.isfinite(v)) for v in saved.values() if v.dtype.kind == "f")
