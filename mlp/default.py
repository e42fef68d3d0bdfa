"""The model that answers before a visitor has trained one: ``default_model()``."""
from __future__ import annotations

import threading
from functools import lru_cache

from .datasets import load_digits_split
from .model import TrainedModel
from .presets import PRESETS
from .training import train

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _trained() -> TrainedModel:
    X_train, _, y_train, _ = load_digits_split()
    return TrainedModel.from_run(train(PRESETS["drawing"], X_train, y_train).run())


def default_model() -> TrainedModel:
    """The "drawing" preset trained on the ``load_digits`` training split (seed 0).

    Trained on first use (a few seconds: it re-renders every training digit eight times, so
    drawings and photos are read well) and then shared by every caller in the process, so
    treat it as read-only. It takes rows of 64 values on the 0..16 scale — what
    ``mlp.preprocess.image_to_digit(...).reshape(1, 64)`` gives — and has ``predict``,
    ``predict_proba`` and ``classes_``. The held-out 25% of the digits was never trained on.
    """
    with _lock:  # two sessions asking at once train it once
        return _trained()
