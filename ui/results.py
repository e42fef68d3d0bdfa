"""The Inspect tab's results for the chosen model: its headline numbers, and the views "Mistakes"
(a clickable confusion matrix with the images of a cell, per-digit precision/recall/F1) and
"Weights" (the first hidden layer as 8x8 pictures); model download and upload. ui/inspect_views.py
composes the tab."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

import mlp
from ui import charts, model_choice, texts
from ui.metrics import confusion_matrix, parameter_count, per_class_report
from ui.session import Evaluation, LabState, evaluate

MAX_CELL_IMAGES = 40
IMAGE_SIDE = 64


def cell_caption(proba, true: int, pred: int) -> str:
    """Under a confusion-matrix cell's image: the probability of the predicted digit and, for a
    mistake, of the true one, one short line each ("→1 76%", "8 16%")."""
    line = f"→{pred} {proba[pred]:.0%}"
    return line if true == pred else f"{line}  \n{true} {proba[true]:.0%}"


def bar_floor(percentages) -> float:
    """Where the per-digit bars start: 10 points below the worst value, rounded down to a multiple
    of 10 (0 at worst), so 85% and 100% look clearly different."""
    return float(max(0, min(90, 10 * np.floor((np.min(percentages) - 5) / 10))))


def download_name(model, accuracy: float | None) -> str:
    """A model file's name from its network and held-out accuracy: 'mlp-64-256-10-98.9pct.npz'."""
    sizes = "-".join(str(s) for s in model.network.sizes)
    acc = "" if accuracy is None else f"-{100 * accuracy:.1f}pct"
    return f"mlp-{sizes}{acc}.npz"


def _evaluation(c: model_choice.Chosen, digits) -> Evaluation:
    proba, predicted = model_choice.evaluation(c)
    return Evaluation(proba, predicted, float(np.mean(predicted == digits.y_test)))


def summary(c: model_choice.Chosen, digits) -> None:
    """Held-out accuracy, mistakes and size of the chosen model."""
    ev, net = _evaluation(c, digits), c.base.network
    cols = st.columns(3)
    cols[0].metric("Held-out accuracy", f"{ev.accuracy:.1%}",
                   help="On the 25% of the digits the model never trained on")
    cols[1].metric("Mistakes", f"{int(np.sum(ev.predicted != digits.y_test))} of {len(digits.y_test)}")
    cols[2].metric("Parameters", f"{net.n_params:,}",
                   help=None if net.mask is None else f"Sparse: {parameter_count(net.sizes):,} if dense")


def mistakes(c: model_choice.Chosen, digits) -> None:
    """The confusion matrix, a clicked cell's images, and the per-digit report."""
    ev = _evaluation(c, digits)
    _confusion(ev, digits)
    st.divider()
    _report(ev, digits)


def _confusion(ev: Evaluation, digits) -> None:
    cm = confusion_matrix(digits.y_test, ev.predicted)
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        st.subheader("Confusion matrix")
        st.caption(texts.CONFUSION)
        normalise = st.toggle("Row-normalised (share of each true digit)", key="cm_normalise")
        # A click's selection is in the chart's widget state when this run starts: read it first,
        # so the chart it reruns draws that cell outlined.
        event = st.session_state.get("confusion_matrix")
        points = event["selection"]["points"] if event else []   # item access: AppTest injects plain dicts
        if points:
            st.session_state["cm_cell"] = (int(points[0]["y"]), int(points[0]["x"]))
        cell = st.session_state.get("cm_cell") or _most_confused(cm)
        st.plotly_chart(charts.confusion_figure(cm, normalise, cell), key="confusion_matrix", on_select="rerun",
                        selection_mode="points", config={"displayModeBar": False})
    with right:
        _cell_images(cell, ev, digits)


def _most_confused(cm):
    off = np.asarray(cm) - np.diag(np.diag(cm))
    if off.max() == 0:
        return None
    t, p = np.unravel_index(np.argmax(off), off.shape)
    return int(t), int(p)


def _cell_images(cell, ev, digits) -> None:
    with st.container(key="cm_cell_images"):
        if cell is None:
            st.markdown("#### No mistakes")
            st.caption("Click a cell of the matrix to see its images.")
            return
        true, pred = cell
        idx = np.flatnonzero((digits.y_test == true) & (ev.predicted == pred))
        what = "correctly classified" if true == pred else f"predicted as {pred}"
        st.markdown(f"#### True {true}, {what}: {len(idx)} image{'' if len(idx) == 1 else 's'}")
        st.caption("Click any cell of the matrix to see its images. Under each: the model's probability "
                   f"for {pred} (→{pred})" + ("" if true == pred else f" and for the true digit {true}") + ".")
        if len(idx) == 0:
            st.write("No held-out images fall in this cell.")
            return
        shown = idx[:MAX_CELL_IMAGES]
        with st.container(horizontal=True, gap="small", key="cm_cell_grid"):
            for i in shown:
                with st.container(width=IMAGE_SIDE + 8, gap=None):
                    st.image(charts.digit_image(digits.X_test[i], 8), width=IMAGE_SIDE)
                    st.caption(cell_caption(ev.proba[i], true, pred))
        if len(idx) > len(shown):
            st.caption(f"…and {len(idx) - len(shown)} more.")


def _report(ev: Evaluation, digits) -> None:
    st.subheader("Per digit")
    rep = per_class_report(confusion_matrix(digits.y_test, ev.predicted))
    st.caption(texts.PER_DIGIT)
    floor = bar_floor(100 * np.concatenate([rep["precision"], rep["recall"], rep["f1"]]))
    # A chart, not a table: the page already has Plotly's code, a data grid would load its own (~0.3 s).
    st.plotly_chart(charts.per_digit_figure(rep, floor), key="per_digit_chart", config={"displayModeBar": False})
    if floor:
        st.caption(f"The bars run from {floor:.0f}% to 100%, so a few points' difference shows.")


def weights(c: model_choice.Chosen, digits=None) -> None:
    w = c.base.network.weights[0]
    st.subheader("What the first layer looks at")
    st.caption(texts.WEIGHTS)
    shown = min(w.shape[1], 128)
    limit = charts.weight_limit(w[:, :shown])
    st.image(charts.weight_tiles(w[:, :shown], columns=16, scale=5, gap=5, limit=limit),
             width="stretch" if shown > 32 else "content")
    st.image(charts.weight_scale_bar(limit), width=320)
    if shown < w.shape[1]:
        st.caption(f"The first {shown} of {w.shape[1]} units.")


def files(state: LabState, c: model_choice.Chosen, digits) -> None:
    ev = _evaluation(c, digits)
    st.subheader("Model file")
    left, right = st.columns(2, gap="large")
    with left:
        # Bytes made on click, not on every rerun (the default model's file is ~5 MB).
        st.download_button(f"Download {c.label.lower() if c.is_default else c.label} (.npz)",
                           lambda: mlp.model_to_bytes(c.base), file_name=download_name(c.base, ev.accuracy),
                           mime="application/octet-stream", key="download", on_click="ignore",
                           help="MLP Lab's own format: plain arrays and JSON, no pickle. Load it here again later.")
    with right:
        f = st.file_uploader("Load a model file", type=["npz"], key="model_file",
                             help="A file downloaded from MLP Lab. It is validated, never unpickled.")
        if f is not None and st.session_state.get("model_file_id") != f.file_id:
            st.session_state["model_file_id"] = f.file_id
            st.session_state["model_file_error"] = load_into(state, f.getvalue(), f.name, digits)
            if st.session_state["model_file_error"] is None:
                st.rerun()
        if f is not None and st.session_state.get("model_file_error"):
            st.error(st.session_state["model_file_error"])
        elif f is not None and st.session_state.get("model_file_notice"):
            st.success(st.session_state["model_file_notice"])   # confirmed where it happened


def load_into(state: LabState, data: bytes, name: str, digits) -> str | None:
    """Load a model file into the session; return an error sentence (and change nothing) or None."""
    try:
        model = mlp.load_model(data, n_features=64, probe=digits.X_test)
    except mlp.ModelFileError as e:
        return f"Could not load {name}: {e}"
    if not np.array_equal(np.asarray(model.classes), np.arange(10)):
        return f"Could not load {name}: it classifies {len(model.classes)} classes, not the ten digits."
    state.model, state.model_name, state.model_chosen = model, f"file {name}", time.monotonic()
    state.evaluation = evaluate(model, digits.X_test, digits.y_test)
    model_choice.choose_model(state, model)   # loaded here to be looked at: it is the one shown (and answering)
    st.session_state["model_file_notice"] = (f"Loaded {name}: held-out accuracy {state.evaluation.accuracy:.1%}. "
                                             "It is now the chosen model, here and on Draw.")
    return None
