"""pretrainlab: a read-first NumPy lab for unsupervised pretraining of neural networks.

Start with ``rbm.py`` (restricted Boltzmann machines), ``cd.py`` (contrastive divergence) and ``train.py``
(the one training loop). Importing the package is cheap: no JIT compilation, no data loading, no plotting backend.

The package has three layers, and imports point one way only (``tests/test_layout.py`` checks it):
the library (the modules here, ``kernels/``, ``estimators/``) ← ``studies/`` (one folder per reproduced
paper) ← ``runner/`` (the command line, run folders, sweeps, the benchmark).
"""
from .autoencoder import Autoencoder, TiedAutoencoder
from .likelihood import ais_log_partition, exact_log_partition, log_likelihood
from .mlp import MLP
from .cd import ContrastiveDivergence
from .checkpoint import load_model, save_model
from .optim import SGD
from .rbm import BernoulliRBM, GaussianBernoulliRBM
from .train import EarlyStopping, History, Trainer, TrainingDiverged

__version__ = "0.1.0"


__all__ = [
    "BernoulliRBM", "ContrastiveDivergence", "GaussianBernoulliRBM", "TiedAutoencoder", "Autoencoder", "MLP", "DrSAE",
    "ais_log_partition", "exact_log_partition", "log_likelihood",
    "SGD", "EarlyStopping", "History", "Trainer", "TrainingDiverged", "load_model", "save_model",
]


def __getattr__(name):
    """``pretrainlab.DrSAE``: study 5's model, imported on first use so the library never loads a study."""
    if name == "DrSAE":
        from .studies.drsae.model import DrSAE
        return DrSAE
    raise AttributeError(f"module 'pretrainlab' has no attribute {name!r}")
