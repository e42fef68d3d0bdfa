"""Keyed widgets whose default is the value they already hold in `st.session_state`.

The sidebar's widgets take their values from session state (the defaults and the presets write
them there). Streamlit tells the browser about such a value only once, in the run that wrote it
(`set_value`); a widget the browser mounts later starts from the element's own default and sends
that back as the user's choice. Under load the browser mounts lazily loaded widgets (the select box
code is a separate chunk) after that run, so the Optimiser box came up on its first option, SGD,
and the next rerun silently trained with SGD. Passing the current value as the default makes a late
mount start from the right value. Keyed widgets keep their identity when the default changes.
"""
from __future__ import annotations

import streamlit as st


def index_of(options, key: str) -> int:
    """The position of `key`'s current value among `options` (0 if it is not one of them)."""
    options = list(options)
    value = st.session_state.get(key)
    return options.index(value) if value in options else 0


def selectbox(where, label: str, options, key: str, **kwargs):
    options = list(options)
    return where.selectbox(label, options, index=index_of(options, key), key=key, **kwargs)


def slider(where, label: str, min_value, max_value, key: str, **kwargs):
    return where.slider(label, min_value, max_value, value=st.session_state[key], key=key, **kwargs)


def select_slider(where, label: str, options, key: str, **kwargs):
    return where.select_slider(label, options, value=st.session_state[key], key=key, **kwargs)


def checkbox(where, label: str, key: str, **kwargs):
    return where.checkbox(label, value=bool(st.session_state[key]), key=key, **kwargs)


def toggle(where, label: str, key: str, **kwargs):
    return where.toggle(label, value=bool(st.session_state[key]), key=key, **kwargs)


def number_input(where, label: str, min_value, max_value, key: str, **kwargs):
    return where.number_input(label, min_value, max_value, value=st.session_state[key], key=key, **kwargs)
