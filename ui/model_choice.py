"""Which model answers: the shipped default model or one of the visitor's own (runs, loaded files).

The visitor's models are kept on a small shelf in their LabState (`state.shelf`, the newest
MAX_KEPT), so that the sweeper frees them with the rest when the visitor leaves; the choice is one
small value (`st.session_state[CHOICE]`) that the Draw tab's and the Inspect tab's selectors both
show and set. Training a run puts it on the shelf but never changes the choice. Units the visitor
switched off (see ui/explain_view.py; `state.unit_edits`) apply to an edited copy
(`state.edited_model`), never to the model itself: the default model is shared by every visitor.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from mlp import explain
from ui.data import default_model, digits

DEFAULT = "default"
CHOICE = "model_choice"      # the chosen shelf key
MAX_KEPT = 6
MAX_EDITS = 200


@dataclass
class Chosen:
    """The answering model: `model` has the visitor's edits applied, `base` has not."""

    key: str
    label: str
    base: object
    model: object
    edits: dict = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.key == DEFAULT

    @property
    def config(self):
        return getattr(self.base, "config", None)


def _label(name: str) -> str:
    return name[:1].upper() + name[1:] if name else "Your model"


def shelf(state) -> dict:
    """The visitor's models (shelf key -> (label, TrainedModel)), newest last; adds `state.model`
    the first time it is seen."""
    kept = state.shelf
    m = state.model
    if m is not None and not any(model is m for _, model in kept.values()):
        kept[f"m{uuid.uuid4().hex[:10]}"] = (_label(state.model_name), m)
        chosen = st.session_state.get(CHOICE)
        while len(kept) > MAX_KEPT:
            oldest = next(k for k in kept if k != chosen)
            del kept[oldest]
            state.unit_edits.pop(oldest, None)
    return kept


def labels(state) -> dict:
    """Shelf key -> label, the default model first, the newest run last."""
    return {DEFAULT: "Default model", **{k: label for k, (label, _) in shelf(state).items()}}


def edits(state, key: str) -> dict:
    """{(layer, unit): gain} for a model: the last gain set for each unit, gain 1 dropped."""
    out = {}
    for layer, unit, gain in state.unit_edits.get(key, []):
        out[(layer, unit)] = gain
    return {k: g for k, g in out.items() if g != 1}


def push_edit(state, key: str, layer: int, unit: int, gain: float) -> None:
    stack = state.unit_edits.setdefault(key, [])
    stack.append((int(layer), int(unit), float(gain)))
    del stack[:-MAX_EDITS]


def undo_edit(state, key: str) -> None:
    stack = state.unit_edits.get(key)
    if stack:
        stack.pop()


def reset_edits(state, key: str) -> None:
    state.unit_edits.pop(key, None)


def chosen(state, with_edits: bool = True) -> Chosen:
    """The model the visitor chose (the default model until they choose another)."""
    names = labels(state)
    key = st.session_state.get(CHOICE, DEFAULT)
    if key not in names:
        key = st.session_state[CHOICE] = DEFAULT
    # The shared, read-only default model: edits go to a copy (`explain.with_gains`).
    base = default_model() if key == DEFAULT else shelf(state)[key][1]
    active = edits(state, key) if with_edits else {}
    return Chosen(key, names[key], base, _edited(state, key, base, active) if active else base, active)


def _edited(state, key: str, base, active: dict):
    """The edited copy, kept while the edits stay the same (one per visitor)."""
    cached = state.edited_model
    sig = (key, tuple(sorted(active.items())))
    if cached is None or cached[0] != sig:
        cached = state.edited_model = (sig, explain.with_gains(base, active))
    return cached[1]


@st.cache_data(max_entries=16, show_spinner=False)
def held_out(model_key: str, _model) -> tuple:
    """(probabilities, predictions) of a model on the held-out digits; keys are unique per model."""
    proba = _model.predict_proba(digits().X_test)
    return proba, np.asarray(_model.classes)[np.argmax(proba, axis=1)]


def evaluation(c: Chosen) -> tuple:
    """(probabilities, predictions) of the chosen model (without edits) on the held-out digits."""
    return held_out(c.key, c.base)


def _sync(widget_key: str) -> None:
    st.session_state[CHOICE] = st.session_state[widget_key]


def selector(state, widget_key: str, label: str, help: str | None = None) -> Chosen:
    """A radio of the models on offer, bound to the one shared choice; returns the choice."""
    names = labels(state)
    current = chosen(state).key
    if st.session_state.get(widget_key) != current:
        st.session_state[widget_key] = current       # set before the widget exists: allowed
    st.radio(label, list(names), format_func=names.get, key=widget_key, horizontal=True,
             on_change=_sync, args=(widget_key,), help=help)
    return chosen(state)


def choose_model(state, model) -> None:
    """Make `model` (the visitor's, put on the shelf if new) the chosen one."""
    kept = shelf(state)
    st.session_state[CHOICE] = next(k for k, (_, m) in kept.items() if m is model)


def newest_other(state, current_key: str) -> str | None:
    """The label of the newest of the visitor's models when it is not the chosen one."""
    kept = shelf(state)
    if not kept:
        return None
    key = next(reversed(kept))
    return None if key == current_key else kept[key][0]
