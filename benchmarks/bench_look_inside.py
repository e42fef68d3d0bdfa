"""Server-side cost of the look-inside views with the default (64-4608-10) model, per action.

Times the work the page does after each action, without Streamlit or a browser: the numbers a
view's ≤ 1 s budget is spent on before the browser paints (each Plotly figure then costs the
browser ~0.1 s). Median of --repeats runs, one BLAS thread, as the app runs.

    python benchmarks/bench_look_inside.py            # --repeats 7
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image, ImageDraw

from mlp import default_model, explain
from mlp.datasets import load_digits_split
from mlp.preprocess import digit_variants, variants_proba
from ui import charts, explain_view, inspect_views


def seven() -> np.ndarray:
    img = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    ImageDraw.Draw(img).line([(70, 42), (210, 42), (118, 246)], fill=(17, 17, 17, 255), width=22)
    return np.asarray(img)


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    model = default_model()
    net = model.network
    _, X_test, _, y_test = load_digits_split()
    image = seven()

    def draw():
        variants = digit_variants(image)
        proba = variants_proba(model, variants)
        x = variants[0].reshape(64)
        target = int(np.argmax(proba))
        outputs = explain.layer_outputs(net, x)
        figs = [explain_view.activations_figure([o[0] for o in outputs[1:-1]], proba, range(10)),
                explain_view.attribution_figure(x, explain.pixel_attribution(net, x, target), target),
                charts.probability_figure(proba)]
        contrib = explain.unit_contributions(net, x, target)
        charts.weight_tiles(net.weights[0][:, np.argsort(-contrib)[:4]], columns=4, scale=8, gap=6)
        return [json.dumps(f) for f in figs]

    x = digit_variants(image)

    def switch_off():
        edited = explain.with_gains(model, {(0, 7): 0.0})
        return variants_proba(edited, x), explain.accuracy(edited, X_test, y_test)

    rows = [
        ("draw -> answer + explanation (whole pipeline)", draw),
        ("  of which the image pipeline (digit_variants)", lambda: digit_variants(image)),
        ("click a unit -> its details", lambda: (explain.unit_detail(net, x[0].reshape(64), 0, 7),
                                                  charts.weight_tiles(net.weights[0][:, [7]], columns=1, scale=14))),
        ("switch a unit off -> answer + held-out accuracy", switch_off),
        ("points map, input layer (PCA + figure)", lambda: inspect_views.points_figure(
            explain.project(X_test), y_test, model.predict(X_test), X_test)),
        ("points map, hidden layer 4608 (PCA + figure)", lambda: inspect_views.points_figure(
            explain.project(explain.layer_features(model, X_test)[1]), y_test, model.predict(X_test), X_test)),
        ("confidence curve", lambda: inspect_views.coverage_figure(
            explain.coverage_curve(model.predict_proba(X_test), y_test), 0.5)),
    ]
    sets = {kind: explain.damaged_sets(X_test, kind) for kind in explain.DAMAGES}
    rows.append(("robustness, one model, all three damages (sets cached)",
                 lambda: [explain.robustness(model, s, y_test) for s in sets.values()]))
    t = time.perf_counter()
    for kind in explain.DAMAGES:
        explain.damaged_sets(X_test, kind)
    damage_once = time.perf_counter() - t
    for name, fn in rows:
        fn()                                                  # warm up (imports, first allocations)
        print(f"{name:<58} {median_ms(fn, args.repeats):8.1f} ms")
    print(f"{'rendering the damaged digits (once per server, in a thread)':<58} {1e3 * damage_once:8.1f} ms")


if __name__ == "__main__":
    main()
