"""pretrainlab: a read-first NumPy lab for unsupervised pretraining of neural networks.

Start with ``rbm.py`` (restricted Boltzmann machines and contrastive divergence) and ``train.py`` (the one
training loop). Importing the package is cheap: no JIT compilation, no data loading, no plotting backend.
"""
from .autoencoder import Autoencoder, TiedAutoencoder
from .likelihood import ais_log_partition, exact_log_partition, log_likelihood
from .mlp import MLP
from .rbm import BernoulliRBM, ContrastiveDivergence, GaussianBernoulliRBM
from .train import SGD, EarlyStopping, History, Trainer, TrainingDiverged, load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "BernoulliRBM", "ContrastiveDivergence", "GaussianBernoulliRBM", "TiedAutoencoder", "Autoencoder", "MLP",
    "ais_log_partition", "exact_log_partition", "log_likelihood",
    "SGD", "EarlyStopping", "History", "Trainer", "TrainingDiverged", "load_model", "save_model",
]
