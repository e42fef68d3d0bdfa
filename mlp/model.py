"""A trained classifier: a Network plus the labels its outputs stand for and how it was trained."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import Network
from .training import TrainConfig, Training


@dataclass
class TrainedModel:
    """What a training run leaves behind, ready to classify.

    network: the Network; classes: (n_classes,) labels, output unit k stands for classes[k];
    config: the TrainConfig it was trained with (None if unknown); history: its EpochRecords.
    """

    network: Network
    classes: np.ndarray
    config: TrainConfig | None = None
    history: list = field(default_factory=list)

    @property
    def classes_(self) -> np.ndarray:
        """scikit-learn's name for ``classes``."""
        return self.classes

    @classmethod
    def from_run(cls, run: Training) -> TrainedModel:
        """A snapshot of a run's current model (a copy: the run may go on training)."""
        return cls(run.model.copy(), np.asarray(run.classes).copy(), run.config, list(run.history))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, n_classes) for raw inputs X (n, n_features), rows sum to 1."""
        out = self.network.output(np.atleast_2d(np.asarray(X, dtype=float)))
        if self.network.activations[-1].name != "softmax":
            # Sigmoid or other outputs: normalise the non-negative part into a distribution.
            out = np.clip(out, 0, None) + 1e-12
            out = out / out.sum(axis=1, keepdims=True)
        return out

    def predict(self, X) -> np.ndarray:
        """Predicted labels (n,) for raw inputs X (n, n_features)."""
        return self.classes[np.argmax(self.network.output(np.atleast_2d(np.asarray(X, dtype=float))), axis=1)]

    def score(self, X, y) -> float:
        """Accuracy on (X, y), a fraction in [0, 1]."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def __repr__(self):
        return f"TrainedModel({self.network!r}, classes={self.classes.tolist()})"
