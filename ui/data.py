"""The dataset split every view uses, and the default model that answers before a visitor trains."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import mlp
from mlp.datasets import load_digits_split


@dataclass(frozen=True)
class Digits:
    """load_digits split once: X_* are (n, 64) raw values 0..16, y_* (n,) digits. The test part
    (stratified 25%, random_state=0) is never trained on; the confusion matrix is computed on it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split_digits() -> Digits:
    X_train, X_test, y_train, y_test = load_digits_split()
    return Digits(X_train, y_train, X_test, y_test)


@st.cache_data(show_spinner=False)
def digits() -> Digits:
    """The split, shared as pure data (each caller gets its own copy)."""
    return split_digits()


@st.cache_resource(show_spinner="Loading the default model…")
def default_model():
    """The model that classifies drawings before the visitor trains one: `mlp.default_model()`.
    One copy shared by every session, its arrays read-only so no session can change it."""
    model = mlp.default_model()
    model.network.freeze()
    model.classes.flags.writeable = False
    return model
