"""The Inspect tab's look inside a model (the default one until the visitor picks another): the
held-out digits as a points map layer by layer, the "I don't know" threshold, robustness to
damaged digits, and the data it learns from. The math is in mlp/explain.py."""
from __future__ import annotations

import functools
import threading
import time

import numpy as np
import streamlit as st

from mlp import augment, explain
from ui import charts, data, model_choice, results

CLASS_COLOURS = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777",
                 "#4b5563", "#65a30d")
SHADES = " ·░▒▓█"       # ink 0..16 as text art in a hover box
PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE (slow)"}
EXAMPLES_PER_CLASS = 16
WARM_DELAY_S = 15.0   # after the first page, before rendering the damaged digits


# ----------------------------------------------------------------------------- pure helpers

def text_art(x) -> str:
    """An 8x8 digit (0..16) as eight lines of block characters, for a hover box."""
    x = np.clip(np.asarray(x, dtype=float).reshape(8, 8), 0, 16)
    idx = np.minimum((x / 16 * (len(SHADES) - 1)).round().astype(int), len(SHADES) - 1)
    return "<br>".join("".join(SHADES[i] * 2 for i in row) for row in idx)


def layer_names(sizes) -> list[str]:
    """'input (64)', 'hidden layer 1 (256)', ..., 'output scores (10)' for network sizes."""
    return ([f"input ({sizes[0]})"] + [f"hidden layer {i} ({s})" for i, s in enumerate(sizes[1:-1], 1)]
            + [f"output scores ({sizes[-1]})"])


def points_figure(points, y, predicted, X) -> dict:
    """The held-out digits at `points` (n, 2), one trace per true digit; hover shows the digit as
    text art with its label and the prediction; wrong ones are drawn as crosses."""
    data_ = []
    for k in range(10):
        i = np.flatnonzero(y == k)
        wrong = predicted[i] != k
        data_.append({
            "type": "scatter", "mode": "markers", "name": str(k), "x": points[i, 0].tolist(),
            "y": points[i, 1].tolist(),
            "customdata": [[int(j), int(predicted[j]), text_art(X[j])] for j in i],
            "marker": {"color": CLASS_COLOURS[k], "size": [10 if w else 7 for w in wrong],
                       "symbol": ["x" if w else "circle" for w in wrong], "opacity": 0.85},
            "hovertemplate": ("<b>held-out digit %{customdata[0]}: a " + str(k) + ", read as %{customdata[1]}</b><br>"
                              "%{customdata[2]}<extra></extra>")})
    return {"data": data_, "layout": {
        "height": 520, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "font": charts.FONT,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#f8fafc", "hovermode": "closest",
        "hoverlabel": {"font": {"family": "DejaVu Sans Mono, monospace", "size": 12}, "bgcolor": "white"},
        "legend": {"title": {"text": "true digit"}, "itemclick": "toggleothers"}, "clickmode": "event+select",
        "dragmode": "pan", "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"}}}


def coverage_figure(curve, threshold: float) -> dict:
    """Accuracy on the answered digits against the share answered, the chosen threshold marked."""
    t, cov, acc = curve["threshold"], curve["coverage"], curve["accuracy"]
    ok = ~np.isnan(acc)
    i = int(np.argmin(np.abs(t - threshold)))
    return {"data": [
        {"type": "scatter", "mode": "lines", "x": cov[ok].tolist(), "y": acc[ok].tolist(), "name": "all thresholds",
         "customdata": t[ok].tolist(), "line": {"color": charts.TRAIN, "width": 3, "shape": "hv"},
         "hovertemplate": "threshold %{customdata:.0%}: answers %{x:.1%}, right on %{y:.1%}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": [float(cov[i])], "y": [None if np.isnan(acc[i]) else float(acc[i])],
         "name": "your threshold",
         "marker": {"color": charts.VALIDATION, "size": 16, "line": {"color": "white", "width": 2}},
         "hovertemplate": f"threshold {t[i]:.0%}: answers %{{x:.1%}}, right on %{{y:.1%}}<extra></extra>"}],
        "layout": {"height": 340, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "font": charts.FONT,
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white", "hovermode": "closest",
                   "legend": {"x": 0.02, "y": 0.05},
                   "xaxis": {"title": {"text": "share of held-out digits it answers (coverage)"}, "tickformat": ".0%",
                             "range": [-0.02, 1.02], "gridcolor": "#e5e7eb"},
                   "yaxis": {"title": {"text": "accuracy on the ones it answers"}, "tickformat": ".1%",
                             "gridcolor": "#e5e7eb"}}}


def robustness_figure(kind: str, lines: dict) -> dict:
    """Accuracy per damage step of `kind`, one line per model {label: accuracies}."""
    _, steps, title = explain.DAMAGES[kind]
    colours = (charts.TRAIN, charts.VALIDATION)   # the chosen model first, solid; the default dotted
    return {"data": [{"type": "scatter", "mode": "lines+markers", "x": list(steps), "y": list(map(float, acc)),
                      "name": label, "line": {"color": colours[i % 2], "width": 3, "dash": "dot" if i else "solid"},
                      "hovertemplate": f"{label}: %{{y:.1%}}<extra></extra>"}
                     for i, (label, acc) in enumerate(lines.items())],
            "layout": {"height": 300, "margin": {"l": 50, "r": 10, "t": 30, "b": 50}, "font": charts.FONT,
                       "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white", "hovermode": "x unified",
                       "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                       "xaxis": {"title": {"text": title}, "gridcolor": "#e5e7eb"},
                       "yaxis": {"title": {"text": "held-out accuracy"}, "tickformat": ".0%", "range": [0, 1.02],
                                 "gridcolor": "#e5e7eb"}}}


# ----------------------------------------------------------------------------- caches

@st.cache_data(max_entries=48, show_spinner="Placing 450 digits on the map…")
def _points(model_key: str, layer: int, method: str, _model) -> dict:
    """The points map's figure for one model, layer and projection (built once: ~0.1 s)."""
    d = data.digits()
    _, predicted = model_choice.held_out(model_key, _model)
    features = explain.layer_features(_model, d.X_test)[layer]
    if method == "tsne":
        with _TSNE_SLOT:   # t-SNE takes seconds of CPU: one at a time on the shared server
            pts = explain.project(features, method)
    else:
        pts = explain.project(features, method)
    return points_figure(pts, d.y_test, predicted, d.X_test)


def _damaged(kind: str) -> list:
    """The held-out digits at every damage step of `kind`; read-only, shared by every visitor.
    The lock makes a visitor wait for the warm-up thread rather than render them a second time."""
    with _DAMAGE_LOCK:
        return _damaged_sets(kind)


@functools.lru_cache(maxsize=len(explain.DAMAGES))
def _damaged_sets(kind: str) -> list:
    return explain.damaged_sets(data.split_digits().X_test, kind)


def _warm_damage() -> None:
    """Render the damaged digits (about 2.5 s of CPU, once per server) in a thread, shortly after
    the first page is served (not during it), so the Robustness view is ready when asked for."""
    global _WARMING
    with _WARM_LOCK:
        if _WARMING:
            return
        _WARMING = True
    def warm():
        time.sleep(WARM_DELAY_S)
        for kind in explain.DAMAGES:
            _damaged(kind)

    threading.Thread(target=warm, daemon=True, name="damage-warmup").start()


_WARM_LOCK, _DAMAGE_LOCK, _TSNE_SLOT = threading.Lock(), threading.Lock(), threading.Lock()
_WARMING = False


@st.cache_data(max_entries=32, show_spinner=False)
def _robustness(model_key: str, kind: str, _model) -> np.ndarray:
    return explain.robustness(_model, _damaged(kind), data.digits().y_test)


# ----------------------------------------------------------------------------- the views

def show(state, digits) -> None:
    """The whole Inspect tab: which model, its headline numbers, one view at a time, its file."""
    _warm_damage()
    with st.container(key="inspect_model_box"):
        st.subheader("Look inside a model")
        c = model_choice.selector(state, "inspect_model", "Model to inspect",
                                  help="The same choice as *Which model answers* in the Draw tab.")
        newest = model_choice.newest_other(state, c.key)
        if newest:
            st.caption(f"{newest} is ready: pick it above to look inside it.")
        who = "the **default model**" if c.is_default else f"**{c.label}**"
        st.caption(f"Showing {who} on the {len(digits.y_test)} held-out digits "
                   "it never trained on." + (" Units you switched off in the Draw tab are not applied here."
                                             if model_choice.edits(state, c.key) else ""))
        results.summary(c, digits)
    # One view at a time (a segmented control, not tabs: tabs would run every view on every rerun,
    # and the browser draws one view's charts in well under a second, not all of them).
    views = {"Points map": _points_map, "Mistakes": results.mistakes, "Weights": results.weights,
             "Confidence": _confidence, "Robustness": _robustness_view, "The data it learns from": _data}
    name = st.segmented_control("View", list(views), key="inspect_view", default="Points map",
                                label_visibility="collapsed") or "Points map"
    with st.container(key="inspect_view_box"):
        views[name](c, digits)
    st.divider()
    results.files(state, c, digits)


def _points_map(c, digits) -> None:
    st.caption("What am I looking at: each dot is one held-out digit, coloured by what it really is. Digits that "
               "look alike to the chosen layer land close together. Step from the input to the output and watch "
               "the colours pull apart into clusters: that is the network sorting the digits. Crosses are digits it "
               "gets wrong. Hover a dot to see the digit; click one to see it larger.")
    names = layer_names(c.base.network.sizes)
    a, b = st.columns([2, 1])
    layer = a.segmented_control("Layer", list(range(len(names))), format_func=lambda i: names[i],
                                key="points_layer", default=0) or 0
    method = b.segmented_control("Projection", list(PROJECTIONS), format_func=PROJECTIONS.get,
                                 key="points_method", default="pca") or "pca"
    layer = min(layer, len(names) - 1)
    _, predicted = model_choice.evaluation(c)
    figure = _points(c.key, layer, method, c.base)
    left, right = st.columns([2.2, 1], gap="medium")
    with left, st.container(key="points_map"):
        event = st.plotly_chart(figure, key="points_chart",
                                on_select="rerun", selection_mode="points", config={"displayModeBar": False})
    picked = event["selection"]["points"] if event else []
    with right, st.container(key="points_digit"):
        if picked and picked[0].get("customdata"):
            j = int(picked[0]["customdata"][0])
            st.image(charts.digit_image(digits.X_test[j], 16), width=128)
            st.markdown(f"Held-out digit {j}: a **{digits.y_test[j]}**, read as **{predicted[j]}**")
        else:
            st.caption("Click a dot to see its digit here.")
        how = ("PCA keeps the two directions along which the digits differ most." if method == "pca" else
               "t-SNE keeps neighbours next to each other; distances between clusters mean little. It takes "
               "several seconds (more on a busy server) the first time for each layer, then it is remembered.")
        st.caption(f"{names[layer]}: {how}")


def _confidence(c, digits) -> None:
    st.caption("What am I looking at: the network can say *I don't know* when its top probability is below a "
               "threshold. The higher the threshold, the fewer digits it answers (left) but the more of those it "
               "gets right (up). The orange dot is your threshold; the Draw tab uses it too.")
    proba, _ = model_choice.evaluation(c)
    threshold = st.slider("Say 'I don't know' below this confidence", 0.0, 0.99,
                          st.session_state.get("confidence_threshold", 0.0), 0.01, key="confidence_threshold",
                          format="%.2f")
    curve = explain.coverage_curve(proba, digits.y_test, c.base.classes)
    single = explain.coverage_curve(proba, digits.y_test, c.base.classes, thresholds=[threshold])
    n = len(digits.y_test)
    answered = round(single["coverage"][0] * n)
    left, right = st.columns([2, 1], gap="large")
    with left:
        st.plotly_chart(coverage_figure(curve, threshold), key="coverage_chart", config={"displayModeBar": False})
    with right:
        st.metric("Answers", f"{answered} of {n}", help="held-out digits at or above the threshold")
        acc = single["accuracy"][0]
        st.metric("Right on those", "–" if np.isnan(acc) else f"{acc:.1%}")
        st.metric("Says 'I don't know'", f"{n - answered}")


def _robustness_view(c, digits) -> None:
    st.caption("What am I looking at: the held-out digits damaged step by step — random noise, turned, drawn "
               "thinner or thicker — and the share each model still reads right. The flatter the line, the "
               "sturdier the model. Rotation turns the 8×8 picture itself; the stroke steps redraw each digit "
               "with more or less ink, as the re-rendered training copies are drawn.")
    cols = st.columns(len(explain.DAMAGES), gap="medium")
    default = data.default_model()
    for col, kind in zip(cols, explain.DAMAGES):
        lines = {c.label: _robustness(c.key, kind, c.base)}
        if not c.is_default:
            lines["Default model"] = _robustness(model_choice.DEFAULT, kind, default)
        with col:
            st.plotly_chart(robustness_figure(kind, lines), key=f"robust_{kind}", config={"displayModeBar": False})
            sets = _damaged(kind)
            st.image(digit_row([Xd[0] for _, Xd in sets], 5), caption=f"One digit at each {kind} step")


def _data(c, digits) -> None:
    st.caption("What am I looking at: the digits the network learns from — scikit-learn's load_digits, 1,797 "
               "hand-written digits scanned at 8×8 pixels, each pixel 0 (white) to 16 (full ink). Three quarters "
               f"({len(digits.y_train):,}) are for training; the other {len(digits.y_test)} are held out to test it.")
    X, y = digits.X_train, digits.y_train
    counts = np.bincount(y, minlength=10)
    left, right = st.columns([1, 1.3], gap="large")
    with left:
        st.markdown("**How many of each**")
        st.plotly_chart({"data": [{"type": "bar", "x": [str(k) for k in range(10)], "y": counts.tolist(),
                                   "marker": {"color": list(CLASS_COLOURS)}, "text": counts.tolist(),
                                   "textposition": "outside", "hovertemplate": "%{x}: %{y} digits<extra></extra>"}],
                         "layout": {"height": 220, "margin": {"l": 40, "r": 10, "t": 20, "b": 40}, "font": charts.FONT,
                                    "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white",
                                    "xaxis": {"title": {"text": "digit"}, "type": "category"},
                                    "yaxis": {"range": [0, counts.max() * 1.2], "title": {"text": "training digits"}}}},
                        key="data_counts", config={"displayModeBar": False})
        st.markdown("**The average digit**")
        st.image(digit_row([X[y == k].mean(axis=0) for k in range(10)], 5),
                 caption="Every training digit of each class laid on top of each other")
    with right:
        k = st.segmented_control("Examples of", list(range(10)), key="data_class", default=0)
        k = 0 if k is None else k
        idx = np.flatnonzero(y == k)[:EXAMPLES_PER_CLASS]
        rows = [digit_row(X[idx[r:r + 8]], 5) for r in (0, 8)]
        gap = np.full((5, rows[0].shape[1]), 255, np.uint8)
        st.image(np.concatenate([rows[0], gap, rows[1]]), caption=f"The first {len(idx)} training {k}s")
    st.markdown("**What the training options make of a digit**")
    st.caption("*Half-pixel shifts* add four copies of each digit, moved half a pixel up, down, left and right. "
               "*Re-rendered copies* redraw it with random slant, rotation, stroke width and wobble, through the "
               "same steps that turn your drawing into 8×8. More kinds of the same digit teach the network what "
               "does not matter.")
    ss = st.session_state
    a, b = st.columns([1, 4])
    if a.button("Another digit", key="data_another"):
        ss["data_pick"] = ss.get("data_pick", 0) + 1
    pick = int(np.flatnonzero(y == k)[ss.get("data_pick", 0) % counts[k]])
    x = X[pick]
    shifts = np.concatenate([augment.shift(x[None], dy, dx) for dy, dx in augment.HALF_PIXEL_SHIFTS])
    copies, _ = augment.augment(x[None], np.array([k]), 8, np.random.default_rng(ss.get("data_pick", 0)))
    with b:
        _strip([x], f"original (#{pick})", 10)
        _strip(shifts, "half-pixel shifts: up, down, left, right", 10)
        _strip(copies, "eight re-rendered copies", 10)


def digit_row(images, scale: int) -> np.ndarray:
    """8x8 digits side by side with a white gap between them: one (8*scale, ...) uint8 image."""
    gap = np.full((8 * scale, max(2, scale)), 255, np.uint8)
    parts = []
    for im in images:
        parts += [charts.digit_image(im, scale), gap]
    return np.concatenate(parts[:-1], axis=1)


def _strip(images, caption: str, scale: int) -> None:
    row = digit_row(images, scale)
    st.image(row, caption=caption, width=row.shape[1])
