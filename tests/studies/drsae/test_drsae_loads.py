"""Issue 33 for DrSAE's loaders (``studies/drsae/train.py``'s ``train_drsae``): a finished model file is read whole before it is
copied in, and both phases' checkpoints are checked before either is loaded — a refused call leaves the model as
it was."""
import json

import numpy as np
import pytest

from pretrainlab.checkpoint import read_npz
from pretrainlab.studies.drsae.model import DrSAE
from pretrainlab.studies.drsae.train import DrSAEProtocol, train_drsae

from helpers import drsae_toy_data

PROTOCOL = DrSAEProtocol(unsupervised_epochs=2, discriminative_epochs=2, batch_size=8, lr=0.3, momentum=0.5,
                         lr_decay=0.9, patience=10)


def _data():
    return drsae_toy_data(n=40)


def _refused_unchanged(model, match, **train):
    """train_drsae on the toy data raises a ValueError matching ``match`` and leaves every parameter as it was."""
    x, y, xv, yv = _data()
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=match):
        train_drsae(model, x, y, xv, yv, PROTOCOL, rng=0, **train)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v, err_msg=k)


def _model(x):
    return DrSAE(x.shape[1], 6, 3, n_steps=3, rng=1, classification_weight=1.0).init_ista(x, rng=2)


def _rewrite(path, **changes):
    arrays = dict(read_npz(path), **changes)
    np.savez(path, **arrays)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drsae")
    x, y, xv, yv = _data()
    train_drsae(_model(x), x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=folder)
    return folder, {name: read_npz(folder / name) for name in ("model.npz", "unsupervised.npz",
                                                               "discriminative.npz")}


@pytest.mark.parametrize("histories", ["{not json", json.dumps({"unsupervised": {"epoch": ["a"]},
                                                                "discriminative": {}, "best_epoch": 1}),
                                       json.dumps([1, 2]), "[" * 10 ** 5 + "]" * 10 ** 5])
def test_a_finished_model_with_corrupt_histories_is_refused_before_its_parameters_are_copied(
        finished, tmp_path, histories):
    folder, files = finished
    np.savez(tmp_path / "model.npz", **dict(files["model.npz"], __histories__=np.array(histories)))
    _refused_unchanged(_model(_data()[0]), "model.npz", checkpoint_dir=tmp_path)


def test_a_corrupt_phase_2_checkpoint_is_refused_before_phase_1_is_loaded(finished, tmp_path):
    folder, files = finished
    np.savez(tmp_path / "unsupervised.npz", **files["unsupervised.npz"])
    np.savez(tmp_path / "discriminative.npz", **dict(files["discriminative.npz"], **{
        "velocity/E": files["discriminative.npz"]["velocity/E"] + 1j}))  # (any corrupt entry)
    _refused_unchanged(_model(_data()[0]), "discriminative.npz", checkpoint_dir=tmp_path)


def test_train_drsae_refuses_another_model_and_a_bad_checkpoint_dir(tmp_path):
    from pretrainlab import MLP

    x, y, xv, yv = _data()
    with pytest.raises(TypeError, match="model must be a DrSAE"):
        train_drsae(MLP([12, 4, 3]), x, y, xv, yv, PROTOCOL)
    (tmp_path / "file").write_text("")
    model = _model(x)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match="is a file"):
        train_drsae(model, x, y, xv, yv, PROTOCOL, checkpoint_dir=tmp_path / "file")
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v, err_msg=k)


def test_a_checkpoint_of_another_t_is_never_resumed(finished, tmp_path):
    """T (n_steps) is part of the configuration: a T = 3 run's phase-1 file must not resume a T = 2 model."""
    folder, files = finished
    np.savez(tmp_path / "unsupervised.npz", **files["unsupervised.npz"])
    x, y, xv, yv = _data()
    model = DrSAE(x.shape[1], 6, 3, n_steps=2, rng=1, classification_weight=1.0).init_ista(x, rng=2)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match="another configuration.*n_steps: file 3, model 2"):
        train_drsae(model, x, y, xv, yv, PROTOCOL, rng=0, checkpoint_dir=tmp_path)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v, err_msg=k)
