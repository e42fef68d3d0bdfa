"""Pictures of a network while it trains, built from an `mlp.stats.Snapshot` (no Streamlit):
the first layer's weights as a mosaic of 8x8 tiles (PNG bytes), a strip of test digits with their
current answers (HTML), layer health and weight histograms (Plotly figures as plain dicts).

Pictures rather than Plotly for the views that change most: a browser takes in a new image for a
fraction of what redrawing a Plotly figure costs it (`benchmarks/bench_live_views.py` measures
both).
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
from PIL import Image

from ui.charts import PALETTE, TRAIN, _axis, _base_layout, _log_axis

# ColorBrewer's RdBu, blue for negative and red for positive (as the Inspect tab's tiles), with a
# near-white zero: a diverging scale that reads the same for most colour-blind visitors.
DIVERGING = ("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
             "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f")
MAX_TILES = 128          # a wider first layer shows its first 128 units
MOSAIC_WIDTH = 620       # about the width the page gives the mosaic, in pixels
TILE_GAP = 5
STRIP_COLUMNS = 5
DIGIT_SCALE = 5
FRAME = (203, 213, 225)
HEALTHY_PER_UPDATE = 1e-3   # CS231n's rule of thumb for ‖update‖ / ‖weights‖ of one update


def _rgb(hex_colour: str) -> tuple:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def colour_limit(values) -> float:
    """The half-width of a shared, symmetric colour scale: the 99.5th percentile of |values|,
    so that one outlier does not wash every other tile out (>0; 1 for all-zero input)."""
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    limit = float(np.percentile(v, 99.5)) if v.size else 0.0
    return limit if limit > 0 else 1.0


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)   # fast: a new picture every tick
    return out.getvalue()


WHITE, EDGE = 254, 255   # palette indices of the gaps and of the tiles' frames; 0..253: the scale


@lru_cache(maxsize=1)
def _tile_palette() -> list:
    """The mosaic's 256-colour palette: 254 steps of DIVERGING, then white, then the frame grey."""
    stops = np.array([_rgb(c) for c in DIVERGING], dtype=float)
    t = np.linspace(0, 1, WHITE)
    scale = np.stack([np.interp(t, np.linspace(0, 1, len(stops)), stops[:, k]) for k in range(3)], axis=1)
    return [int(v) for v in scale.round().ravel()] + [255, 255, 255, *FRAME]


def tile_layout(n: int, width: int = MOSAIC_WIDTH, gap: int = TILE_GAP) -> tuple:
    """(columns, pixels per weight) for `n` tiles: 8 columns up to 64 units (a square grid),
    16 beyond; tiles as large as `width` allows, 3 to 8 pixels per weight."""
    columns = max(1, min(n, 8 if n <= 64 else 16))
    return columns, max(3, min(8, (width // columns - gap - 2) // 8))


def tile_mosaic(weights, limit: float, gap: int = TILE_GAP) -> Image.Image:
    """First-layer weights (64, n_units) as one palette image: unit k's 64 incoming weights as an
    8x8 tile in row-major order of k, coloured on one scale from -limit (blue) through 0 (white)
    to +limit (red), clipped beyond; each tile framed, `gap` pixels apart.

    A palette image (one byte a pixel) is a third of the work of RGB to build and to encode."""
    w = np.nan_to_num(np.asarray(weights, dtype=float))
    n = w.shape[1]
    cols, scale = tile_layout(n, gap=gap)
    rows = -(-n // cols)
    side, cell = 8 * scale + 2, 8 * scale + 2 + gap            # a tile with its frame; with its gap
    idx = np.clip(np.round((w / limit + 1) * ((WHITE - 1) / 2)), 0, WHITE - 1).astype(np.uint8)
    cells = np.full((rows * cols, cell, cell), WHITE, np.uint8)
    cells[:n, :side, :side] = EDGE
    cells[:n, 1:side - 1, 1:side - 1] = idx.T.reshape(n, 8, 8).repeat(scale, 1).repeat(scale, 2)
    grid = cells.reshape(rows, cols, cell, cell).transpose(0, 2, 1, 3).reshape(rows * cell, cols * cell)
    image = Image.fromarray(np.ascontiguousarray(grid[:-gap, :-gap]), mode="P")
    image.putpalette(_tile_palette())
    return image


def tiles_png(weights, initial=None, change: bool = False, max_tiles: int = MAX_TILES) -> tuple:
    """(PNG bytes, colour limit) of the first `max_tiles` units of first-layer `weights`
    (64, n_units), or with `change` of their change since `initial`, on one shared symmetric
    scale (see `colour_bar_html` for its legend)."""
    w = np.asarray(weights, dtype=float)[:, :max_tiles]
    if change:
        w = w - np.asarray(initial, dtype=float)[:, :max_tiles]
    limit = colour_limit(w)
    return _png(tile_mosaic(w, limit)), limit


def colour_bar_html(limit: float, left: str, right: str, width: int = 360) -> str:
    """The tiles' colour scale as a small HTML legend: a gradient bar from -limit to +limit
    with the value at each end and in the middle, and what each end means."""
    gradient = ", ".join(DIVERGING)
    return (f'<div style="width:{width}px;font-size:12px;color:#475569;line-height:1.3">'
            f'<div style="height:10px;border:1px solid #cbd5e1;background:linear-gradient(to right, {gradient})">'
            f'</div><div style="display:flex;justify-content:space-between;color:#0f172a">'
            f'<span>&minus;{limit:.2g}</span><span>0</span><span>+{limit:.2g}</span></div>'
            f'<div style="display:flex;justify-content:space-between"><span>{left}</span>'
            f'<span>{right}</span></div></div>')


def digit_png(x) -> bytes:
    """One 8x8 digit (64 values 0..16, ink high) as an 8x8 grey PNG, dark ink on white (~100
    bytes; the page scales it up with crisp pixels)."""
    pixels = (255 - np.clip(np.asarray(x, dtype=float), 0, 16) * (255 / 16)).round().astype(np.uint8)
    return _png(Image.fromarray(pixels.reshape(8, 8), mode="L"))


@lru_cache(maxsize=512)
def _digit_uri(raw: bytes) -> str:
    """digit_png of 64 float64 values given as bytes, as a data: URI (the strip's digits stay the
    same from tick to tick, their answers change)."""
    return "data:image/png;base64," + base64.b64encode(digit_png(np.frombuffer(raw))).decode()


def strip_html(X, y_true, proba, classes=tuple(range(10)), columns: int = STRIP_COLUMNS,
               side: int = 8 * DIGIT_SCALE) -> str:
    """A grid of digits X (n, 64, values 0..16) with the model's current answer under each: the
    predicted class and its probability. A wrong answer gets a red frame, its label in red and
    the true digit after it ("1 · 61% (is 7)"). HTML, so the labels are text: drawing them into
    a picture cost the server ~1 ms each."""
    X, proba = np.ascontiguousarray(X, dtype=np.float64), np.asarray(proba, dtype=float)
    predicted = np.argmax(proba, axis=1)
    cells = []
    for i in range(len(X)):
        p = int(predicted[i])
        right = classes[p] == y_true[i]
        colour = "#0f172a" if right else "#dc2626"
        frame = "1px solid #cbd5e1" if right else "3px solid #dc2626"
        label = f"{classes[p]} · {proba[i, p]:.0%}" + ("" if right else f" (is {y_true[i]})")
        cells.append(f'<div style="text-align:center" class="{"right" if right else "wrong"}">'
                     f'<img src="{_digit_uri(X[i].tobytes())}" alt="digit {y_true[i]}" width="{side}" '
                     f'height="{side}" style="image-rendering:pixelated;border:{frame};box-sizing:content-box">'
                     f'<div style="font-size:12px;color:{colour};white-space:nowrap">{label}</div></div>')
    return (f'<div style="display:grid;grid-template-columns:repeat({columns}, minmax(0, 1fr));'
            f'gap:10px 6px;max-width:{columns * (side + 44)}px">{"".join(cells)}</div>')


def layer_names(sizes) -> list:
    """'hidden 1', 'hidden 2', ..., 'output' for a network of `sizes` (inputs first)."""
    return [f"hidden {i + 1}" for i in range(len(sizes) - 2)] + ["output"]


def health_figure(ratios, dead, names, epochs: int, updates_per_epoch: int | None = None) -> dict:
    """Left: each layer's update/weight ratio per epoch (log scale), with the rule of thumb's
    band for `updates_per_epoch` updates of HEALTHY_PER_UPDATE each; right: the share of dead ReLU units per
    layer from epoch 0 (layers whose units cannot die are left out). `ratios`: (e, layers),
    `dead`: (e + 1, layers) with NaN where it does not apply; x fixed to 0..`epochs`."""
    ratios, dead = np.asarray(ratios, dtype=float), np.asarray(dead, dtype=float)
    data = []
    for k, name in enumerate(names):
        colour = PALETTE[k % len(PALETTE)]
        data.append({"type": "scatter", "mode": "lines+markers" if len(ratios) < 30 else "lines", "name": name,
                     "x": list(range(1, len(ratios) + 1)), "y": ratios[:, k].tolist(), "legendgroup": name,
                     "line": {"color": colour, "width": 2}, "marker": {"size": 4},
                     "hovertemplate": f"{name}, epoch %{{x}}: %{{y:.2g}}<extra></extra>"})
        if not np.all(np.isnan(dead[:, k])):
            data.append({"type": "scatter", "mode": "lines", "name": name, "showlegend": False,
                         "x": list(range(len(dead))), "y": dead[:, k].tolist(), "legendgroup": name,
                         "xaxis": "x2", "yaxis": "y2", "line": {"color": colour, "width": 2},
                         "hovertemplate": f"{name}, epoch %{{x}}: %{{y:.0%}} dead<extra></extra>"})
    span = [0, max(epochs, 1) + 0.5]
    layout = _base_layout(
        height=320, showlegend=True, legend=_bottom_legend(), hovermode="closest",
        margin={"l": 55, "r": 10, "t": 30, "b": 40},
        xaxis=_axis("epoch", domain=[0, 0.54], range=span),
        yaxis=_log_axis("update / weight"),
        xaxis2=_axis("epoch", domain=[0.74, 1], range=span, anchor="y2"),
        # 0..25% unless more are dead: small shares stay readable, large ones are never cut off.
        yaxis2=_axis("dead units", anchor="x2", tickformat=".0%",
                     range=[0, max(0.25, 1.15 * float(np.nanmax(dead, initial=0.0)))]),
        annotations=[
            {"text": "<b>Update / weight, per epoch</b>", "x": 0, "y": 1.02, "xref": "paper",
             "yref": "paper", "showarrow": False, "xanchor": "left", "yanchor": "bottom"},
            {"text": "<b>Dead ReLU units</b>", "x": 0.74, "y": 1.02, "xref": "paper", "yref": "paper",
             "showarrow": False, "xanchor": "left", "yanchor": "bottom"},
        ],
    )
    if updates_per_epoch:
        # N updates of ~1e-3 each move a layer by √N·1e-3 (random directions) to N·1e-3 (one direction).
        low, high = HEALTHY_PER_UPDATE * np.sqrt(updates_per_epoch), HEALTHY_PER_UPDATE * updates_per_epoch
        layout["shapes"] = [{"type": "rect", "xref": "x", "yref": "y", "x0": span[0], "x1": span[1], "y0": low,
                             "y1": high, "fillcolor": "rgba(22,163,74,0.10)", "line": {"width": 0},
                             "layer": "below"}]
        layout["annotations"].append(
            {"text": f"rule of thumb, {updates_per_epoch} updates/epoch", "x": span[1],
             "y": float(np.log10(high)), "xref": "x", "yref": "y", "xanchor": "right", "yanchor": "top",
             "showarrow": False, "font": {"size": 11, "color": "#15803d"}})
    if not np.any(~np.isnan(dead)):
        layout["annotations"].append({"text": "no ReLU layer", "x": 0.87, "y": 0.5, "xref": "paper",
                                      "yref": "paper", "showarrow": False, "font": {"color": "#64748b"}})
    return {"data": data, "layout": layout}


def _bottom_legend() -> dict:
    """A one-row legend under the plots, below their x-axis titles."""
    return {"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.22, "yanchor": "top"}


def histogram_figure(histograms, names) -> dict:
    """One panel per layer: its weights' histogram at the start (grey, filled) and now (a line),
    as shares of the layer's weights on shared bins. `histograms`: (edges, start, now) per layer."""
    n = len(histograms)
    data, layout, width, pad = [], _base_layout(height=320, showlegend=True, legend=_bottom_legend(),
                                                hovermode="closest", margin={"l": 45, "r": 10, "t": 30, "b": 40}), \
        1.0 / max(n, 1), 0.06
    for k, ((edges, start, now), name) in enumerate(zip(histograms, names)):
        centres = ((edges[:-1] + edges[1:]) / 2).tolist()
        total = max(int(np.sum(start)), 1)
        suffix = "" if k == 0 else str(k + 1)
        start_style = {"line": {"color": "#94a3b8", "shape": "hvh", "width": 1}, "fill": "tozeroy",
                       "fillcolor": "rgba(148,163,184,0.35)"}
        now_style = {"line": {"color": TRAIN, "shape": "hvh", "width": 2}}
        for label, counts, style in (("at the start", start, start_style), ("now", now, now_style)):
            data.append({"type": "scatter", "mode": "lines", "name": label, "x": centres,
                         "y": (np.asarray(counts) / total).tolist(), "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                         "legendgroup": label, "showlegend": k == 0, **style,
                         "hovertemplate": f"{name} {label}: %{{y:.1%}} of the weights near %{{x:.2f}}<extra></extra>"})
        x0 = k * width + (pad / 2 if k else 0)
        layout[f"xaxis{suffix}"] = _axis(f"{name} weights", domain=[x0, (k + 1) * width - pad / 2],
                                         anchor=f"y{suffix}", range=[float(edges[0]), float(edges[-1])])
        layout[f"yaxis{suffix}"] = _axis("share" if k == 0 else "", anchor=f"x{suffix}", tickformat=".0%",
                                         rangemode="tozero")
    return {"data": data, "layout": layout}
