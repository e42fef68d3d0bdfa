"""Named training configurations: the CLI's ``--preset`` and the app's preset buttons.

Each is measured on ``load_digits`` with the stratified 25% held-out split (random_state=0),
median of 5 seeds; the figures are in docs/benchmarks.md and asserted by ``tests/test_engine.py``.
"""
from __future__ import annotations

from .training import TrainConfig

PRESETS: dict[str, TrainConfig] = {
    # The default: what `python -m mlp` trains; about a second on one core.
    "default": TrainConfig(hidden_layer_sizes=(256,), activation="relu", optimizer="adam",
                           learning_rate=1e-3, batch_size=32, alpha=1e-4, epochs=15, shifts=True),
    # Highest held-out accuracy we measured, with re-rendered copies so drawings are read well too.
    "best": TrainConfig(hidden_layer_sizes=(512,), activation="relu", optimizer="adam",
                        learning_rate=1e-3, batch_size=32, alpha=1e-3, epochs=20, shifts=True, augment=8),
    # The model that reads drawings and photos before a visitor trains one: `default_model()`.
    # 30 epochs (the default's 15 underfit the re-rendered copies): the default model's members.
    "drawing": TrainConfig(hidden_layer_sizes=(256,), activation="relu", optimizer="adam",
                           learning_rate=1e-3, batch_size=32, alpha=1e-4, epochs=30, shifts=True, augment=8),
    # A few seconds' worth of training on a shared server, still around 97%.
    "fast": TrainConfig(hidden_layer_sizes=(64,), activation="relu", optimizer="adam",
                        learning_rate=3e-3, batch_size=64, alpha=1e-4, epochs=15),
    # The original blog post as published: 64-15-10, ReLU then sigmoid, its MSE delta, plain SGD
    # at 1e-3 on raw 0..16 pixels, batches of 15, the weight step summing the batch's gradients.
    "post": TrainConfig(hidden_layer_sizes=(15,), activation="relu", output_activation="sigmoid",
                        loss="mse_as_published", optimizer="sgd", learning_rate=1e-3, batch_size=15,
                        alpha=0.0, epochs=100, input_scale=1.0, weight_gradient="sum"),
}
