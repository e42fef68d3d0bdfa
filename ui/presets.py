"""Presets that fill the sidebar in one click: name -> (TrainConfig, one-line explanation).

The app's presets keep VALIDATION of the training digits aside (the engine's presets keep none),
so a first run already draws validation curves next to the training ones."""
from __future__ import annotations

from dataclasses import dataclass

from mlp import TrainConfig
from mlp.presets import PRESETS as ENGINE_PRESETS
from ui.texts import POST_LINK

VALIDATION = 0.1


@dataclass(frozen=True)
class Preset:
    """A named configuration and the sentence the sidebar shows under it."""

    name: str
    config: TrainConfig
    note: str


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "The original blog post",
        ENGINE_PRESETS["post"].replace(validation_fraction=VALIDATION),
        f"{POST_LINK}: 64-15-10, ReLU then sigmoid, plain SGD at 1e-3 on raw pixels, batches of 15, "
        "100 epochs, with the post's gradient conventions: the weight step sums the batch's gradients, and the MSE "
        "gradient is the one the post published (the sigmoid's derivative taken at its output). "
        "That slip is why it learned: the lesson below the chart trains both side by side.",
    ),
    Preset(
        "Best accuracy",
        ENGINE_PRESETS["best"].replace(validation_fraction=VALIDATION),
        "One wide ReLU layer, softmax + cross-entropy, Adam; every training digit also moved half a "
        "pixel four ways and re-rendered eight times (stroke width, slant, rotation, warps), so "
        "held-out digits (about 99.3%) and drawn ones are both read well.",
    ),
    Preset(
        "Fast",
        ENGINE_PRESETS["fast"].replace(validation_fraction=VALIDATION),
        "A small network trained for a few seconds: good enough to explore the other tabs.",
    ),
)}

DEFAULT_PRESET = "Fast"
