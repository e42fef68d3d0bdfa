"""Presets that fill the sidebar in one click: name -> (TrainConfig, one-line explanation)."""
from __future__ import annotations

from dataclasses import dataclass

from mlp import TrainConfig
from mlp.presets import PRESETS as ENGINE_PRESETS


@dataclass(frozen=True)
class Preset:
    """A named configuration and the sentence the sidebar shows under it."""

    name: str
    config: TrainConfig
    note: str


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "The original blog post",
        ENGINE_PRESETS["post"],
        "64-15-10, ReLU then sigmoid, plain SGD at 1e-3 on raw pixels, batches of 15, 100 epochs, with "
        "the post's gradient conventions: the weight step sums the batch's gradients, and the MSE "
        "gradient is the one the post published (the sigmoid's derivative taken at its output). "
        "That slip is why it learned: switch the loss to the correct MSE, train again, and compare "
        "both runs in the history.",
    ),
    Preset(
        "Best accuracy",
        ENGINE_PRESETS["best"],
        "One wide ReLU layer, softmax + cross-entropy, Adam; every training digit also moved half a "
        "pixel four ways and re-rendered eight times (stroke width, slant, rotation, warps), so "
        "held-out digits (about 99.3%) and drawn ones are both read well.",
    ),
    Preset(
        "Fast",
        ENGINE_PRESETS["fast"],
        "A small network trained for a few seconds: good enough to explore the other tabs.",
    ),
)}

DEFAULT_PRESET = "Fast"
