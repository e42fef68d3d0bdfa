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
GAP_GREY = 203         # the grey between weight tiles
SELECTED = "#f97316"   # the outline of the confusion-matrix cell whose images are shown
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
# Mantissas per decade for log-axis ticks, coarse to fine: a narrow loss range (0.06 .. 0.09) gets
# the fine ones instead of a single tick or none.
MANTISSAS = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5, 7), tuple(range(1, 10)),
             (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8))
MIN_LOG_SPAN = 0.4   # decades: the narrowest loss axis drawn, so even a flat curve gets 3+ ticks
LOG_X_FROM = 50      # runs this long get a log epoch axis: the first epochs keep a fair share of the width


def log_ticks(lo: float, hi: float) -> tuple:
    """(log10 range, tick values) for a log axis showing lo..hi with three to ~eight labelled ticks."""
    a, b = np.log10(max(lo, 1e-12)), np.log10(max(hi, lo, 1e-12))
    if b - a < MIN_LOG_SPAN:                         # widen around the middle
        mid = (a + b) / 2
        a, b = mid - MIN_LOG_SPAN / 2, mid + MIN_LOG_SPAN / 2
    pad = 0.04 * (b - a)
    a, b = a - pad, b + pad
    best = None
    for mantissas in MANTISSAS:
        ticks = [m * 10.0 ** e for e in range(int(np.floor(a)), int(np.ceil(b)) + 1) for m in mantissas]
        ticks = [t for t in ticks if a <= np.log10(t) <= b]
        if len(ticks) >= 3 and (best is None or abs(len(ticks) - 6) < abs(len(best) - 6)):
            best = ticks
    return [float(a), float(b)], [float(f"{t:.6g}") for t in best]


def _log_axis(title, values=()) -> dict:
    """A log-scale axis with labelled ticks chosen for the values' range (plotly's own log ticks
    label only the powers of ten, often one or none on a loss curve)."""
    values = [v for v in values if v is not None and np.isfinite(v) and v > 0]
    if not values:
        return _axis(title, type="log", tickvals=list(LOG_TICKS), ticktext=[f"{v:g}" for v in LOG_TICKS])
    span, ticks = log_ticks(min(values), max(values))
    return _axis(title, type="log", range=span, tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])


def epoch_axis(epochs: int, title: str = "epoch", **extra) -> dict:
    """An epoch axis with whole-number ticks: linear 0.5 .. epochs + 0.5, or for long runs
    (LOG_X_FROM epochs and more) a log axis, so epochs 1-10 are not squeezed into a sliver."""
    epochs = max(int(epochs), 1)
    if epochs >= LOG_X_FROM:
        ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= epochs]
        return _axis(f"{title} (log scale)", type="log", range=[np.log10(0.9), np.log10(epochs * 1.05)],
                     tickvals=ticks, ticktext=[str(t) for t in ticks], **extra)
    dtick = next(d for d in (1, 2, 5, 10, 20, 25, 50) if epochs / d <= 10)
    return _axis(title, range=[0.5, epochs + 0.5], dtick=dtick, tick0=0, tickformat="d", **extra)


def _bottom_legend() -> dict:
    """A one-row legend centred under the plots: clear of the panel titles above them."""
    return {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.2, "yanchor": "top"}


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
    losses = [r.train_loss for r in records] + [r.val_loss for r in records]
    # The accuracy axis sits on the right of its panel: its title never reaches into the loss panel.
    layout = _base_layout(
        height=360, showlegend=True, legend=_bottom_legend(),
        margin={"l": 55, "r": 55, "t": 40, "b": 80},
        xaxis=epoch_axis(epochs, domain=[0, 0.44]),
        yaxis=_log_axis("loss", losses),
        xaxis2=epoch_axis(epochs, domain=[0.56, 1], anchor="y2"),
        yaxis2=_axis("accuracy", anchor="x2", side="right", tickformat=".0%",
                     autorangeoptions={"maxallowed": 1.005}),
        annotations=[
            {"text": "<b>Loss</b>", "x": 0, "y": 1.02, "xref": "paper", "yref": "paper", "showarrow": False,
             "xanchor": "left", "yanchor": "bottom"},
            {"text": "<b>Accuracy</b>", "x": 0.56, "y": 1.02, "xref": "paper", "yref": "paper",
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


def history_figure(runs, metric: str = "val_accuracy", names=None) -> dict:
    """One line per run for `metric` (an EpochRecord field): the run history overlay. `names`:
    one legend entry per run (default "Run <id>")."""
    names = list(names) if names is not None else [f"Run {run.id}" for run in runs]
    data = []
    for k, (run, name) in enumerate(zip(runs, names)):
        y = [getattr(r, metric) for r in run.records]
        data.append({"type": "scatter", "mode": "lines", "name": name,
                     "x": [r.epoch for r in run.records], "y": y,
                     "line": {"color": PALETTE[k % len(PALETTE)]},
                     "hovertemplate": f"{name}: %{{y:.4g}}<extra></extra>"})
    accuracy = metric.endswith("accuracy")
    title = metric.replace("_", " ")
    values = [v for t in data for v in t["y"]]
    epochs = max((len(run.records) for run in runs), default=1)
    return {"data": data, "layout": _base_layout(
        height=360, showlegend=True, legend=_bottom_legend(), margin={"l": 55, "r": 20, "t": 20, "b": 80},
        xaxis=epoch_axis(epochs),
        yaxis=_axis(title, tickformat=".0%") if accuracy else _log_axis(title, values))}


def column_extent(n: int, widest: int = 512) -> float:
    """The share of the picture's height a layer of n units spans: grows with log(n), so 15, 64,
    115 and 512 units look different even though at most MAX_DRAWN_UNITS dots are drawn."""
    return float(min(1.0, 0.5 + 0.5 * np.log2(max(n, 1)) / np.log2(widest)))


def _drawn_columns(sizes) -> list:
    """Vertical positions in [-1, 1] of the drawn units of each layer (wide layers: MAX_DRAWN_UNITS
    units with a gap in the middle for the "⋮"), each column as tall as `column_extent` says."""
    columns = []
    for n in sizes:
        shown = min(n, MAX_DRAWN_UNITS)
        ys = np.linspace(-1, 1, shown) if shown > 1 else np.zeros(1)
        if n > MAX_DRAWN_UNITS:
            ys = np.concatenate([np.linspace(-1, -0.15, shown // 2), np.linspace(0.15, 1, shown - shown // 2)])
        columns.append(ys * column_extent(n))
    return columns


def network_image(sizes, activations=()) -> Image.Image:
    """A small drawing of the network as a picture: a column of units per layer (wide layers drawn
    with MAX_DRAWN_UNITS units and a gap; taller for wider layers), every connection between drawn
    units, "<n> units" below.

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
            draw.ellipse([x - 4 * k, y - 4 * k, x + 4 * k, y + 4 * k], fill=color, outline="white", width=k)
        if n > MAX_DRAWN_UNITS:
            for dy in (-5, 0, 5):
                draw.ellipse([x - 1.2 * k, k * (top + span / 2 + dy) - 1.2 * k,
                              x + 1.2 * k, k * (top + span / 2 + dy) + 1.2 * k], fill="#334155")
        lines = [(f"{n} units" if step >= 55 else str(n), bold, "#0f172a"), (names[i], font, "#475569")]
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


def confusion_figure(cm, normalise: bool = False, selected=None) -> dict:
    """Confusion matrix heatmap (rows: true digit, columns: predicted) with an invisible scatter
    marker on every cell: plotly.js heatmaps are not selectable, the markers are, so a click on a
    cell reports that cell's (x=predicted, y=true). `selected`: (true, predicted) of the cell whose
    images are shown, outlined."""
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
    shapes = []
    if selected is not None:
        t, p = selected
        shapes.append({"type": "rect", "x0": p - 0.5, "x1": p + 0.5, "y0": t - 0.5, "y1": t + 0.5,
                       "line": {"color": SELECTED, "width": 3}, "layer": "above"})
    return {"data": data, "layout": {
        "height": 460, "margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "font": FONT, "showlegend": False,
        "shapes": shapes,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white", "clickmode": "event+select",
        "dragmode": False,
        # No `constrain: "domain"` on x: with it the browser took ~0.3 s more to draw the matrix.
        "xaxis": {"title": {"text": "predicted digit"}, "range": [-0.5, n - 0.5], "dtick": 1,
                  "fixedrange": True, "side": "bottom"},
        "yaxis": {"title": {"text": "true digit"}, "range": [n - 0.5, -0.5], "dtick": 1,
                  "scaleanchor": "x", "fixedrange": True}}}


def per_digit_figure(report, floor: float) -> dict:
    """Precision, recall and F1 (in %) per digit as grouped bars from `floor` to 100, the number of
    images under each digit. `report`: ui.metrics.per_class_report's dict."""
    n = len(report["support"])
    ticks = [f"{k}<br><sub>{int(s)} images</sub>" for k, s in enumerate(report["support"])]
    data = [{"type": "bar", "name": name, "x": ticks, "y": (100 * np.asarray(report[key])).round(1).tolist(),
             "marker": {"color": color}, "hovertemplate": f"%{{x}}: {name} %{{y:.1f}}%<extra></extra>"}
            for name, key, color in (("precision", "precision", TRAIN), ("recall", "recall", VALIDATION),
                                     ("F1", "f1", "#16a34a"))]
    return {"data": data, "layout": _base_layout(
        height=320, barmode="group", bargap=0.25, hovermode="closest", margin={"l": 50, "r": 10, "t": 36, "b": 60},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        xaxis={"type": "category", "tickvals": ticks[:n], "fixedrange": True},
        yaxis=_axis("%", range=[floor, 100.5], fixedrange=True))}


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


def weight_limit(weights) -> float:
    """The colour scale's end for weight tiles: the 99th percentile of |w|, so one outlier does not
    wash every other weight out to white."""
    w = np.abs(np.asarray(weights, dtype=float))
    return float(np.percentile(w, 99)) or float(w.max()) or 1.0


def _weight_rgb(t) -> np.ndarray:
    """Weights scaled to -1..1 as uint8 RGB: blue negative, red positive, white zero."""
    t = np.clip(t, -1, 1)
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb = np.stack([1 - neg * 0.85, 1 - (pos + neg) * 0.75, 1 - pos * 0.85], axis=-1)
    return (rgb * 255).round().astype(np.uint8)


def weight_tiles(weights, columns: int = 16, scale: int = 6, gap: int = 4, limit: float | None = None) -> np.ndarray:
    """First-layer weights (64, n_units) as one RGB mosaic: each unit's 64 incoming weights an 8x8
    tile, all on one colour scale (±`limit`, default `weight_limit`), blue negative, red positive,
    white zero, tiles `gap` pixels apart on grey so near-white tiles stay apart."""
    w = np.asarray(weights, dtype=float)
    n = w.shape[1]
    limit = weight_limit(w) if limit is None else limit
    cols = min(columns, n)
    rows = -(-n // cols)
    side = 8 * scale
    out = np.full((rows * (side + gap) - gap, cols * (side + gap) - gap, 3), GAP_GREY, np.uint8)
    for k in range(n):
        rgb = _weight_rgb(w[:, k].reshape(8, 8) / limit)
        r, c = divmod(k, cols)
        y0, x0 = r * (side + gap), c * (side + gap)
        out[y0:y0 + side, x0:x0 + side] = np.kron(rgb, np.ones((scale, scale, 1), dtype=np.uint8))
    return out


def weight_scale_bar(limit: float, width: int = 480, height: int = 44) -> Image.Image:
    """The weight tiles' colour scale: a gradient from -limit (blue) through 0 (white) to +limit
    (red), its three values written under it."""
    bar = np.repeat(_weight_rgb(np.linspace(-1, 1, width))[None], 18, axis=0)
    image = Image.new("RGB", (width, height), "white")
    image.paste(Image.fromarray(bar), (0, 0))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    for x, text, anchor in ((2, f"-{limit:.2g} (inhibits)", "lt"), (width // 2, "0", "mt"),
                            (width - 2, f"+{limit:.2g} (excites)", "rt")):
        draw.text((x, 22), text, font=font, fill="#334155", anchor=anchor)
    return image
