"""Pure UI helpers: charts, metrics and the sidebar's value <-> config mapping, without Streamlit
running. Metrics are checked against scikit-learn, the parameter count against the engine."""
import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_recall_fscore_support

import mlp
from mlp import EpochRecord, TrainConfig
from ui import charts, sidebar
from ui.metrics import confusion_matrix, parameter_count, per_class_report
from ui.presets import PRESETS


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.integers(0, 10, 500))
    pred[pred == 7] = 3                                   # class 7 is never predicted: precision undefined
    cm = confusion_matrix(y, pred)
    assert np.array_equal(cm, sk_confusion(y, pred, labels=range(10)))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    rep = per_class_report(cm)
    np.testing.assert_allclose(rep["precision"], p)
    np.testing.assert_allclose(rep["recall"], r)
    np.testing.assert_allclose(rep["f1"], f)
    assert np.array_equal(rep["support"], s)


@pytest.mark.parametrize("sizes", [(64, 10), (64, 15, 10), (64, 256, 128, 32, 7, 10)])
def test_parameter_count_matches_the_engine(sizes):
    assert parameter_count(sizes) == mlp.Network(sizes, "relu").params.size


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_survive_the_sidebar(name):
    config = PRESETS[name].config
    assert sidebar.values_to_config(sidebar.config_to_values(config)) == config


def test_sidebar_values_build_per_layer_configs():
    values = sidebar.config_to_values(TrainConfig(hidden_layer_sizes=(32, 16, 8),
                                                  activation=("relu", "tanh", "sigmoid"),
                                                  validation_fraction=0.1, early_stopping=True))
    config = sidebar.values_to_config(values)
    assert config.hidden_layer_sizes == (32, 16, 8) and config.activation == ("relu", "tanh", "sigmoid")
    assert config.early_stopping and config.validation_fraction == 0.1
    # Early stopping without a validation split is switched off rather than rejected.
    assert not sidebar.values_to_config({**values, "validation_fraction": 0.0}).early_stopping
    # Fewer layers than stored unit sliders: only the first n count.
    assert sidebar.values_to_config({**values, "n_layers": 1}).hidden_layer_sizes == (32,)


def test_the_cosine_schedule_survives_the_sidebar():
    config = TrainConfig(schedule="cosine")
    values = sidebar.config_to_values(config)
    assert values["cosine_decay"] and sidebar.values_to_config(values) == config
    assert sidebar.values_to_config({**values, "cosine_decay": False}).schedule == "constant"


def test_learning_rates_are_log_spaced_and_include_the_posts_rates():
    lr = np.array(sidebar.LEARNING_RATES)
    assert np.all(np.diff(np.log10(lr)) > 0) and np.all(np.diff(np.log10(lr)) <= 0.25)
    assert 1e-3 in sidebar.LEARNING_RATES and PRESETS["The original blog post"].config.learning_rate in lr
    assert sidebar.nearest(sidebar.LEARNING_RATES, 0.0011) == 1e-3
    assert sidebar.nearest(sidebar.ALPHAS, 0.0) == 0.0 and sidebar.nearest(sidebar.ALPHAS, 2e-4) == 1e-4


def _records(n, val=True):
    return [EpochRecord(i, 1.0 / i, 0.5 + i / 100, 1.2 / i if val else None, 0.4 + i / 100 if val else None, i * 0.1)
            for i in range(1, n + 1)]


def test_training_figure_holds_every_epoch_and_is_json():
    fig = charts.training_figure(_records(7), epochs=20)
    json.dumps(fig)
    names = [(t["name"], t.get("yaxis", "y")) for t in fig["data"]]
    assert names == [("train", "y"), ("train accuracy", "y2"), ("validation", "y"), ("validation accuracy", "y2")]
    assert all(t["x"] == list(range(1, 8)) for t in fig["data"])
    assert fig["layout"]["xaxis"]["range"] == [0.5, 20.5]          # fixed: the curve grows into the frame
    assert len(charts.training_figure(_records(3, val=False), 5)["data"]) == 2
    assert "range" not in fig["layout"]["yaxis2"]                  # accuracy autoranges


def test_empty_training_figure_has_sensible_ranges():
    """Before the first epoch the frame shows loss 0.1..~3 and accuracy 0..100%, not plotly's defaults."""
    layout = charts.training_figure([], epochs=20)["layout"]
    assert layout["yaxis"]["type"] == "log" and layout["yaxis"]["range"] == [-1.0, 0.5]
    assert layout["yaxis2"]["range"] == [0, 1]


def test_confusion_figure_has_a_clickable_marker_per_cell():
    cm = np.arange(100).reshape(10, 10)
    fig = charts.confusion_figure(cm)
    heat, overlay = fig["data"]
    assert heat["type"] == "heatmap" and overlay["type"] == "scatter"
    cells = set(zip(overlay["x"], overlay["y"]))
    assert cells == {(x, y) for x in range(10) for y in range(10)}
    counts = {(x, y): c for x, y, c in zip(overlay["x"], overlay["y"], overlay["customdata"])}
    assert all(counts[(x, y)] == cm[y, x] for x in range(10) for y in range(10))   # y = true, x = predicted
    assert "rgba(0,0,0,0)" in overlay["marker"]["color"]
    norm = np.array(charts.confusion_figure(cm, normalise=True)["data"][0]["z"])
    np.testing.assert_allclose(norm[1:].sum(axis=1), 1.0)


def test_network_image_draws_wide_layers_in_part():
    """Units sit where _drawn_columns puts them: a 15-unit layer as MAX_DRAWN_UNITS units with a
    gap in the middle, a 10-unit layer whole; the colours say input, hidden, output."""
    image = np.asarray(charts.network_image((64, 15, 10), ("relu", "sigmoid")).reduce(2), dtype=int)
    assert image.shape == (226, 240, 3)
    blue = np.array([int(charts.TRAIN[i:i + 2], 16) for i in (1, 3, 5)])
    x = 32 + (240 - 64) // 2                                     # the hidden column
    hits = np.abs(image[:, x - 1:x + 2] - blue).sum(axis=2).min(axis=1) < 60
    runs = np.flatnonzero(np.diff(hits.astype(int)) == 1)        # each node is one run of blue rows
    assert len(runs) == charts.MAX_DRAWN_UNITS
    assert not hits[12 + 75]                                     # the gap in the middle
    out = image[:, 240 - 32]
    assert (np.abs(out - [0x16, 0xA3, 0x4A]).sum(axis=1) < 60).any()   # output units are green
    narrow = np.asarray(charts.network_image((64, 5, 10), ("tanh", "softmax")).reduce(2), dtype=int)
    hits = np.abs(narrow[:, x - 1:x + 2] - blue).sum(axis=2).min(axis=1) < 60
    assert len(np.flatnonzero(np.diff(hits.astype(int)) == 1)) == 5


def test_network_png_is_the_image_in_few_colours_and_made_once():
    import io

    from PIL import Image

    sizes, acts = (64, 256, 128, 10), ("relu", "tanh", "softmax")
    png = charts.network_png(sizes, acts)
    assert charts.network_png(sizes, acts) is png                # cached per architecture
    assert len(png) < 60_000
    shown = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    drawn = np.asarray(charts.network_image(sizes, acts), dtype=int)
    assert shown.shape == drawn.shape and np.abs(shown - drawn).mean() < 2


def test_probability_figure_marks_the_winner():
    p = np.full(10, 0.02)
    p[7] = 0.82
    bars = charts.probability_figure(p)["data"][0]
    assert bars["y"][7] == pytest.approx(0.82) and bars["marker"]["color"][7] == charts.TRAIN
    assert len(set(bars["marker"]["color"])) == 2


def test_digit_image_is_dark_ink_on_white():
    x = np.zeros((8, 8))
    x[2, 3] = 16
    img = charts.digit_image(x, scale=4)
    assert img.shape == (32, 32) and img.dtype == np.uint8
    assert img[9, 13] == 0 and img[5, 5] == 255 and img[0, 0] == charts.FRAME
    assert charts.digit_image(x, scale=4, frame=False)[0, 0] == 255


def test_weight_tiles_show_sign_as_colour():
    w = np.zeros((64, 3))
    w[0, 0], w[63, 1] = 1.0, -1.0
    tiles = charts.weight_tiles(w, columns=3, scale=2, gap=1)
    assert tiles.shape == (16, 3 * 16 + 2, 3)
    red, blue = tiles[0, 0], tiles[15, 17 + 15]
    assert red[0] > red[2] and blue[2] > blue[0]
    assert tuple(tiles[8, 8]) == (255, 255, 255)


def test_log_axes_label_1_2_5_ticks_and_the_legend_sits_above_the_plots():
    records = [EpochRecord(e, 2.0 / e, 0.5, 2.5 / e, 0.5, 0.1 * e) for e in range(1, 41)]
    for fig in (charts.training_figure(records, 40, "Run 1"),
                charts.history_figure([type("Run", (), {"id": 1, "records": records})()], "val_loss")):
        layout = fig["layout"]
        axis = layout["yaxis"]
        assert axis["type"] == "log"
        labelled = [v for v in axis["tickvals"] if 0.05 <= v <= 2.5]   # the curves' range
        assert len(labelled) >= 5                                      # 0.05 0.1 0.2 0.5 1 2
        assert dict(zip(axis["tickvals"], axis["ticktext"]))[0.2] == "0.2"
        assert layout["legend"]["y"] < 0 and layout["legend"]["yanchor"] == "top"   # under the plots


def test_confusion_cell_captions_are_two_short_lines_for_a_mistake():
    from ui.results import cell_caption

    proba = np.array([0.0, 0.76, 0, 0, 0, 0, 0, 0, 0.16, 0.08])
    assert cell_caption(proba, true=1, pred=1) == "→1 76%"
    lines = cell_caption(proba, true=8, pred=1).split("  \n")
    assert lines == ["→1 76%", "8 16%"] and max(map(len, lines)) <= 6


@pytest.mark.parametrize("lo, hi", [(0.06, 0.09), (0.02, 0.025), (1.5, 1.6), (0.001, 2.3), (0.3, 2.4), (1e-4, 1e-4)])
def test_a_loss_axis_always_has_three_or_more_labelled_ticks(lo, hi):
    records = [EpochRecord(1, hi, 0.5, None, None, 0.1), EpochRecord(2, lo, 0.6, None, None, 0.2)]
    axis = charts.training_figure(records, 2)["layout"]["yaxis"]
    a, b = axis["range"]
    assert a <= np.log10(lo) and np.log10(hi) <= b                     # every point inside the frame
    shown = [t for t in axis["tickvals"] if a <= np.log10(t) <= b]
    assert 3 <= len(shown) <= 12
    assert all(text == f"{v:g}" for v, text in zip(axis["tickvals"], axis["ticktext"]))


@pytest.mark.parametrize("epochs", [1, 3, 7, 15, 40, 49])
def test_epoch_axes_tick_whole_epochs(epochs):
    for axis in ("xaxis", "xaxis2"):
        x = charts.training_figure(_records(min(epochs, 3)), epochs)["layout"][axis]
        assert x["dtick"] == int(x["dtick"]) >= 1 and x["tickformat"] == "d"
        assert epochs / x["dtick"] <= 10


def test_long_runs_keep_the_first_epochs_readable():
    x = charts.training_figure(_records(200), 200)["layout"]["xaxis"]
    assert x["type"] == "log" and "log" in x["title"]["text"]
    a, b = x["range"]
    assert (np.log10(10.5) - a) / (b - a) > 0.4                         # epochs 1-10: 40%+ of the width
    assert all(float(t).is_integer() for t in x["tickvals"])


def test_the_accuracy_axis_title_stays_out_of_the_loss_panel():
    layout = charts.training_figure(_records(5), 5)["layout"]
    assert layout["yaxis2"]["side"] == "right"
    assert layout["xaxis"]["domain"][1] < layout["xaxis2"]["domain"][0]
    accuracy_title = next(a for a in layout["annotations"] if "Accuracy" in a["text"])
    assert layout["legend"]["y"] < 0 < accuracy_title["y"]              # legend and panel title apart


def test_the_clicked_confusion_cell_is_outlined():
    cm = np.eye(10, dtype=int) * 5
    assert charts.confusion_figure(cm)["layout"]["shapes"] == []
    (rect,) = charts.confusion_figure(cm, selected=(3, 8))["layout"]["shapes"]
    assert (rect["x0"], rect["x1"], rect["y0"], rect["y1"]) == (7.5, 8.5, 2.5, 3.5)   # x predicted, y true


def test_weight_tiles_share_one_scale_and_stand_apart():
    w = np.zeros((64, 2))
    w[:, 0], w[:, 1] = 1.0, 0.1                                          # the second unit's weights are 10x smaller
    tiles = charts.weight_tiles(w, columns=2, scale=2, gap=4)
    strong, weak = tiles[4, 4], tiles[4, 16 + 4 + 4]
    assert strong[2] < weak[2] < 255                                    # fainter red, not the same red
    gap = tiles[:, 16:20]
    assert (gap == charts.GAP_GREY).all()                               # a visible grey gap between tiles
    bar = np.asarray(charts.weight_scale_bar(0.5))
    assert bar[5, 2, 2] > bar[5, 2, 0] and bar[5, -3, 0] > bar[5, -3, 2]   # blue on the left, red on the right


def test_wider_layers_are_drawn_taller():
    assert charts.column_extent(15) < charts.column_extent(64) < charts.column_extent(115) < charts.column_extent(512)
    tall = np.ptp(charts._drawn_columns((512,))[0])
    short = np.ptp(charts._drawn_columns((15,))[0])
    assert short < 0.8 * tall


def test_per_digit_bars_tell_85_from_100_and_downloads_are_named():
    from ui.results import bar_floor, download_name

    floor = bar_floor(np.array([85.0, 100.0, 97.0]))
    assert floor == 80 and (85 - floor) / (100 - floor) < 0.3          # the 85% bar is a quarter full
    assert bar_floor(np.array([3.0, 100.0])) == 0
    net = type("M", (), {"network": mlp.Network((64, 256, 10), "relu")})()
    assert download_name(net, 0.98912) == "mlp-64-256-10-98.9pct.npz"


def test_history_names_what_differs_and_puts_the_result_first():
    from ui.history import differing, legend_names, rows

    def run(i, **changes):
        return type("Run", (), {"id": i, "config": TrainConfig(**changes), "records": _records(3),
                                "status": "completed", "test_accuracy": 0.9})()

    runs = [run(1, learning_rate=0.1), run(2, learning_rate=0.001)]
    assert differing(runs) == ["learning rate"]
    assert legend_names(runs) == ["Run 1 · lr 0.1", "Run 2 · lr 0.001"]
    assert legend_names([run(1), run(2)]) == ["Run 1", "Run 2"]
    assert legend_names([run(1), run(2, seed=3, loss="mse")]) == ["Run 1 · Cross-entropy · seed 0",
                                                                   "Run 2 · MSE, correct gradient · seed 3"]
    row = rows(runs)[0]
    assert list(row)[:3] == ["run", "held-out accuracy", "status"]
    assert {"inputs", "weight step", "seed"} <= set(row)


def test_the_page_reads_the_same_split_without_importing_scikit_learn():
    import subprocess
    import sys

    from mlp.datasets import load_digits_split
    from ui.data import split_digits

    digits = split_digits()
    for mine, theirs in zip((digits.X_train, digits.X_test, digits.y_train, digits.y_test), load_digits_split()):
        np.testing.assert_array_equal(mine, theirs)
        assert mine.dtype == theirs.dtype
    code = "import sys, mlp; from ui.data import split_digits; split_digits(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False"
