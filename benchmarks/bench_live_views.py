"""What the Train tab's live views cost per tick: the server's time to build each one, and (with
--browser) Debian chromium's main-thread time to take in one changed view.

Server: each view built from a real snapshot (a (256,) and the Fast preset's (64,) network
after three epochs), median of --repeats builds, and the bytes it sends; a Plotly figure's time
includes what `st.plotly_chart` does with it when it changes (`go.Figure` validation and JSON). The first layer's tiles
are built both ways the issue allows: a PNG (what the app uses) and one Plotly heatmap of the
mosaic as a plain dict, the alternative.

Browser: a throw-away Streamlit page whose fragment redraws one view, with changed data, every
0.5 s; chromium's TaskDuration (Performance.getMetrics over CDP) over --seconds, per tick, less
the same page drawing only a line of text. Browser and server share this machine's cores, so
on a busy machine both numbers grow; compare the rows with each other, not across runs.

    python benchmarks/bench_live_views.py [--repeats 20] [--browser] [--seconds 8]
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.io  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mlp  # noqa: E402
from mlp.stats import Monitor  # noqa: E402
from ui import live_charts  # noqa: E402
from ui.data import split_digits  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VARIANTS = ("text", "tiles_png", "tiles_heatmap", "strip_html", "health", "histograms")


def tiles_heatmap(weights, limit: float) -> dict:
    """The alternative to the PNG: the mosaic as one Plotly heatmap (NaN gaps), a colour bar."""
    w = np.asarray(weights, dtype=float)[:, :live_charts.MAX_TILES]
    n = w.shape[1]
    cols, _ = live_charts.tile_layout(n)
    rows = -(-n // cols)
    z = np.full((rows * 9 - 1, cols * 9 - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        z[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = w[:, k].reshape(8, 8)
    scale = [[i / (len(live_charts.DIVERGING) - 1), c] for i, c in enumerate(live_charts.DIVERGING)]
    return {"data": [{"type": "heatmap", "z": np.where(np.isnan(z), None, z).tolist(), "zmin": -limit,
                      "zmax": limit, "colorscale": scale, "colorbar": {"thickness": 10},
                      "hovertemplate": "%{z:.3f}<extra></extra>"}],
            "layout": {"height": 40 * rows + 40, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                       "xaxis": {"visible": False}, "plot_bgcolor": "white",
                       "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"}}}


def snapshot_of(sizes, epochs=3):
    d = split_digits()
    config = mlp.TrainConfig(hidden_layer_sizes=sizes, epochs=epochs, batch_size=64, learning_rate=3e-3)
    run = mlp.train(config, d.X_train, d.y_train)
    monitor = Monitor(run.model, d.X_test[:100], d.X_test[:20], run.classes)
    for record in run:
        monitor.observe(record.epoch)
    return monitor.snapshot(), d


def builders(snapshot, d):
    names = live_charts.layer_names((64, snapshot.first_weights.shape[1], 10))
    limit = live_charts.colour_limit(snapshot.first_weights)
    return {
        "tiles_png": lambda: live_charts.tiles_png(snapshot.first_weights)[0],
        "tiles_png (change)": lambda: live_charts.tiles_png(snapshot.first_weights, snapshot.first_initial, True)[0],
        "tiles_heatmap": lambda: tiles_heatmap(snapshot.first_weights, limit),
        "strip_html": lambda: live_charts.strip_html(d.X_test[:20], d.y_test[:20], snapshot.strip_proba),
        "health": lambda: live_charts.health_figure(snapshot.ratios, snapshot.dead, names, 15, 22),
        "histograms": lambda: live_charts.histogram_figure(snapshot.histograms, names),
    }


def sent_bytes(out) -> int:
    """PNGs travel base64-encoded in the page update; HTML as it is; figures as JSON."""
    if isinstance(out, bytes):
        return len(out) * 4 // 3
    return len(out) if isinstance(out, str) else len(json.dumps(out))


def server(repeats: int) -> None:
    print(f"server: median ms to build (and bytes sent) per view; load average {os.getloadavg()[0]:.1f}")
    for sizes in ((256,), (64,)):
        snapshot, d = snapshot_of(sizes)
        row = []
        for name, build in builders(snapshot, d).items():
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                out = build()
                if isinstance(out, dict):   # what st.plotly_chart does with a dict: validate, then JSON
                    plotly.io.to_json(go.Figure(out), validate=False)
                times.append(time.perf_counter() - t)
            row.append(f"{name} {1e3 * statistics.median(times):.1f} ms / {sent_bytes(out) / 1e3:.0f} KB")
        print(f"  64-{sizes[0]}-10: " + "; ".join(row))


PAGE = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np, streamlit as st
from ui import live_charts
import benchmarks.bench_live_views as bench

variant = st.query_params.get("v", "text")
snapshot, d = bench.snapshot_of((256,), epochs=1)
names = live_charts.layer_names((64, 256, 10))

@st.fragment(run_every=0.5)
def tick():
    k = st.session_state.setdefault("k", 0) + 1
    st.session_state["k"] = k
    rng = np.random.default_rng(k)
    w = snapshot.first_weights * (1 + 0.2 * rng.standard_normal(snapshot.first_weights.shape))
    st.markdown(f"tick {{k}}")
    if variant == "tiles_png":
        png, limit = live_charts.tiles_png(w)
        import base64
        st.html(f'<img src="data:image/png;base64,{{base64.b64encode(png).decode()}}">'
                + live_charts.colour_bar_html(limit, "a", "b"))
    elif variant == "tiles_heatmap":
        st.plotly_chart(bench.tiles_heatmap(w, live_charts.colour_limit(w)), config={{"displayModeBar": False}})
    elif variant == "strip_html":
        st.html(live_charts.strip_html(d.X_test[:20], d.y_test[:20], rng.dirichlet(np.ones(10), size=20)))
    elif variant == "health":
        ratios = snapshot.ratios.repeat(k % 15 + 1, axis=0) * (1 + 0.1 * k % 3)
        dead = np.vstack([snapshot.dead] * (k % 15 + 2))[:len(ratios) + 1]
        st.plotly_chart(live_charts.health_figure(ratios, dead, names, 30, 22), config={{"displayModeBar": False}})
    elif variant == "histograms":
        h = [(e, a, b * (1 + (k % 5))) for e, a, b in snapshot.histograms]
        st.plotly_chart(live_charts.histogram_figure(h, names), config={{"displayModeBar": False}})

tick()
"""


def browser(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import start_streamlit, stop_streamlit

    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "live_views_page.py"
        app.write_text(PAGE.format(root=str(ROOT)))
        proc, url = start_streamlit(app)
        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                results = {}
                for variant in VARIANTS:
                    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    page.goto(f"{url}/?v={variant}")
                    page.get_by_text("tick 3").wait_for(timeout=60_000)

                    def busy(cdp=cdp):   # this iteration's page
                        metrics = cdp.send("Performance.getMetrics")["metrics"]
                        return {m["name"]: m["value"] for m in metrics}["TaskDuration"]

                    first, k0 = busy(), int(page.get_by_text("tick ").inner_text().split()[1])
                    time.sleep(seconds)
                    last, k1 = busy(), int(page.get_by_text("tick ").inner_text().split()[1])
                    results[variant] = (last - first) / max(k1 - k0, 1)
                    page.close()
                chromium.close()
        finally:
            stop_streamlit(proc)
    base = results.pop("text")
    print(f"browser: chromium main-thread ms per tick (a changed view), less a text-only tick ({1e3 * base:.0f} ms); "
          f"load average {os.getloadavg()[0]:.1f}")
    for variant, per_tick in results.items():
        print(f"  {variant:<14} {1e3 * (per_tick - base):6.0f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    server(args.repeats)
    if args.browser:
        browser(args.seconds)


if __name__ == "__main__":
    main()
