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


# The post fed raw 0..16 pixels and stepped its weights by the learning rate times the *sum* of
# a batch's gradients; its MSE delta applied the sigmoid's derivative to the already-activated
# output ("as published"). With all three the post's 1e-3 learns well (~97% held out); with the
# correct MSE delta the same settings reach ~59%. Switch the loss to compare them.
POST = TrainConfig(hidden_layer_sizes=(15,), activation="relu", output_activation="sigmoid",
                   loss="mse_as_published", optimizer="sgd", learning_rate=1e-3, alpha=0.0, epochs=100,
                   batch_size=15, input_scale=1.0, weight_gradient="sum", seed=0)

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "The original blog post",
        POST,
        "64-15-10, ReLU then sigmoid, plain SGD at 1e-3 on raw pixels, batches of 15, 100 epochs, with "
        "the post's gradient conventions: the weight step sums the batch's gradients, and the MSE "
        "gradient is the one the post published (the sigmoid's derivative taken at its output). "
        "That slip is why it learned: switch the loss to the correct MSE, train again, and compare "
        "both runs in the history.",
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
