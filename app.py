"""MLP Lab: configure a from-scratch NumPy MLP, train it live, inspect it, and draw digits for it.

This script only composes the page; each view lives in `ui/`.
"""
import importlib
import os
import threading

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one BLAS thread per training: many visitors, few cores
if "pandas" not in __import__("sys").modules:
    # The first visit after start-up imports pandas (the Draw canvas's component needs it, tables
    # too): ~1.5 s. Start it now, beside rendering the sidebar and the Train tab.
    threading.Thread(target=importlib.import_module, args=("pandas",), name="import-pandas", daemon=True).start()

import streamlit as st  # noqa: E402

from ui import (  # noqa: E402
    data,
    draw,
    handwriting,
    history,
    inspect_views,
    lesson,
    lifecycle,
    sidebar,
    tabs,
    texts,
    training_view,
)
from ui.errors import guard  # noqa: E402
from ui.session import LabState, collect  # noqa: E402

st.set_page_config(page_title="MLP Lab", page_icon="🧠", layout="wide")

lab: LabState = st.session_state.setdefault("lab", LabState())
lifecycle.watch(lab)   # a visitor who leaves: their run stops and what they held is freed
digits = data.digits()
config = sidebar.show()
collect(lab, digits.X_test, digits.y_test)
handwriting.collect(lab, digits)   # a finished fine-tune's model answers on every tab
lesson.advance(lab, digits)   # before the Train tab draws, so its live view ticks for the next run

# Streamlit pads the page top by ~6rem (room for a header this page hides); no option sets it.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>")
st.title("MLP Lab")
st.caption("A multi-layer perceptron written from scratch in NumPy, learning scikit-learn's 8×8 handwritten digits.")
train_tab, inspect_tab, draw_tab = tabs.show()   # only the open tab runs
if train_tab.open:
    with train_tab, guard("the Train tab"):
        training_view.show(lab, config, digits)
        if lab.job is not None:
            st.caption(texts.training_chart(lab.job.config))
        lesson.show(lab, digits)
        history.show(lab)
if inspect_tab.open:
    with inspect_tab, guard("the Inspect tab"):
        inspect_views.show(lab, digits)
if draw_tab.open:
    with draw_tab, guard("the Draw tab"):
        draw.show(lab)
        handwriting.show(lab, digits)
else:
    draw.closed()   # its drawing comes back on the next visit
