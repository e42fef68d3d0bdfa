"""The Draw tab's look inside: every layer's activations for the drawn digit (click a unit to take
it apart), which pixels pushed towards the answer and which against it, and the first-layer units
that helped most. The math is in mlp/explain.py; this module only lays it out."""
from __future__ import annotations

import numpy as np
import streamlit as st

from mlp import explain
from mlp.preprocess import variants_proba
from ui import charts, data, model_choice
from ui.model_choice import Chosen

MAX_SHOWN_UNITS = 128   # a wider layer shows its most active units (the default model has 4608)
GRID_COLUMNS = 32
TOP_UNITS = 4
GAINS = {"Switch off": 0.0, "Halve": 0.5, "Double": 2.0, "Restore": 1.0}
ACTIVE = "#fef08a"      # bright = active, on a dark ground
ASLEEP = "#0f172a"
# dark -> brown -> amber -> pale yellow: units at half and at full strength look clearly different
BRIGHTNESS = [[0, ASLEEP], [0.35, "#7c2d12"], [0.7, "#f59e0b"], [1, ACTIVE]]
TOWARD = "rgba(220,38,38,0.95)"
AGAINST = "rgba(37,99,235,0.95)"


# ----------------------------------------------------------------------------- figures (pure)

def shown_units(h: np.ndarray, limit: int = MAX_SHOWN_UNITS) -> np.ndarray:
    """Which units of a layer to draw: all of a narrow layer in order; of a wide one the `limit`
    most active, strongest first (a 4608-unit grid would be specks)."""
    if len(h) <= limit:
        return np.arange(len(h))
    return np.argsort(-h, kind="stable")[:limit]


def activations_figure(outputs, proba, classes, off=(), picked=None) -> dict:
    """One row block per hidden layer (a grid of squares, brightness = activation, scaled per
    layer) and a last row for the ten outputs. customdata = [layer, unit] for a click; units in
    `off` ({(layer, unit)}) are crossed, `picked` (layer, unit) is ringed."""
    data, annotations, y0 = [], [], 0
    for layer, h in enumerate(outputs):
        idx = shown_units(h)
        cols = min(GRID_COLUMNS, len(idx))
        r, c = np.divmod(np.arange(len(idx)), cols)
        top = float(h.max()) if h.max() > 0 else 1.0
        lines = ["#ef4444" if (layer, int(u)) in off else ("#22d3ee" if picked == (layer, int(u)) else ASLEEP)
                 for u in idx]
        widths = [3 if (layer, int(u)) in off or picked == (layer, int(u)) else 0.5 for u in idx]
        data.append({"type": "scatter", "mode": "markers", "x": c.tolist(), "y": (r + y0).tolist(),
                     "customdata": [[layer, int(u), float(h[u])] for u in idx],
                     "marker": {"symbol": "square", "size": 15, "color": h[idx].tolist(), "cmin": 0, "cmax": top,
                                "colorscale": BRIGHTNESS, "line": {"color": lines, "width": widths}},
                     "unselected": {"marker": {"opacity": 1}}, "selected": {"marker": {"opacity": 1}},
                     "hovertemplate": f"hidden layer {layer + 1}, unit %{{customdata[1]}}: output "
                                      "%{customdata[2]:.3g}<br>click to take it apart<extra></extra>",
                     "name": f"hidden layer {layer + 1}"})
        n_on = int(np.sum(h > 0))
        more = f", the {len(idx)} most active shown" if len(idx) < len(h) else ""
        annotations.append({"x": -0.5, "y": y0 - 0.9, "xref": "x", "yref": "y", "xanchor": "left",
                            "showarrow": False, "font": {"size": 12},
                            "text": f"<b>Hidden layer {layer + 1}</b>: {len(h)} units, {n_on} active{more}"})
        y0 += int(r.max()) + 3
    proba = np.asarray(proba, dtype=float)
    data.append({"type": "scatter", "mode": "markers+text", "x": (np.arange(len(proba)) * 3 + 1).tolist(),
                 "y": [y0] * len(proba), "text": [str(k) for k in classes], "textposition": "middle center",
                 "textfont": {"color": ["#0f172a" if p > 0.5 else "#e2e8f0" for p in proba], "size": 13},
                 "customdata": [[-1, k, float(p)] for k, p in enumerate(proba)],
                 "marker": {"symbol": "square", "size": 26, "color": proba.tolist(), "cmin": 0, "cmax": 1,
                            "colorscale": BRIGHTNESS},
                 "unselected": {"marker": {"opacity": 1}, "textfont": {"color": "#e2e8f0"}},
                 "hovertemplate": "output %{text}: probability %{customdata[2]:.1%}<extra></extra>", "name": "output"})
    annotations.append({"x": -0.5, "y": y0 - 1.1, "xref": "x", "yref": "y", "xanchor": "left", "showarrow": False,
                        "text": "<b>Output</b>: one unit per digit, brightness = probability", "font": {"size": 12}})
    rows = y0 + 1
    return {"data": data, "layout": {
        "height": 60 + 19 * rows, "margin": {"l": 5, "r": 5, "t": 10, "b": 5}, "showlegend": False,
        "font": charts.FONT, "plot_bgcolor": "white", "paper_bgcolor": "rgba(0,0,0,0)", "annotations": annotations,
        "clickmode": "event+select", "dragmode": False, "hovermode": "closest",
        "xaxis": {"visible": False, "range": [-0.7, GRID_COLUMNS - 0.3], "fixedrange": True},
        "yaxis": {"visible": False, "range": [rows - 0.3, -1.6], "fixedrange": True}}}


def attribution_figure(x, attribution, target) -> dict:
    """The 8x8 digit in greys with the pixel shares over it: red pushed towards `target`,
    blue against, on one symmetric scale; hover gives each pixel's ink and share."""
    x = np.asarray(x, dtype=float).reshape(8, 8)
    a = np.asarray(attribution, dtype=float).reshape(8, 8)
    # Saturate at the 90th percentile of the non-zero shares, so more than the top pixel shows colour.
    nonzero = np.abs(a[a != 0])
    top = float(np.quantile(nonzero, 0.9)) if nonzero.size else 1.0
    text = [[f"ink {x[r, c]:.0f}/16, share {a[r, c]:+.2f}" for c in range(8)] for r in range(8)]
    return {"data": [
        {"type": "heatmap", "z": x.tolist(), "zmin": 0, "zmax": 16, "showscale": False, "hoverinfo": "skip",
         "colorscale": [[0, "#ffffff"], [1, "#9ca3af"]]},      # light ink, so the colours stay clear
        {"type": "heatmap", "z": a.tolist(), "zmin": -top, "zmax": top, "zmid": 0, "text": text,
         "hovertemplate": "row %{y}, column %{x}: %{text}<extra></extra>",
         "colorscale": [[0, AGAINST], [0.5, "rgba(255,255,255,0)"], [1, TOWARD]],
         "colorbar": {"thickness": 12,
                      "tickvals": [-top, 0, top], "ticktext": [f"against {target}", "0", f"toward {target}"],
                      "len": 0.9}}],
        "layout": {"height": 300, "width": 330, "margin": {"l": 5, "r": 5, "t": 5, "b": 5}, "font": charts.FONT,
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white",
                   "xaxis": {"visible": False, "fixedrange": True, "constrain": "domain"},
                   "yaxis": {"visible": False, "fixedrange": True, "autorange": "reversed", "scaleanchor": "x"}}}


def incoming_figure(weights) -> dict:
    """A deeper unit's incoming weights, one bar per unit of the layer below."""
    w = np.asarray(weights, dtype=float)
    return {"data": [{"type": "bar", "x": list(range(len(w))), "y": w.tolist(),
                      "marker": {"color": [TOWARD if v > 0 else AGAINST for v in w]},
                      "hovertemplate": "from unit %{x}: %{y:.3f}<extra></extra>"}],
            "layout": {"height": 180, "margin": {"l": 40, "r": 5, "t": 5, "b": 30}, "font": charts.FONT,
                       "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white", "showlegend": False,
                       "xaxis": {"title": {"text": "unit in the layer below"}, "fixedrange": True},
                       "yaxis": {"title": {"text": "weight"}, "fixedrange": True}}}


def pick_from(event) -> tuple | None:
    """(layer, unit) of a clicked hidden unit in a selection event, else None."""
    points = event["selection"]["points"] if event else []   # item access: AppTest injects plain dicts
    for p in points:
        layer, unit = p.get("customdata", [-1, -1])[:2]
        if layer >= 0:
            return int(layer), int(unit)
    return None


# ----------------------------------------------------------------------------- the view

def augment_note(c: Chosen) -> str | None:
    """Why a run trained without re-rendered copies may read drawings worse, or None."""
    if c.is_default or c.config is None or getattr(c.config, "augment", 0):
        return None
    return (f"{c.label} was trained on load_digits' own scans only, without the re-rendered copies "
            "(training option *re-rendered copies* = 0). Drawings have other stroke widths, slants and "
            "wobbles than those scans, so it may read them worse than the default model, which trained "
            "on eight re-rendered copies of every digit.")


def show(state, c: Chosen, variants: np.ndarray) -> None:
    """Everything below the answer for a digit's renderings (k, 8, 8), [0] the one shown: the
    layers and attributions are those of [0]; the outputs are the answer's (the mean over all)."""
    net = c.model.network
    x = np.asarray(variants[0], dtype=float).reshape(64)
    gains = explain.gain_vectors(net, c.edits)
    outputs = explain.layer_outputs(net, x, gains)   # the edited copy's flow, switched-off units dark
    proba = variants_proba(c.model, variants)
    classes = list(np.asarray(c.model.classes))
    target = int(np.argmax(proba))
    ss = st.session_state
    picked = ss.get("picked_unit")
    picked = picked[1:] if picked and picked[0] == c.key and picked[1] < len(outputs) - 2 else None

    st.subheader("Inside the network")
    left, right = st.columns([1.5, 1], gap="large")
    with left:
        st.markdown("**See it think**")
        st.caption("What am I looking at: every square is one unit (a 'neuron') of the network; the brighter it "
                   "is, the more strongly your digit makes it fire. Signals flow from top to bottom, into the ten "
                   "output units, one per digit. **Click a square** to take that unit apart below.")
        with st.container(key="activations"):
            event = st.plotly_chart(
                activations_figure([o[0] for o in outputs[1:-1]], proba, classes, set(c.edits), picked),
                key="activations_chart", on_select="rerun", selection_mode="points",
                config={"displayModeBar": False})
        clicked = pick_from(event)
        if clicked is not None and clicked != ss.get("last_click"):
            ss["last_click"] = clicked
            ss["picked_unit"] = (c.key, *clicked)
            picked = clicked
    with right, st.container(key="attribution"):
        _why(c, net, x, target, classes)
    with st.container(key="take_apart"):
        _take_apart(state, c, x, picked, proba, classes, variants)


def _why(c: Chosen, net, x, target: int, classes) -> None:
    st.markdown(f"**Why {classes[target]}?**")
    st.caption("What am I looking at: your 8×8 digit with each inked pixel coloured by how much it pushed the "
               f"network towards **{classes[target]}** (red) or away from it (blue). Computed as gradient × "
               "input: how fast the answer's score changes with the pixel, times the pixel's ink. One "
               "backward pass, and the shares add up to the score.")
    attr = explain.pixel_attribution(net, x, target)
    st.plotly_chart(attribution_figure(x, attr, classes[target]), key="attribution_chart",
                    config={"displayModeBar": False})
    contrib = explain.unit_contributions(net, x, target)
    best = [int(u) for u in np.argsort(-contrib)[:TOP_UNITS] if contrib[u] > 0]
    if best and net.sizes[0] == 64:
        st.markdown("**The first-layer units that helped most**")
        st.caption("Each tile is a unit's 64 incoming weights laid out as the 8×8 image (red: ink there "
                   "excites it, blue: ink there calms it). The number is its share of the answer's score.")
        st.image(charts.weight_tiles(net.weights[0][:, best], columns=TOP_UNITS, scale=8, gap=6), width=300)
        st.caption(" · ".join(f"unit {u}: {contrib[u]:+.2f}" for u in best))


def _take_apart(state, c: Chosen, x, picked, proba, classes, variants) -> None:
    st.markdown("**Take it apart**")
    if picked is None:
        st.caption("Click a square in the picture above to see what that unit computes, and switch it off.")
    else:
        _unit(c, x, *picked)
    _edit_buttons(state, c, picked, x, classes)
    if c.edits:
        _effect(c, proba, classes, variants)


def _unit(c: Chosen, x, layer: int, unit: int) -> None:
    d = explain.unit_detail(c.model.network, x, layer, unit)
    gain = c.edits.get((layer, unit), 1.0)
    state = "switched off" if gain == 0 else ("" if gain == 1 else f"scaled ×{gain:g}")
    st.markdown(f"Hidden layer {layer + 1}, **unit {unit}**" + (f" — *{state}*" if state else ""))
    cols = st.columns([1, 1, 1, 2.2])
    cols[0].metric("Weighted sum", f"{d['sum']:.3f}", help="Σ weight × input + bias")
    cols[1].metric("Bias", f"{d['bias']:.3f}")
    cols[2].metric("Output", f"{d['output']:.3f}", help=f"{d['activation']}(weighted sum)")
    with cols[3]:
        if layer == 0:
            st.image(charts.weight_tiles(d["weights"][:, None], columns=1, scale=14), width=112,
                     caption="Incoming weights (8×8)")
        else:
            st.plotly_chart(incoming_figure(d["weights"]), key="incoming_chart", config={"displayModeBar": False})


def _edit_buttons(state, c: Chosen, picked, x, classes) -> None:
    # Callbacks run before the rerun they trigger, so the page shows the edit at once.
    key = c.key
    with st.container(horizontal=True, key="unit_buttons"):
        for name, gain in GAINS.items():
            st.button(name, key=f"unit_{name.lower().replace(' ', '_')}", disabled=picked is None,
                      on_click=model_choice.push_edit, args=(state, key, *(picked or (0, 0)), gain),
                      help=f"{name} the picked unit (acts on your own copy of the model)")
        st.button("Switch off the 10 that helped most", key="unit_off_top", on_click=_off_top, args=(state, c, x),
                  help="The ten first-layer units with the largest share of this answer")
        st.button("Undo", key="unit_undo", disabled=not c.edits, on_click=model_choice.undo_edit,
                  args=(state, key))
        st.button("Reset all", key="unit_reset", disabled=not c.edits, on_click=model_choice.reset_edits,
                  args=(state, key))


def _off_top(state, c: Chosen, x) -> None:
    net = c.model.network
    contrib = explain.unit_contributions(net, x, int(np.argmax(c.model.predict_proba(x[None]))))
    for u in np.argsort(-contrib)[:10]:
        model_choice.push_edit(state, c.key, 0, int(u), 0.0)


def _effect(c: Chosen, proba, classes, variants) -> None:
    digits = data.digits()
    before = variants_proba(c.base, variants)
    b, a = int(np.argmax(before)), int(np.argmax(proba))
    off = sum(g == 0 for g in c.edits.values())
    changed = len(c.edits) - off
    what = ", ".join(p for p in (f"{off} unit{'s' * (off != 1)} switched off" if off else "",
                                 f"{changed} scaled" if changed else "") if p)
    acc_before = _accuracy(c.key, c.base)
    acc_after = explain.accuracy(c.model, digits.X_test, digits.y_test)
    with st.container(key="edit_effect"):
        st.markdown(f"**Your edits** ({what}, on your own copy; the original model is untouched)")
        cols = st.columns(2)
        cols[0].metric("Answer for your digit", f"{classes[a]} ({proba[a]:.1%})",
                       delta=f"was {classes[b]} ({before[b]:.1%})", delta_color="off", delta_arrow="off")
        points = 100 * (acc_after - acc_before)
        cols[1].metric("Held-out accuracy", f"{acc_after:.1%}",
                       delta="no change" if abs(points) < 0.05 else f"{points:+.1f} points",
                       delta_color="off" if abs(points) < 0.05 else "normal",
                       delta_arrow="off" if abs(points) < 0.05 else "auto",
                       help=f"{acc_before:.1%} before your edits, on the {len(digits.y_test)} held-out digits")


@st.cache_data(max_entries=16, show_spinner=False)
def _accuracy(model_key: str, _model) -> float:
    """Held-out accuracy of an unedited model, once per model (keys are unique per model)."""
    d = data.digits()
    return explain.accuracy(_model, d.X_test, d.y_test)
