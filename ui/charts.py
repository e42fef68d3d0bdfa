"""Pure functions that build Plotly figures as plain dicts (cheap to send, no Streamlit needed),
and small image helpers for 8x8 digits and weight tiles.
"""
from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def _drawn_columns(sizes) -> list:
    """Vertical positions in [-1, 1] of the drawn units of each layer (wide layers: MAX_DRAWN_UNITS
    units with a gap in the middle for the "⋮")."""
    columns = []
    for n in sizes:
        shown = min(n, MAX_DRAWN_UNITS)
        ys = np.linspace(-1, 1, shown) if shown > 1 else np.zeros(1)
        if n > MAX_DRAWN_UNITS:
            ys = np.concatenate([np.linspace(-1, -0.15, shown // 2), np.linspace(0.15, 1, shown - shown // 2)])
        columns.append(ys)
    return columns


def network_image(sizes, activations=()) -> Image.Image:
    """A small drawing of the network as a picture: a column of units per layer (wide layers drawn
    with MAX_DRAWN_UNITS units and a gap), every connection between drawn units, widths below.

    A picture rather than a Plotly figure: it changes with every sidebar change, and a browser
    shows a new PNG for a small part of what redrawing a Plotly chart costs it."""
    # Drawn 4x larger, then reduced to 2x: smooth, and sharp on high-density screens (the page
    # shows it at the column's width, about half its pixels).
    k, width, height, top, span = 4, 240, 226, 12, 150
    step = (width - 64) / max(len(sizes) - 1, 1)
    xs = [k * (32 + step * i) for i in range(len(sizes))]
    columns = [k * (top + span * (1 - ys) / 2) for ys in _drawn_columns(sizes)]   # +1 at the top
    image = Image.new("RGB", (k * width, k * height), "white")
    draw = ImageDraw.Draw(image)
    for x0, x1, c0, c1 in zip(xs, xs[1:], columns, columns[1:]):
        for a in c0:
            for b in c1:
                draw.line([(x0, a), (x1, b)], fill=(226, 230, 235), width=k)
    size = 16 if step >= 80 else 13 if step >= 55 else 11 if step >= 40 else 9   # label px by room
    font, bold = ImageFont.load_default(size=size * k), ImageFont.load_default(size=(size + 1) * k)
    hidden = "hidden " if len(sizes) <= 3 else "h"     # several hidden layers: h1, h2, ...
    names = ["input", *[f"{hidden}{i + 1}" for i in range(len(sizes) - 2)], "output"]
    for i, (n, x, ys) in enumerate(zip(sizes, xs, columns)):
        color = "#64748b" if i == 0 else "#16a34a" if i == len(sizes) - 1 else TRAIN
        for y in ys:
            draw.ellipse([x - 5 * k, y - 5 * k, x + 5 * k, y + 5 * k], fill=color, outline="white", width=k)
        if n > MAX_DRAWN_UNITS:
            for dy in (-5, 0, 5):
                draw.ellipse([x - 1.2 * k, k * (top + span / 2 + dy) - 1.2 * k,
                              x + 1.2 * k, k * (top + span / 2 + dy) + 1.2 * k], fill="#334155")
        lines = [(str(n), bold, "#0f172a"), (names[i], font, "#475569")]
        if 0 < i <= len(activations):
            lines.append((str(activations[i - 1]), font, "#475569"))
        for row, (text, face, fill) in enumerate(lines):
            draw.text((x, k * (top + span + 12 + (size + 2) * row)), text, font=face, fill=fill, anchor="mt")
    return image.resize((2 * width, 2 * height), Image.Resampling.LANCZOS)


@lru_cache(maxsize=256)
def network_png(sizes: tuple, activations: tuple = ()) -> bytes:
    """network_image as a 256-colour PNG (~25 KB instead of ~150 KB; it looks the same), made once
    per architecture: drawing and encoding take ~50 ms, and every full rerun of every visitor
    shows the drawing."""
    palette = network_image(sizes, activations).quantize(256, method=Image.Quantize.FASTOCTREE,
                                                        dither=Image.Dither.NONE)
    colours = palette.getpalette()
    corner = palette.getpixel((0, 0))                # the background: exactly the page's white
    colours[3 * corner:3 * corner + 3] = [255, 255, 255]
    palette.putpalette(colours)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
