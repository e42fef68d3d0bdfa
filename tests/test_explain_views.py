"""The look-inside figures as pure functions: which units are drawn, what a click reports, the
hover's text art and the layer names, for narrow and wide, shallow and deep networks."""
import numpy as np

from mlp import explain
from mlp.network import Network
from ui import explain_view, inspect_views


def test_a_narrow_layer_shows_every_unit_a_wide_one_its_most_active():
    h = np.arange(20, dtype=float)
    np.testing.assert_array_equal(explain_view.shown_units(h, limit=32), np.arange(20))
    wide = np.random.default_rng(0).random(500)
    shown = explain_view.shown_units(wide, limit=50)
    assert len(shown) == 50 and set(shown) == set(np.argsort(-wide)[:50])
    assert np.all(np.diff(wide[shown]) <= 0)


def test_a_deep_net_draws_one_block_per_hidden_layer_and_clicks_name_the_unit():
    net = Network((64, 40, 12, 10), ("relu", "tanh", "softmax"), seed=0, input_scale=1 / 16)
    x = np.random.default_rng(1).integers(0, 17, 64)
    outs = explain.layer_outputs(net, x)
    fig = explain_view.activations_figure([o[0] for o in outs[1:-1]], outs[-1][0], range(10),
                                          off={(1, 3)}, picked=(0, 5))
    hidden = fig["data"][:-1]
    assert [len(t["x"]) for t in hidden] == [40, 12] and len(fig["data"][-1]["x"]) == 10
    assert [c[:2] for c in hidden[1]["customdata"]] == [[1, u] for u in range(12)]
    widths = hidden[1]["marker"]["line"]["width"]
    assert widths[3] > widths[0]                                  # the switched-off unit is marked
    event = {"selection": {"points": [{"customdata": hidden[1]["customdata"][3]}]}}
    assert explain_view.pick_from(event) == (1, 3)
    assert explain_view.pick_from({"selection": {"points": [{"customdata": [-1, 7, 0.9]}]}}) is None  # an output
    assert explain_view.pick_from(None) is None


def test_text_art_and_layer_names():
    x = np.zeros(64)
    x[:8] = 16
    lines = inspect_views.text_art(x).split("<br>")
    assert len(lines) == 8 and lines[0] == "█" * 16 and set(lines[1]) == {" "}
    assert inspect_views.layer_names((64, 256, 32, 10)) == [
        "input (64)", "hidden layer 1 (256)", "hidden layer 2 (32)", "output scores (10)"]


def test_coverage_figure_marks_the_chosen_threshold():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    curve = explain.coverage_curve(proba, np.array([0, 1, 1]))
    fig = inspect_views.coverage_figure(curve, 0.7)
    assert fig["data"][1]["x"] == [2 / 3] and fig["data"][1]["y"] == [1.0]
