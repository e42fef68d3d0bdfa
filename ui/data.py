"""The dataset split every view uses, and the default model that answers before a visitor trains."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import mlp

TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Digits:
    """load_digits split once: X_* are (n, 64) raw values 0..16, y_* (n,) digits. The test part
    (stratified 25%, random_state=0) is never trained on; the confusion matrix is computed on it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split_digits() -> Digits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_FRACTION, stratify=y, random_state=0)
    return Digits(X_train, y_train, X_test, y_test)


@st.cache_data(show_spinner=False)
def digits() -> Digits:
    """The split, shared as pure data (each caller gets its own copy)."""
    return split_digits()


FALLBACK_CONFIG = mlp.TrainConfig(hidden_layer_sizes=(128,), optimizer="adam", learning_rate=1e-3, alpha=1e-4,
                                  epochs=30, batch_size=32, augment=1, seed=0)


@st.cache_data(show_spinner="Preparing the default model…")
def default_model():
    """The model that classifies drawings before the visitor trains one: the engine's
    `mlp.default_model()` when it exists, else one trained here on the training split.
    Cached as pure data, so every session gets its own copy and cannot change anyone else's."""
    if hasattr(mlp, "default_model"):
        return mlp.default_model()
    d = split_digits()
    return mlp.TrainedModel.from_run(mlp.train(FALLBACK_CONFIG, d.X_train, d.y_train).run())
