"""Checkpoints written before the package moved its modules (issue 31) still load, and a training run resumes.

The fixtures in ``tests/fixtures/`` were written by the code of commit 4e21020 (see their README): models are
rebuilt from their bare class name through ``checkpoint.model_classes`` and penalty terms through
``penalties.terms_registry``, never from a module path stored in the file.
"""
from pathlib import Path
import shutil

import numpy as np
import pytest

from pretrainlab import BernoulliRBM, ContrastiveDivergence, DrSAE, MLP, SGD, TiedAutoencoder, Trainer, load_model
from pretrainlab.studies.diversify.regularizers import InnerProductDR

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = dict(np.load(FIXTURES / "v0.1.0-expected-params.npz"))


@pytest.mark.parametrize("name, cls", [("rbm", BernoulliRBM), ("mlp-diversify", MLP), ("drsae", DrSAE),
                                       ("tied-ae", TiedAutoencoder)])
def test_a_model_saved_before_the_move_loads_with_its_parameters(name, cls):
    model = load_model(FIXTURES / f"v0.1.0-{name}.npz")
    assert type(model) is cls
    for key, value in model.params.items():
        np.testing.assert_array_equal(value, EXPECTED[f"{name}/{key}"])
    if name == "mlp-diversify":  # study 3's term came back through the registry, with its settings
        term, = model.extra_penalties
        assert isinstance(term, InnerProductDR) and term.weight == 0.5


def test_a_training_run_checkpointed_before_the_move_resumes_to_the_same_weights(tmp_path):
    """The old code's third epoch, resumed by today's code from the old code's epoch-2 checkpoint, is the
    same W, bit for bit (the run's configuration, generator states and velocity all came back)."""
    path = tmp_path / "run.npz"
    shutil.copy(FIXTURES / "v0.1.0-cd1-trainer.npz", path)
    x = (np.random.default_rng(5).random((40, 6)) < 0.4).astype(np.float32)
    rbm = BernoulliRBM(6, 4, rng=6)
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=ContrastiveDivergence(rbm, k=1),
                      batch_size=10, rng=7, checkpoint=path, verbose=False)
    history = trainer.fit(x, epochs=3, resume=True)
    assert history.records["epoch"] == [1, 2, 3]
    np.testing.assert_array_equal(rbm.W, EXPECTED["cd1-trainer-epoch3/W"])
