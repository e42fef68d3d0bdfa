"""MLP Lab's engine: a multi-layer perceptron written from scratch in NumPy.

The original post's API::

    from mlp import Network, Relu, Sigmoid, MSE
    nn = Network((64, 15, 10), (Relu, Sigmoid))
    nn.fit(x, y_onehot, loss=MSE, epochs=100, batch_size=15, learning_rate=1e-3)
    nn.predict(x)

Training as a stream::

    from mlp import TrainConfig, train
    for record in (run := train(TrainConfig(), X, y)):
        ...
"""
from .activations import (ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, Identity, LeakyRelu,
                          NoActivation, Relu, Sigmoid, Softmax, Tanh)
from .losses import LOSSES, MSE, CrossEntropy, MSEAsPublished
from .network import Network
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum
from .training import EpochRecord, TrainConfig, Training, train

__all__ = [
    "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "LOSSES", "OPTIMIZERS",
    "Identity", "LeakyRelu", "NoActivation", "Relu", "Sigmoid", "Softmax", "Tanh",
    "MSE", "MSEAsPublished", "CrossEntropy", "SGD", "Momentum", "Adam",
    "Network", "TrainConfig", "EpochRecord", "Training", "train",
]
from .default import default_model
from .model import TrainedModel
from .persistence import ModelFileError, load_model, model_to_bytes, save_model

__all__ += ["default_model", "TrainedModel", "ModelFileError", "load_model", "model_to_bytes", "save_model"]
from .estimator import EXPECTED_FAILED_CHECKS, MLPClassifier

__all__ += ["MLPClassifier"]
