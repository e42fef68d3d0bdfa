"""The model that answers before a visitor has trained one: ``default_model()``."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .model import TrainedModel
from .persistence import load_model

# Built by `python scripts/build_default_model.py mlp/default_model.npz` (seeds 0..17) from the
# load_digits training split alone; rebuild it when mlp/preprocess.py or mlp/augment.py change
# how digits are rendered (tests/test_default_model.py checks it still reads them well).
MODEL_FILE = Path(__file__).with_name("default_model.npz")


@lru_cache(maxsize=1)
def default_model() -> TrainedModel:
    """Eighteen networks trained with the "drawing" preset (seeds 0..17), merged into one.

    Each member is the default preset — (256,) ReLU, Adam, half-pixel shifts — plus eight
    re-rendered copies of every training digit and 30 epochs instead of 15, trained on the
    ``load_digits`` training split; the merged 64-4608-10 network outputs the softmax of their
    mean logits (weights stored as float16, computed in float32). It takes rows of 64
    values on the 0..16 scale — what ``mlp.image_to_digit(...).reshape(1, 64)`` gives — and has
    ``predict``, ``predict_proba`` and ``classes_``; for images, ``mlp.preprocess.predict_image_proba``
    averages it over a few renderings of the same drawing. Loaded once (a few ms) and shared by
    every caller in the process: treat it as read-only. The held-out 25% was never trained on.
    """
    return load_model(MODEL_FILE.read_bytes(), n_features=64)
