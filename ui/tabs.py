"""The page's three tabs. Only the open tab runs (a tab switch reruns the page): a first visit
computes and sends one tab, not three, and a tab shown again is drawn from the current state
(one model choice, one threshold). The open tab is in the URL (`?tab=Draw`), so a link can open it.
"""
from __future__ import annotations

import streamlit as st

NAMES = ("Train", "Inspect", "Draw")
KEY = "tab"

# Widgets in a closed tab are not drawn, and Streamlit drops the value of a widget a run does not
# draw. These values outlive a visit to another tab (the threshold set on Inspect is read by Draw).
KEPT = ("slow_motion", "tiles_mode", "history_runs", "history_metric",                 # Train
        "inspect_view", "points_layer", "points_method", "confidence_threshold",         # Inspect
        "data_class", "cm_normalise",
        "stroke_width")                                                                   # Draw


def keep_widget_values() -> None:
    """Hand the kept widgets' values back to session state, where no clean-up removes them."""
    ss = st.session_state
    for key in KEPT:
        if key in ss:
            ss[key] = ss[key]


def show():
    """The three tab containers; each has `.open`."""
    keep_widget_values()
    return st.tabs(list(NAMES), key=KEY, bind="query-params")
