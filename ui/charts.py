"""Pure functions that build Plotly figures as plain dicts (cheap to send, no Streamlit needed),
and small image helpers for 8x8 digits and weight tiles.
"""
from __future__ import annotations

import numpy as np

TRAIN = "#2563eb"
VALIDATION = "#f97316"
PALETTE = ("#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777")
FONT = {"family": "Inter, system-ui, sans-serif", "size": 12}
FRAME = 190           # grey level of the frame around digit images
MAX_DRAWN_UNITS = 12   # a layer wider than this is drawn as 12 units with a gap


def _base_layout(**extra) -> dict:
    layout = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "font": FONT, "plot_bgcolor": "white",
              "paper_bgcolor": "rgba(0,0,0,0)", "hovermode": "x unified"}
    layout.update(extra)
    return layout


def _axis(title, **extra) -> dict:
    return {"title": {"text": title}, "gridcolor": "#e5e7eb", "zeroline": False, **extra}


LOG_TICKS = tuple(m * 10.0 ** e for e in range(-8, 5) for m in (1, 2, 5))


def _log_axis(title) -> dict:
    """A log-scale axis labelled at 1, 2 and 5 times each power of ten (plotly's own log ticks
    label only the powers, often just two of them on a loss curve)."""
    return _axis(title, type="log", tickvals=list(LOG_TICKS), ticktext=[f"{v:g}" for v in LOG_TICKS])


def _top_legend() -> dict:
    """A one-row legend above the plot's top-right corner, clear of the x-axis titles."""
    return {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}


def training_figure(records, epochs: int, title: str = "") -> dict:
    """Loss (left) and accuracy (right) per epoch, train and validation, x fixed to 1..epochs so
    the curves visibly grow. `records`: a sequence of EpochRecord."""
    x = [r.epoch for r in records]
    data = [
        {"type": "scatter", "mode": "lines", "name": "train", "x": x, "y": [r.train_loss for r in records],
         "line": {"color": TRAIN}, "legendgroup": "train"},
        {"type": "scatter", "mode": "lines", "name": "train accuracy", "x": x,
         "y": [r.train_accuracy for r in records], "line": {"color": TRAIN}, "xaxis": "x2", "yaxis": "y2",
         "legendgroup": "train", "showlegend": False},
    ]
    if records and records[0].val_loss is not None:
        data += [
            {"type": "scatter", "mode": "lines", "name": "validation", "x": x,
             "y": [r.val_loss for r in records], "line": {"color": VALIDATION}, "legendgroup": "val"},
            {"type": "scatter", "mode": "lines", "name": "validation accuracy", "x": x,
             "y": [r.val_accuracy for r in records], "line": {"color": VALIDATION}, "xaxis": "x2",
             "yaxis": "y2", "legendgroup": "val", "showlegend": False},
        ]
    span = [0.5, max(epochs, 1) + 0.5]
    layout = _base_layout(
        height=340, showlegend=True, legend=_top_legend(),
        xaxis=_axis("epoch", domain=[0, 0.45], range=span),
        yaxis=_log_axis("loss"),
        xaxis2=_axis("epoch", domain=[0.55, 1], range=span, anchor="y2"),
        yaxis2=_axis("accuracy", anchor="x2", tickformat=".0%", autorangeoptions={"maxallowed": 1.005}),
        annotations=[
            {"text": "<b>Loss</b>", "x": 0, "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
             "xanchor": "left", "yanchor": "bottom"},
            {"text": "<b>Accuracy</b>", "x": 0.55, "y": 1.02, "xref": "paper", "yref": "paper",
             "showarrow": False, "xanchor": "left", "yanchor": "bottom"},
        ],
    )
    if not records:
        # Nothing to autorange on yet: an empty frame with the ranges a run starts in, instead of
        # plotly's defaults (a loss axis from 0.1 to 10,000 and accuracy from -100% to 400%).
        layout["yaxis"]["range"] = [-1.0, 0.5]     # log10: loss 0.1 .. ~3
        layout["yaxis2"]["range"] = [0, 1]
    if title:
        layout["title"] = {"text": title, "x": 0, "font": {"size": 13}}
        layout["margin"]["t"] = 60
    return {"data": data, "layout": layout}


def history_figure(runs, metric: str = "val_accuracy") -> dict:
    """One line per run for `metric` (an EpochRecord field): the run history overlay."""
    data = []
    for k, run in enumerate(runs):
        y = [getattr(r, metric) for r in run.records]
        data.append({"type": "scatter", "mode": "lines", "name": f"Run {run.id}",
                     "x": [r.epoch for r in run.records], "y": y,
                     "line": {"color": PALETTE[k % len(PALETTE)]},
                     "hovertemplate": f"Run {run.id}: %{{y:.4g}}<extra></extra>"})
    accuracy = metric.endswith("accuracy")
    return {"data": data, "layout": _base_layout(
        height=340, showlegend=True, legend=_top_legend(),
        xaxis=_axis("epoch"),
        yaxis=_axis(metric.replace("_", " "), tickformat=".0%") if accuracy else _log_axis(metric.replace("_", " ")))}


def network_figure(sizes, activations=()) -> dict:
    """A small drawing of the network: one column of units per layer (wide layers drawn with
    MAX_DRAWN_UNITS units and a gap), every connection between drawn units, widths below."""
    columns = []
    for n in sizes:
        shown = min(n, MAX_DRAWN_UNITS)
        ys = np.linspace(-1, 1, shown) if shown > 1 else np.zeros(1)
        if n > MAX_DRAWN_UNITS:   # leave a gap in the middle for the "⋮"
            ys = np.concatenate([np.linspace(-1, -0.15, shown // 2), np.linspace(0.15, 1, shown - shown // 2)])
        columns.append(ys)
    ex, ey = [], []
    for i in range(len(sizes) - 1):
        for y0 in columns[i]:
            for y1 in columns[i + 1]:
                ex += [i, i + 1, None]
                ey += [float(y0), float(y1), None]
    nx = [i for i, ys in enumerate(columns) for _ in ys]
    ny = [float(y) for ys in columns for y in ys]
    colors = ["#64748b" if i == 0 else ("#16a34a" if i == len(sizes) - 1 else TRAIN)
              for i, ys in enumerate(columns) for _ in ys]
    labels = []
    names = ["input", *[f"hidden {i + 1}" for i in range(len(sizes) - 2)], "output"]
    for i, n in enumerate(sizes):
        act = f"<br>{activations[i - 1]}" if 0 < i <= len(activations) else ""
        labels.append({"x": i, "y": -1.25, "text": f"<b>{n}</b><br>{names[i]}{act}", "showarrow": False,
                       "yanchor": "top", "font": {"size": 11}})
        if n > MAX_DRAWN_UNITS:
            labels.append({"x": i, "y": 0, "text": "⋮", "showarrow": False, "font": {"size": 16}})
    data = [
        {"type": "scatter", "mode": "lines", "x": ex, "y": ey, "hoverinfo": "skip",
         "line": {"color": "rgba(100,116,139,0.18)", "width": 1}},
        {"type": "scatter", "mode": "markers", "x": nx, "y": ny, "hoverinfo": "skip",
         "marker": {"size": 9, "color": colors, "line": {"color": "white", "width": 1}}},
    ]
    hidden_axis = {"visible": False, "fixedrange": True}
    return {"data": data, "layout": {
        "height": 260, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "showlegend": False, "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "annotations": labels,
        "xaxis": {**hidden_axis, "range": [-0.5, len(sizes) - 0.5]},
        "yaxis": {**hidden_axis, "range": [-2.1, 1.15]}}}


def confusion_figure(cm, normalise: bool = False) -> dict:
    """Confusion matrix heatmap (rows: true digit, columns: predicted) with an invisible scatter
    marker on every cell: plotly.js heatmaps are not selectable, the markers are, so a click on a
    cell reports that cell's (x=predicted, y=true)."""
    cm = np.asarray(cm)
    n = cm.shape[0]
    rows = cm.sum(axis=1, keepdims=True)
    z = cm / np.maximum(rows, 1) if normalise else cm
    text = [[(f"{v:.0%}" if v else "") if normalise else (str(int(v)) if v else "") for v in row] for row in z]
    labels = list(range(n))
    xx, yy = np.meshgrid(labels, labels)
    data = [
        {"type": "heatmap", "z": z.tolist(), "x": labels, "y": labels, "text": text, "texttemplate": "%{text}",
         "colorscale": "Blues", "showscale": False, "hoverinfo": "skip", "zmin": 0,
         "zmax": 1 if normalise else max(int(cm.max()), 1)},
        {"type": "scatter", "mode": "markers", "x": xx.ravel().tolist(), "y": yy.ravel().tolist(),
         "customdata": cm.ravel().tolist(),
         "marker": {"symbol": "square", "size": 34, "color": "rgba(0,0,0,0)"},
         "hovertemplate": "true %{y}, predicted %{x}: %{customdata} images<extra></extra>"},
    ]
    return {"data": data, "layout": {
        "height": 460, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "font": FONT, "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white", "clickmode": "event+select",
        "dragmode": False,
        "xaxis": {"title": {"text": "predicted digit"}, "range": [-0.5, n - 0.5], "dtick": 1,
                  "constrain": "domain", "fixedrange": True, "side": "bottom"},
        "yaxis": {"title": {"text": "true digit"}, "range": [n - 0.5, -0.5], "dtick": 1,
                  "scaleanchor": "x", "fixedrange": True}}}


def probability_figure(proba, classes=range(10)) -> dict:
    """Bar chart of the ten class probabilities, the winner highlighted."""
    proba = np.asarray(proba, dtype=float)
    best = int(np.argmax(proba))
    colors = [TRAIN if k == best else "#cbd5e1" for k in range(len(proba))]
    return {"data": [{"type": "bar", "x": [str(c) for c in classes], "y": proba.tolist(),
                      "marker": {"color": colors}, "text": [f"{p:.0%}" if p >= 0.01 else "" for p in proba],
                      "textposition": "outside", "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}],
            "layout": _base_layout(height=260, showlegend=False, hovermode="closest",
                                   margin={"l": 40, "r": 10, "t": 20, "b": 40},
                                   xaxis={"title": {"text": "digit"}, "type": "category", "fixedrange": True},
                                   yaxis=_axis("probability", range=[0, 1.15], tickformat=".0%",
                                               fixedrange=True))}


def digit_image(x, scale: int = 16, frame: bool = True) -> np.ndarray:
    """An 8x8 digit (values 0..16, ink high) as a (8*scale, 8*scale) uint8 image, dark ink on
    white, with a 1-pixel grey frame so that its white edge shows on a white page."""
    x = np.clip(np.asarray(x, dtype=float).reshape(8, 8), 0, 16)
    pixels = (255 - x * (255 / 16)).round().astype(np.uint8)
    img = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
    if frame:
        img[[0, -1], :] = FRAME
        img[:, [0, -1]] = FRAME
    return img


def weight_tiles(weights, columns: int = 16, scale: int = 6, gap: int = 2) -> np.ndarray:
    """First-layer weights (64, n_units) as one RGB mosaic: each unit's 64 incoming weights an 8x8
    tile, scaled per tile, blue negative, red positive, white zero."""
    w = np.asarray(weights, dtype=float)
    n = w.shape[1]
    cols = min(columns, n)
    rows = -(-n // cols)
    side = 8 * scale
    out = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap, 3), 255, np.uint8)
    for k in range(n):
        tile = w[:, k].reshape(8, 8)
        t = tile / (np.abs(tile).max() or 1.0)            # -1..1
        rgb = np.empty((8, 8, 3))
        pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
        rgb[..., 0] = 1 - neg * 0.85                     # red channel fades for negative
        rgb[..., 1] = 1 - (pos + neg) * 0.75
        rgb[..., 2] = 1 - pos * 0.85                     # blue channel fades for positive
        rgb = (rgb * 255).round().astype(np.uint8)
        r, c = divmod(k, cols)
        y0, x0 = r * (side + gap), c * (side + gap)
        out[y0:y0 + side, x0:x0 + side] = np.kron(rgb, np.ones((scale, scale, 1), dtype=np.uint8))
    return out
