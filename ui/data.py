"""The dataset split every view uses, and the default model that answers before a visitor trains."""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import mlp
from mlp.datasets import load_digits_split

SPLIT_FILE = Path(__file__).with_name("digits_split.json")


@dataclass(frozen=True)
class Digits:
    """load_digits split once: X_* are (n, 64) raw values 0..16, y_* (n,) digits. The test part
    (stratified 25%, random_state=0) is never trained on; the confusion matrix is computed on it."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def split_digits() -> Digits:
    """mlp.datasets.load_digits_split, read without importing scikit-learn when it can be: its
    digits file and the split's stored row numbers. Importing scikit-learn took most of a first
    visit's wait (~2 s of it on an idle core, 8 s on a busy one); the same split either way."""
    try:
        return _split_from_files()
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        X_train, X_test, y_train, y_test = load_digits_split()
        return Digits(X_train, y_train, X_test, y_test)


def _split_from_files() -> Digits:
    spec = importlib.util.find_spec("sklearn")        # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise OSError("scikit-learn is not installed")
    table = np.loadtxt(Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz",
                       delimiter=",")
    X, y = table[:, :-1].astype(np.float64), table[:, -1].astype(np.int64)
    split = json.loads(SPLIT_FILE.read_text())
    train, test = np.asarray(split["train"]), np.asarray(split["test"])
    if X.shape != (1797, 64) or sorted(np.concatenate([train, test])) != list(range(len(y))):
        raise ValueError("the digits file or the stored split changed")
    return Digits(X[train], y[train], X[test], y[test])


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
