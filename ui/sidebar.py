"""The sidebar: every training option, presets, and the one TrainConfig it all adds up to.

`show()` renders the widgets and returns a TrainConfig. The mapping between widget values and a
config (`config_to_values`, `values_to_config`) is pure, so it is tested without Streamlit.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from mlp import HIDDEN_ACTIVATIONS, TrainConfig
from ui import keyed, sparsity
from ui.presets import DEFAULT_PRESET, PRESETS
from ui.texts import HELP

# Limits for a shared hosted page. With these caps the biggest run (4 x 256 units, 3 augmented
# copies) still needs minutes, so ui.session also stops any run after TIME_LIMIT_S seconds.
MAX_LAYERS = 4
MAX_UNITS = 512
MAX_EPOCHS = 200
MAX_AUGMENT = 8

# Log-spaced, 1e-5 .. 10 (high enough to watch a run diverge).
LEARNING_RATES = tuple(float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 1.5, 2, 3, 5, 7)) + (10.0,)
BATCH_SIZES = (4, 8, 15, 16, 32, 64, 128, 256)
ALPHAS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
VALIDATION_FRACTIONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")

LOSS_LABELS = {
    "cross_entropy": "Cross-entropy",
    "mse": "MSE, correct gradient",
    "mse_as_published": "MSE, the post's gradient",
}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}
ACTIVATION_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "tanh": "tanh", "sigmoid": "sigmoid",
                     "identity": "identity (linear)", "softmax": "softmax"}
GRADIENT_LABELS = {"mean": "batch mean", "sum": "batch sum (the post)"}
INPUT_SCALES = {1.0 / 16.0: "0..1 (pixels ÷ 16)", 1.0: "raw 0..16 (the post)"}
PRESET_KEYS = {"The original blog post": "preset_post", "Best accuracy": "preset_best", "Fast": "preset_fast"}


def nearest(options, value):
    """The option closest to `value` on a log scale (linear for 0)."""
    def distance(o):
        if o > 0 and value > 0:
            return abs(math.log(o) - math.log(value))
        return abs(o - value) + (1e9 if (o > 0) != (value > 0) else 0)
    return min(options, key=distance)


def config_to_values(config: TrainConfig) -> dict:
    """Widget key -> value for every sidebar widget, as `config` would set them."""
    sizes = tuple(config.hidden_layer_sizes)[:MAX_LAYERS]
    acts = config.hidden_activations()[:MAX_LAYERS]
    values = {
        "n_layers": len(sizes),
        "per_layer_activation": len(set(acts)) > 1,
        "activation": acts[0],
        "output_activation": config.output_activation,
        "loss": config.loss,
        "optimizer": config.optimizer,
        "learning_rate": nearest(LEARNING_RATES, config.learning_rate),
        "cosine_decay": config.schedule == "cosine",
        "momentum": float(config.momentum),
        "nesterov": bool(config.nesterov),
        "epochs": min(int(config.epochs), MAX_EPOCHS),
        "batch_size": nearest(BATCH_SIZES, config.batch_size),
        "alpha": nearest(ALPHAS, config.alpha),
        # One rate for every hidden layer here; a per-layer tuple shows as its largest rate.
        "dropout": nearest(DROPOUTS, float(np.max(config.dropout, initial=0.0))),
        "validation_fraction": nearest(VALIDATION_FRACTIONS, config.validation_fraction),
        "early_stopping": bool(config.early_stopping),
        "seed": int(config.seed),
        "augment": min(int(config.augment), MAX_AUGMENT),
        "shifts": bool(config.shifts),
        "weight_gradient": config.weight_gradient,
        "input_scale": nearest(tuple(INPUT_SCALES), config.input_scale),
    }
    for i in range(MAX_LAYERS):
        values[f"units_{i}"] = min(int(sizes[i]), MAX_UNITS) if i < len(sizes) else 64
        values[f"activation_{i}"] = acts[i] if i < len(acts) else acts[0]
    values.update(sparsity.config_values(config))
    return values


def values_to_config(values: dict) -> TrainConfig:
    """The TrainConfig the widget values describe (validated)."""
    n = int(values["n_layers"])
    sizes = tuple(int(values[f"units_{i}"]) for i in range(n))
    if values["per_layer_activation"]:
        activation = tuple(values[f"activation_{i}"] for i in range(n))
    else:
        activation = values["activation"]
    validation = float(values["validation_fraction"])
    return TrainConfig(
        hidden_layer_sizes=sizes, activation=activation, output_activation=values["output_activation"],
        loss=values["loss"], optimizer=values["optimizer"], learning_rate=float(values["learning_rate"]),
        schedule="cosine" if values["cosine_decay"] else "constant",
        momentum=float(values["momentum"]), nesterov=bool(values["nesterov"]), alpha=float(values["alpha"]),
        dropout=float(values["dropout"]),
        epochs=int(values["epochs"]), batch_size=int(values["batch_size"]), validation_fraction=validation,
        early_stopping=bool(values["early_stopping"]) and validation > 0, seed=int(values["seed"]),
        augment=int(values["augment"]), shifts=bool(values["shifts"]), **sparsity.config_fields(values),
        weight_gradient=values["weight_gradient"], input_scale=float(values["input_scale"]),
    ).validate()


def apply_preset(name: str) -> None:
    """Button callback: put a preset's values into the widgets (runs before the script reruns)."""
    st.session_state.update(config_to_values(PRESETS[name].config))
    st.session_state["preset"] = name


def _defaults() -> None:
    # Widgets read their state from here (ui.keyed also passes it as their default, so a widget the
    # browser mounts late starts from it); a widget that was not drawn in the last run loses its
    # state, so the defaults are restored on every run.
    for key, value in config_to_values(PRESETS[DEFAULT_PRESET].config).items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("preset", DEFAULT_PRESET)


def _label(labels):
    return lambda v: labels.get(v, v)


def show() -> TrainConfig:
    """Render the sidebar; return the configuration it describes."""
    _defaults()
    sb = st.sidebar
    sb.title("MLP Lab")
    sb.caption("Configure a network, then press **Train**.")
    sb.markdown("**Presets**")
    for name, key in PRESET_KEYS.items():
        sb.button(name, key=key, on_click=apply_preset, args=(name,), width="stretch", help=HELP[key])
    note = sb.empty()

    sb.markdown("**Architecture**")
    n = keyed.slider(sb, "Hidden layers", 1, MAX_LAYERS, "n_layers", help=HELP["n_layers"])
    per_layer = keyed.toggle(sb, "A different activation per layer", "per_layer_activation",
                             help=HELP["per_layer_activation"])
    hidden = list(HIDDEN_ACTIVATIONS)
    for i in range(n):
        keyed.slider(sb, f"Units in layer {i + 1}", 1, MAX_UNITS, f"units_{i}", help=HELP["units"])
        if per_layer:
            keyed.selectbox(sb, f"Activation of layer {i + 1}", hidden, f"activation_{i}",
                            format_func=_label(ACTIVATION_LABELS), help=HELP["activation"])
    if not per_layer:
        keyed.selectbox(sb, "Hidden activation", hidden, "activation", format_func=_label(ACTIVATION_LABELS),
                        help=HELP["activation"])
    keyed.selectbox(sb, "Output activation", OUTPUT_ACTIVATIONS, "output_activation",
                    format_func=_label(ACTIVATION_LABELS), help=HELP["output_activation"])
    sparsity.controls(sb)

    sb.markdown("**Loss and optimiser**")
    keyed.selectbox(sb, "Loss", LOSS_LABELS, "loss", format_func=_label(LOSS_LABELS), help=HELP["loss"])
    keyed.selectbox(sb, "Optimiser", OPTIMIZER_LABELS, "optimizer", format_func=_label(OPTIMIZER_LABELS),
                    help=HELP["optimizer"])
    keyed.select_slider(sb, "Learning rate", LEARNING_RATES, "learning_rate", format_func=lambda v: f"{v:g}",
                        help=HELP["learning_rate"])
    keyed.checkbox(sb, "Cosine decay", "cosine_decay", help=HELP["cosine_decay"])
    if st.session_state["optimizer"] == "momentum":
        keyed.slider(sb, "Momentum", 0.0, 0.99, "momentum", step=0.01, help=HELP["momentum"])
        keyed.checkbox(sb, "Nesterov", "nesterov", help=HELP["nesterov"])

    keyed.selectbox(sb, "Weight step uses the gradient's", GRADIENT_LABELS, "weight_gradient",
                    format_func=_label(GRADIENT_LABELS), help=HELP["weight_gradient"])

    sb.markdown("**Schedule**")
    keyed.slider(sb, "Epochs", 1, MAX_EPOCHS, "epochs", help=HELP["epochs"])
    keyed.select_slider(sb, "Batch size", BATCH_SIZES, "batch_size", help=HELP["batch_size"])
    keyed.select_slider(sb, "L2 penalty (alpha)", ALPHAS, "alpha", format_func=lambda v: f"{v:g}",
                        help=HELP["alpha"])
    keyed.select_slider(sb, "Dropout", DROPOUTS, "dropout", format_func=lambda v: f"{v:.0%}",
                        help="While training, each hidden unit is switched off with this probability, "
                             "drawn anew for every batch (the units kept are scaled up by 1 / (1 − p)), so "
                             "the network cannot lean on any one unit; predictions use every unit. Typical: "
                             "0–20%. On these digits it narrows the gap between the train and validation "
                             "curves more than it lifts validation accuracy; too high (50%) on a small "
                             "layer: both drop. 0% = off.")
    keyed.select_slider(sb, "Validation split", VALIDATION_FRACTIONS, "validation_fraction",
                        format_func=lambda v: f"{v:.0%}", help=HELP["validation_fraction"])
    no_validation = st.session_state["validation_fraction"] == 0
    keyed.checkbox(sb, "Early stopping", "early_stopping", disabled=no_validation, help=HELP["early_stopping"])
    keyed.selectbox(sb, "Inputs", INPUT_SCALES, "input_scale", format_func=_label(INPUT_SCALES),
                    help=HELP["input_scale"])
    keyed.number_input(sb, "Seed", 0, 2**31 - 1, "seed", step=1, help=HELP["seed"])
    sb.markdown("**Augmentation**")
    keyed.checkbox(sb, "Half-pixel shifts", "shifts", help=HELP["shifts"])
    keyed.slider(sb, "Re-rendered copies per digit", 0, MAX_AUGMENT, "augment", help=HELP["augment"])

    config = values_to_config({k: st.session_state[k] for k in config_to_values(TrainConfig())})
    preset = PRESETS.get(st.session_state["preset"])
    if preset and values_to_config(config_to_values(preset.config)) == config:
        note.caption(f"**{preset.name}:** {preset.note}")
    return config
