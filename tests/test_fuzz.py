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


# ---------------------------------------------------------------------------------------------- issue 33: loaders
# The newer entry points and crafted files, with one property: a refused call raises the documented error and
# leaves every object as it was; an accepted one is a valid load.
import copy  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from pretrainlab.checkpoint import load_model  # noqa: E402

_CHECKPOINT = {}


def _pcd_checkpoint():
    """A 1-epoch PCD trainer checkpoint's arrays (made once)."""
    if not _CHECKPOINT:
        folder = Path(tempfile.mkdtemp())
        rbm = BernoulliRBM(N_VISIBLE, 3, rng=0)
        Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=ContrastiveDivergence(rbm, persistent=True,
                                                                                      n_chains=4),
                batch_size=4, rng=0, checkpoint=folder / "ck.npz", verbose=False).fit(
            (np.random.default_rng(0).random((8, N_VISIBLE)) < 0.5).astype(np.float32), epochs=1)
        _CHECKPOINT.update(read_npz(folder / "ck.npz"), folder=folder)
    return _CHECKPOINT


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=3), max_leaves=8)
bad_arrays = st.one_of(
    hnp.arrays(st.sampled_from([np.float32, np.float64, np.complex128, np.int64, np.bool_]),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=7)),
    hnp.arrays(np.float64, st.just((N_VISIBLE, 3)), elements=st.sampled_from([np.nan, np.inf, 0.5, 2.0])),
    hnp.arrays(np.float32, st.just((4, N_VISIBLE)), elements=st.sampled_from([0.0, 1.0, 0.5, np.nan])),
    st.text(max_size=5).map(np.array))
entries = ["param/W", "param/b_vis", "velocity/W", "velocity/b_hid", "step/chains", "__meta__", "__trainer__"]
trainer_fields = ["epoch", "history", "rng", "early_stopping"]


def _snapshot(trainer):
    return copy.deepcopy((trainer.model.params, trainer.optimizer.velocity, trainer.step.chains, trainer.epoch,
                          trainer.history.records, trainer.rng.bit_generator.state,
                          trainer.model.rng.bit_generator.state))


def _same(a, b):
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return a == b


@FUZZ
@given(key=st.sampled_from(entries), value=bad_arrays, field=st.sampled_from(trainer_fields), field_value=json_values,
       edit_field=st.booleans())
def test_a_crafted_checkpoint_is_refused_or_loaded_and_a_refusal_changes_nothing(key, value, field, field_value,
                                                                                 edit_field):
    base = _pcd_checkpoint()
    arrays = {k: v for k, v in base.items() if k != "folder"}
    if edit_field:
        state = json.loads(str(arrays["__trainer__"]))
        state[field] = field_value
        arrays["__trainer__"] = np.array(json.dumps(state))
    else:
        arrays[key] = value
    path = base["folder"] / "crafted.npz"
    np.savez(path, **arrays)
    rbm = BernoulliRBM(N_VISIBLE, 3, rng=1)
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.1), step=ContrastiveDivergence(rbm, persistent=True, n_chains=4),
                      rng=1, verbose=False)
    before = _snapshot(trainer)
    try:
        trainer.load_checkpoint(path)
    except ValueError as err:
        hypothesis.event("refused")
        assert str(err).startswith("path: "), str(err)
        assert _same(_snapshot(trainer), before)
    else:  # accepted: then everything it wrote is of the model's kind
        hypothesis.event("loaded")
        assert all(np.all(np.isfinite(p)) and p.dtype == np.float32 for p in rbm.params.values())
        chains = trainer.step.chains
        assert chains is None or np.all((chains == 0) | (chains == 1))
        assert isinstance(trainer.epoch, int) and trainer.epoch >= 0


@FUZZ
@given(sizes=st.fixed_dictionaries({"n_visible": st.integers(1, 10 ** 7) | json_values,
                                    "n_hidden": st.integers(1, 10 ** 7) | json_values}),
       layers=st.lists(st.integers(1, 10 ** 7), max_size=4) | json_values,
       extra=st.fixed_dictionaries({}, optional={"dtype": st.sampled_from(["float32", "float64", "float16"])
                                                 | json_values, "activation": json_values}),
       cls=st.sampled_from(["BernoulliRBM", "MLP", "TiedAutoencoder", "GaussianBernoulliRBM"]))
def test_a_crafted_model_file_is_refused_with_a_value_error_never_a_crash(sizes, layers, extra, cls,
                                                                          tmp_path_factory):
    config = dict({"layer_sizes": layers} if cls == "MLP" else sizes, **extra)
    path = tmp_path_factory.mktemp("model") / "m.npz"
    np.savez(path, __meta__=np.array(json.dumps({"class": cls, "config": config})),
             **{"param/W": np.zeros((N_VISIBLE, 3), np.float32)})
    try:
        model = load_model(path)
    except ValueError as err:
        hypothesis.event("refused")
        assert "path: " in str(err)
    else:
        hypothesis.event("loaded")
        assert sum(p.size for p in model.params.values()) <= 10 * N_VISIBLE * 3


@FUZZ
@given(text=st.recursive(st.sampled_from(['1', '"a"', 'null', 'NaN', '"[["']),
                         lambda inner: st.builds(lambda xs: "[" + ",".join(xs) + "]", st.lists(inner, max_size=3))
                         | st.builds(lambda x, n: "[" * n + x + "]" * n, inner, st.integers(0, 3000)),
                         max_leaves=6) | st.text(max_size=30))
def test_the_bounded_json_reader_returns_or_refuses_never_crashes(text):
    from pretrainlab.checkpoint import parse_json

    try:
        parse_json(text, "x")
    except ValueError as err:
        assert str(err).startswith("x: ")


sklearn = pytest.importorskip("sklearn")

bad_X = st.one_of(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 9).filter(lambda n: n != N_VISIBLE))),
    hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(N_VISIBLE)),
               elements=st.sampled_from([np.nan, np.inf, 2.0, -1.0, 16.0])),
    hnp.arrays(np.complex128, st.tuples(st.integers(1, 3), st.just(N_VISIBLE))),
    st.just(np.array([["0.5"] * N_VISIBLE] * 3)), st.just(np.array([["2020-01-01"] * N_VISIBLE] * 3, "datetime64[D]")),
    st.just("not an array"), st.none())
_FITTED = {}


def _fitted(name):
    """A fitted estimator of each kind (made once; each example works on a deep copy)."""
    if name not in _FITTED:
        from pretrainlab.estimators import AutoencoderTransformer, MLPClassifier, RBMTransformer

        rng = np.random.default_rng(0)
        x, y = rng.random((20, N_VISIBLE)), np.arange(20) % 3
        make = {"rbm": lambda: RBMTransformer(n_components=3, n_iter=1, random_state=0),
                "ae": lambda: AutoencoderTransformer(n_components=3, n_iter=1, random_state=0),
                "mlp": lambda: MLPClassifier(hidden_layer_sizes=(4,), n_iter=1, random_state=0)}[name]
        _FITTED[name] = (make().fit(x, y) if name == "mlp" else make().fit(x), x)
    return _FITTED[name]


def _estimator_state(est):
    model = getattr(est, "mlp_", None) or getattr(est, "rbm_", None) or getattr(est, "autoencoder_", None)
    return copy.deepcopy(({k: v for k, v in vars(est).items() if k not in ("_trainer", "mlp_", "rbm_",
                                                                             "autoencoder_", "stack_")},
                          model.params, est._trainer.epoch))


@pytest.mark.parametrize("name", ["rbm", "ae", "mlp"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@FUZZ
@given(X=bad_X, y_kind=st.sampled_from(["ok", "one class", "unknown label"]))
def test_a_refused_fit_or_partial_fit_leaves_a_fitted_estimator_as_it_was(name, method, X, y_kind):
    est, x = _fitted(name)
    est = copy.deepcopy(est)
    n = len(X) if isinstance(X, np.ndarray) and X.ndim else 3
    y = {"ok": np.arange(n) % 3, "one class": np.zeros(n, int), "unknown label": np.arange(n) + 7}[y_kind]
    before, out = _estimator_state(est), est.transform(x) if name != "mlp" else est.predict_proba(x)
    try:  # (some draws are valid for some calls: fit on another width, an MLP on values above 1)
        getattr(est, method)(X, y) if name == "mlp" else getattr(est, method)(X)
    except (ValueError, TypeError):
        hypothesis.event("refused")
        assert _same(_estimator_state(est), before)
        np.testing.assert_array_equal(est.transform(x) if name != "mlp" else est.predict_proba(x), out)


@FUZZ
@given(rates=st.tuples(*[st.one_of(st.floats(), st.none(), st.text(max_size=2), st.floats(0, 1))] * 3).filter(
    lambda r: not all(isinstance(v, float) and 0 <= v < 1e300 for v in r)),
    nan_weight=st.booleans())
def test_the_online_autoencoder_refuses_bad_rates_and_weights_and_changes_nothing(rates, nan_weight):
    from pretrainlab.studies.ae_dynamics.shallow_ae import online_ae_sgd

    rng = np.random.default_rng(0)
    W, V, b = rng.standard_normal((N_VISIBLE, 2)), rng.standard_normal((N_VISIBLE, 2)), np.zeros(2)
    if nan_weight:
        V[1, 1] = np.nan
    before = [a.copy() for a in (W, V, b)]
    with pytest.raises((ValueError, TypeError)):
        online_ae_sgd(rng.standard_normal((3, N_VISIBLE)), W, V, b, *rates, activation="erf")
    for a, a0 in zip((W, V, b), before):
        np.testing.assert_array_equal(a, a0)
