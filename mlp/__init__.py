"""MLP Lab's engine: a multi-layer perceptron written from scratch in NumPy.

The original post's API::

    from mlp import Network, Relu, Sigmoid, MSE
    nn = Network((64, 15, 10), (Relu, Sigmoid))
    nn.fit(x, y_onehot, loss=MSE, epochs=100, batch_size=15, learning_rate=1e-3)
    nn.predict(x)

Training as a stream::

    from mlp import TrainConfig, train
    run = train(TrainConfig(), X, y)
    for record in run:
        ...

scikit-learn estimators: ``MLPClassifier``, ``MLPRegressor``. Images to digits: ``image_to_digit``. The app's
model before a visitor trains: ``default_model()``.
"""
from importlib import import_module
from typing import TYPE_CHECKING

from .activations import (
    ACTIVATIONS,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    Identity,
    LeakyRelu,
    NoActivation,
    Relu,
    Sigmoid,
    Softmax,
    Tanh,
)
from .default import default_model
from .losses import LOSSES, MSE, CrossEntropy, MSEAsPublished
from .model import TrainedModel
from .network import Network
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum
from .persistence import ModelFileError, load_model, model_to_bytes, save_model
from .training import EpochRecord, TrainConfig, Training, train

__all__ = [
    "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "LOSSES", "OPTIMIZERS",
    "Identity", "LeakyRelu", "NoActivation", "Relu", "Sigmoid", "Softmax", "Tanh",
    "MSE", "MSEAsPublished", "CrossEntropy", "SGD", "Momentum", "Adam",
    "Network", "TrainConfig", "EpochRecord", "Training", "train", "TrainedModel",
    "save_model", "load_model", "model_to_bytes", "ModelFileError",
    "MLPClassifier", "MLPRegressor", "EXPECTED_FAILED_CHECKS", "default_model",
    "image_to_digit", "ImageError", "BlankImageError",
]

# Names whose modules import scikit-learn (~1.5 s) or SciPy and Pillow: loaded on first use, so
# `import mlp`, the command line and a first visit to the app start fast (the app never uses the
# estimators). name -> module.
_LAZY = {"MLPClassifier": "estimator", "EXPECTED_FAILED_CHECKS": "estimator", "MLPRegressor": "regressor",
         "image_to_digit": "preprocess", "ImageError": "preprocess", "BlankImageError": "preprocess"}

if TYPE_CHECKING:   # for type checkers and IDEs; at run time __getattr__ imports them
    from .estimator import EXPECTED_FAILED_CHECKS, MLPClassifier
    from .preprocess import BlankImageError, ImageError, image_to_digit
    from .regressor import MLPRegressor


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value     # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
