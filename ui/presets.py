"""Presets that fill the sidebar in one click: name -> (TrainConfig, one-line explanation)."""
from __future__ import annotations

from dataclasses import dataclass

from mlp import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A named configuration and the sentence the sidebar shows under it."""

    name: str
    config: TrainConfig
    note: str


# The post steps its weights by learning_rate × the *sum* of the batch's gradients; our engine
# (like scikit-learn) uses the mean, so the post's 1e-3 with batches of 15 is our 0.015.
POST_LEARNING_RATE = 1e-3 * 15

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "The original blog post",
        TrainConfig(hidden_layer_sizes=(15,), activation="relu", output_activation="sigmoid",
                    loss="mse_as_published", optimizer="sgd", learning_rate=POST_LEARNING_RATE,
                    alpha=0.0, epochs=100, batch_size=15, seed=0),
        "64-15-10, ReLU then sigmoid, the post's MSE, plain SGD, batches of 15, 100 epochs. "
        "The post's rate 1e-3 is applied to the *sum* of a batch's gradients; here gradients are "
        "averaged, so the same step is 1e-3 × 15 = 0.015. Switch the loss to the correct MSE and "
        "train again to compare the two in the run history.",
    ),
    Preset(
        "Best accuracy",
        TrainConfig(hidden_layer_sizes=(256,), activation="relu", output_activation="softmax",
                    loss="cross_entropy", optimizer="adam", learning_rate=1e-3, alpha=1e-4,
                    epochs=40, batch_size=32, augment=2, seed=0),
        "One wide ReLU layer, softmax + cross-entropy, Adam, and two re-rendered copies of every "
        "training digit (thicker and thinner strokes, small shifts and rotations) so that drawn "
        "digits are recognised too.",
    ),
    Preset(
        "Fast",
        TrainConfig(hidden_layer_sizes=(64,), activation="relu", output_activation="softmax",
                    loss="cross_entropy", optimizer="adam", learning_rate=3e-3, alpha=1e-4,
                    epochs=15, batch_size=64, seed=0),
        "A small network trained for a few seconds: good enough to explore the other tabs.",
    ),
)}

DEFAULT_PRESET = "Fast"
