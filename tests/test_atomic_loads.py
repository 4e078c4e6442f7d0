"""Issue 33, classes 1–4: every loader checks everything, then writes; the configuration is compared on every
resume; corrupt checkpoint contents and crafted files are refused with a ValueError naming the file, and a
refused call leaves every object (parameters, velocity, PCD chains, epoch, history, early stopping, generators,
estimators' attributes) as it was."""
import copy
import json

import numpy as np
import pytest

from pretrainlab import MLP, SGD, BernoulliRBM, ContrastiveDivergence, TiedAutoencoder, Trainer, save_model
from pretrainlab.checkpoint import generator_entry, load_model, read_npz, restore_generator
from pretrainlab.train import EarlyStopping

N_VIS = 6


def _data(seed=0, n=12):
    rng = np.random.default_rng(seed)
    return (rng.random((n, N_VIS)) < 0.4).astype(np.float32), rng.integers(0, 3, n)


def pcd_trainer(checkpoint=None):
    rbm = BernoulliRBM(N_VIS, 3, rng=0)
    cd = ContrastiveDivergence(rbm, k=1, persistent=True, n_chains=4)
    return Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=cd, batch_size=4, rng=0,
                   checkpoint=checkpoint, verbose=False)


def mlp_trainer(checkpoint=None, activation="sigmoid"):
    mlp = MLP([N_VIS, 4, 3], rng=0, activation=activation)
    x, y = _data(1)
    stopping = EarlyStopping("valid_error", patience=50)
    return Trainer(mlp, SGD(mlp.params, lr=0.1, momentum=0.5), batch_size=4, rng=0, early_stopping=stopping,
                   monitors={"valid_error": lambda m: float(np.mean(m.predict(x) != y))},
                   checkpoint=checkpoint, verbose=False)


def everything(trainer):
    """A deep snapshot of every object load_checkpoint may write."""
    step = trainer.step
    stopping = trainer.early_stopping
    return copy.deepcopy({
        "params": trainer.model.params, "velocity": trainer.optimizer.velocity, "epoch": trainer.epoch,
        "history": trainer.history.records, "rng": trainer.rng.bit_generator.state,
        "model_rng": getattr(getattr(trainer.model, "rng", None), "bit_generator", None) and
        trainer.model.rng.bit_generator.state,
        "chains": getattr(step, "chains", None),
        "stopping": None if stopping is None else (stopping.best, stopping.best_epoch, stopping.best_params)})


def assert_same(a, b, where=""):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            assert_same(u, v, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert a.dtype == b.dtype, where
    else:
        assert a == b or (a != a and b != b), where


def edited(tmp_path, arrays, name, **changes):
    """A copy of a checkpoint's arrays with ``changes`` (None deletes), written without any check."""
    out = dict(arrays)
    for k, v in changes.items():
        k = k.replace("__", "/") if k not in ("__trainer__", "__meta__", "__rng__") else k
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    path = tmp_path / f"{name}.npz"
    np.savez(path, **out)
    return path


def trainer_state(arrays, **changes):
    state = json.loads(str(arrays["__trainer__"]))
    state.update(changes)
    return np.array(json.dumps(state))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A 2-epoch PCD checkpoint and a 2-epoch MLP checkpoint with early stopping (best/* arrays)."""
    folder = tmp_path_factory.mktemp("ck")
    x, y = _data()
    pcd_trainer(folder / "pcd.npz").fit(x, epochs=2)
    mlp_trainer(folder / "mlp.npz").fit(x, y, epochs=2)
    return read_npz(folder / "pcd.npz"), read_npz(folder / "mlp.npz")


def corrupt_pcd(arrays):
    chains = arrays["step/chains"]
    velocity = arrays["velocity/W"]
    nested = "[" * 100_000 + "]" * 100_000
    return {
        "nan-chains": dict(step__chains=np.full_like(chains, np.nan)),
        "half-chains": dict(step__chains=np.full_like(chains, 0.5)),
        "complex-chains": dict(step__chains=chains + 1j),
        "complex-velocity": dict(velocity__W=velocity + 1j),
        "nan-velocity": dict(velocity__W=np.full_like(velocity, np.nan)),
        "int-velocity": dict(velocity__W=velocity.astype(np.int64)),
        "history-of-strings": dict(__trainer__=trainer_state(arrays, history={"epoch": ["one", "two"]})),
        "history-not-a-dict": dict(__trainer__=trainer_state(arrays, history=[1, 2])),
        "counter-2^200": dict(__trainer__=trainer_state(arrays, rng={"trainer": {
            "bit_generator": "PCG64", "state": {"state": 2 ** 200, "inc": 1}, "has_uint32": 0, "uinteger": 0}})),
        "rng-not-a-dict": dict(__trainer__=trainer_state(arrays, rng=[1])),
        "json-10^5-deep": dict(__trainer__=np.array(nested)),
        "meta-10^5-deep": dict(__meta__=np.array(nested)),
        "meta-not-a-string": dict(__meta__=np.arange(3)),
        "other-config": dict(__meta__=np.array(json.dumps({"class": "BernoulliRBM", "config": {
            "n_visible": N_VIS, "n_hidden": 3, "dtype": "float64"}}))),
    }


@pytest.mark.parametrize("case", list(corrupt_pcd({"step/chains": np.zeros((4, N_VIS)),
                                                   "velocity/W": np.zeros((N_VIS, 3)),
                                                   "__trainer__": np.array("{}")})))
def test_a_corrupt_pcd_checkpoint_is_refused_and_changes_nothing(saved, tmp_path, case):
    arrays = saved[0]
    path = edited(tmp_path, arrays, case, **corrupt_pcd(arrays)[case])
    trainer = pcd_trainer()
    x, _ = _data()
    trainer.fit(x, epochs=1)  # a trainer with state of its own: chains, velocity, history
    before = everything(trainer)
    with pytest.raises(ValueError, match="path: "):
        trainer.load_checkpoint(path)
    assert_same(everything(trainer), before)


def corrupt_mlp(arrays):
    return {
        "best-W1-wrong-shape": dict(best__W1=np.zeros((1, 4), np.float32)),
        "best-W1-nan": dict(best__W1=np.full_like(arrays["best/W1"], np.nan)),
        "best-W1-missing": dict(best__W1=None),
        "best-epoch-string": dict(__trainer__=trainer_state(arrays, early_stopping={"best": 0.5, "best_epoch": "2"})),
        "best-epoch-after-epoch": dict(__trainer__=trainer_state(arrays, early_stopping={"best": 0.5,
                                                                                         "best_epoch": 9})),
        "best-nan": dict(__trainer__=trainer_state(arrays, early_stopping={"best": float("nan"), "best_epoch": 1})),
        "stopping-a-list": dict(__trainer__=trainer_state(arrays, early_stopping=[1, 2])),
    }


@pytest.mark.parametrize("case", ["best-W1-wrong-shape", "best-W1-nan", "best-W1-missing", "best-epoch-string",
                                  "best-epoch-after-epoch", "best-nan", "stopping-a-list"])
def test_a_corrupt_early_stopping_state_is_refused_and_changes_nothing(saved, tmp_path, case):
    arrays = saved[1]
    path = edited(tmp_path, arrays, case, **corrupt_mlp(arrays)[case])
    trainer = mlp_trainer()
    x, y = _data()
    trainer.fit(x, y, epochs=1)
    before = everything(trainer)
    with pytest.raises(ValueError, match="path: "):
        trainer.load_checkpoint(path)
    assert_same(everything(trainer), before)


def test_the_good_checkpoints_still_load(saved, tmp_path):
    """The refusals above are of the corruption, not of the files: unedited, both resume."""
    for arrays, make in zip(saved, (pcd_trainer, mlp_trainer)):
        path = edited(tmp_path, arrays, "good")
        trainer = make()
        trainer.load_checkpoint(path)
        assert trainer.epoch == 2
        np.testing.assert_array_equal(trainer.model.params["W" if "param/W" in arrays else "W1"],
                                      arrays["param/W" if "param/W" in arrays else "param/W1"])


def test_another_configuration_is_never_resumed(tmp_path):
    """A ReLU MLP's checkpoint must not resume a sigmoid MLP (same class, same shapes)."""
    x, y = _data()
    mlp_trainer(tmp_path / "relu.npz", activation="relu").fit(x, y, epochs=1)
    trainer = mlp_trainer(tmp_path / "relu.npz", activation="sigmoid")
    before = everything(trainer)
    with pytest.raises(ValueError, match="another configuration.*activation"):
        trainer.fit(x, y, epochs=2, resume=True)
    assert_same(everything(trainer), before)
    ae = TiedAutoencoder(N_VIS, 3, rng=0, noise="mask", noise_level=0.2)
    Trainer(ae, SGD(ae.params, lr=0.1), checkpoint=tmp_path / "ae.npz", verbose=False).fit(x, epochs=1)
    other = TiedAutoencoder(N_VIS, 3, rng=0, noise="mask", noise_level=0.3)
    with pytest.raises(ValueError, match="noise_level"):
        Trainer(other, SGD(other.params, lr=0.1), verbose=False).load_checkpoint(tmp_path / "ae.npz")


def test_a_model_file_declaring_a_huge_model_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    np.savez(path, __meta__=np.array(json.dumps({"class": "BernoulliRBM", "config": {
        "n_visible": 10 ** 6, "n_hidden": 10 ** 6, "dtype": "float32"}})), **{"param/W": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="declares a model of at least 1000000000000 parameters"):
        load_model(path)
    np.savez(path, __meta__=np.array(json.dumps({"class": "MLP", "config": {
        "layer_sizes": [10, 10 ** 7, 10], "dtype": "float32"}})))
    with pytest.raises(ValueError, match="declares a model"):
        load_model(path)


def test_crafted_json_and_generator_states_are_refused(tmp_path):
    from pretrainlab.checkpoint import parse_json

    with pytest.raises(ValueError, match="nested 100000 deep"):
        parse_json("[" * 100_000 + "]" * 100_000, "x")
    assert parse_json('{"a": [NaN, "[[[[\\" [[["]}', "x")["a"][1] == '[[[[" [[['  # brackets in strings
    rbm = BernoulliRBM(N_VIS, 3, rng=0)
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    state["state"]["state"] = 2 ** 200
    save_model(rbm, tmp_path / "m.npz", {"__rng__": np.array(json.dumps(state))})
    before = rng.bit_generator.state
    assert restore_generator(tmp_path / "m.npz", rng) is False
    assert rng.bit_generator.state == before
    save_model(rbm, tmp_path / "deep.npz", {"__rng__": np.array("[" * 10 ** 5 + "]" * 10 ** 5)})
    with pytest.raises(ValueError, match="deep"):
        restore_generator(tmp_path / "deep.npz", rng)
    save_model(rbm, tmp_path / "ok.npz", generator_entry(np.random.default_rng(9)))
    assert restore_generator(tmp_path / "ok.npz", rng) and rng.bit_generator.state == np.random.default_rng(
        9).bit_generator.state


# ---------------------------------------------------------------------------------------------- estimators
sklearn = pytest.importorskip("sklearn")


def estimator_state(est):
    return copy.deepcopy({k: v for k, v in est.__dict__.items() if not k.startswith("_trainer")}), (
        copy.deepcopy(est._trainer.model.params) if hasattr(est, "_trainer") else None)


def test_a_refused_fit_leaves_a_fitted_classifier_fitted_and_unchanged():
    from pretrainlab.estimators import DBNClassifier, MLPClassifier

    x, y = _data(n=30)
    for est in (MLPClassifier(n_iter=2, random_state=0), DBNClassifier(n_iter=1, pretrain_n_iter=1, random_state=0)):
        est.fit(x, y)
        predicted = est.predict(x)
        before = estimator_state(est)
        with pytest.raises(ValueError, match="at least 2 classes"):
            est.fit(np.zeros((5, N_VIS + 2)), np.ones(5, int))  # one class, and another width
        assert_same(estimator_state(est)[1], before[1])
        assert est.n_features_in_ == N_VIS and list(est.classes_) == [0, 1, 2]
        np.testing.assert_array_equal(est.predict(x), predicted)
        with pytest.raises(ValueError, match="not in classes_"):
            est.partial_fit(x, y + 5)  # a refused partial_fit on the fitted net changes nothing either
        np.testing.assert_array_equal(est.predict(x), predicted)
        assert_same(estimator_state(est)[1], before[1])


def test_a_refused_first_partial_fit_leaves_the_estimator_unfitted():
    from sklearn.exceptions import NotFittedError

    from pretrainlab.estimators import MLPClassifier, RBMTransformer

    x, y = _data(n=30)
    clf = MLPClassifier(random_state=0)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(x, y, classes=[0, 1])  # y holds a 2
    with pytest.raises(NotFittedError):
        clf.predict(x)
    assert not hasattr(clf, "mlp_") and not hasattr(clf, "n_features_in_")
    rbm = RBMTransformer(n_components=3, random_state=0, n_iter=1)
    rbm.fit(x)
    before = estimator_state(rbm)
    with pytest.raises(ValueError, match="values in"):
        rbm.fit(np.full((4, N_VIS + 1), 16.0))
    assert rbm.n_features_in_ == N_VIS
    assert_same(estimator_state(rbm)[1], before[1])


# ---------------------------------------------------------------------------------------------- stacks, run folders
def test_study_2_refuses_autoencoder_files_as_its_dbn_stack(tmp_path):
    from pretrainlab.pretrain import LayerSettings, greedy_pretrain, load_or_pretrain

    x, _ = _data(n=20)
    paths = [tmp_path / "layer1.npz", tmp_path / "layer2.npz"]
    for path, (n_in, n_out) in zip(paths, [(N_VIS, 4), (4, 3)]):
        save_model(TiedAutoencoder(n_in, n_out, rng=0), path)
    with pytest.raises(ValueError, match="holds a TiedAutoencoder.*BernoulliRBM"):
        load_or_pretrain(paths, x, [4, 3], LayerSettings(kind="rbm", epochs=1), np.random.default_rng(0))
    with pytest.raises(TypeError, match="checkpoints must be a list"):
        greedy_pretrain(x, [4, 3], LayerSettings(kind="rbm", epochs=1), checkpoints="ab")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("content", ["[1, 2]", '"run"', "[" * 5000 + "]" * 5000])
def test_run_folders_of_the_wrong_shape_give_a_clear_error(tmp_path, content):
    from pretrainlab.runner.experiments import RunFolderMismatch, Run, prepare

    (tmp_path / "run.json").write_text(content)
    with pytest.raises(RunFolderMismatch, match="run.json"):
        prepare("demo", "quick", {"quick": {}}, out=tmp_path)
    (tmp_path / "results.json").write_text(content)
    with pytest.raises(ValueError, match="results.json"):
        Run("demo", "quick", 0, {}, tmp_path).stored_results()
    (tmp_path / "results.json").write_text('{"runs": [1, 2]}')
    with pytest.raises(ValueError, match="malformed 'runs'"):
        Run("demo", "quick", 0, {}, tmp_path).stored_results()


def test_the_reused_folder_message_names_a_command_that_exists(tmp_path):
    from pretrainlab.runner.experiments import RunFolderMismatch, prepare

    settings = {"default": {"a": 1}, "quick": {"a": 2}}
    prepare("demo", "default", settings, out=tmp_path)
    with pytest.raises(RunFolderMismatch, match=r"`pretrainlab demo --seed 0`") as err:
        prepare("demo", "quick", settings, out=tmp_path)
    assert "--default" not in str(err.value)
