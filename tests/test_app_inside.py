"""The look-inside views in AppTest: which model answers on Draw, the activations, the pixel
attributions, taking a unit apart, and Inspect's points map, confidence, robustness and data."""
# ruff: noqa: F811  (`at` is test_app's page fixture, imported so pytest finds it here too)
import base64
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from test_app import at, canvas_value, drawn_one, texts, train  # noqa: F401  (at: the page fixture)

import mlp
from mlp.preprocess import predict_image_proba
from st_helpers import show_tab
from ui.data import split_digits


def spec(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def array(v):
    """A Plotly array from the proto: a list, or NumPy's {"dtype", "bdata", "shape"}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape([int(s) for s in str(v["shape"]).split(",")]) if "shape" in v else a
    return np.asarray(v)


def draw(at, image=None):
    at.session_state["canvas"] = canvas_value(drawn_one() if image is None else image)
    show_tab(at, "Draw")
    assert not at.exception


def click_unit(at, layer, unit):
    at.session_state["activations_chart"] = {"selection": {"points": [{"curve_number": layer, "point_index": 0,
                                                                        "customdata": [layer, unit, 1.0]}],
                                                           "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


def test_training_a_run_does_not_change_who_answers_and_the_choice_holds(at):
    lab = train(at)                                       # the Fast preset: no re-rendered copies
    draw(at)
    assert "Answered by the **default model**" in texts(at)
    assert f"Your run {lab.job.id} is ready" in texts(at)
    radio = at.radio(key="draw_model")
    assert radio.options[0] == "Default model" and f"Your run {lab.job.id}" in radio.options
    run_key = next(k for k, (label, _) in at.session_state["lab"].shelf.items() if label == f"Your run {lab.job.id}")
    radio.set_value(run_key).run()
    assert f"Answered by **Your run {lab.job.id}**" in texts(at)
    assert "without the re-rendered copies" in " ".join(w.value for w in at.warning)
    at.slider(key="epochs").set_value(5).run()            # an unrelated full rerun
    at.run()
    assert at.radio(key="draw_model").value == run_key
    assert f"Answered by **Your run {lab.job.id}**" in texts(at)
    show_tab(at, "Inspect")                                # one choice for both tabs
    assert at.radio(key="inspect_model").value == run_key
    assert f"Showing **Your run {lab.job.id}**" in texts(at)
    show_tab(at, "Draw")
    train(at)                                              # a second run joins the list, the choice stays
    assert at.radio(key="draw_model").value == run_key and len(at.radio(key="draw_model").options) == 3


def test_a_drawn_digit_shows_every_layer_and_the_pixels_that_pushed(at):
    draw(at)
    fig = spec(at, "activations_chart")
    hidden, output = fig["data"][0], fig["data"][-1]
    assert len(hidden["x"]) == 128                         # the 128 most active of 4608 units
    values = array(hidden["marker"]["color"])
    assert np.all(np.diff(values) <= 0) and values[0] > 0   # strongest first
    assert output["text"] == [str(k) for k in range(10)]
    proba = array(output["marker"]["color"])
    assert int(np.argmax(proba)) == 1 and proba.sum() == pytest.approx(1.0)
    attr = spec(at, "attribution_chart")
    ink, share = np.asarray(attr["data"][0]["z"]), np.asarray(attr["data"][1]["z"])
    assert ink.shape == share.shape == (8, 8)
    assert np.all(share[ink == 0] == 0) and np.any(share > 0)    # only inked pixels push
    assert "Why 1?" in texts(at)


def test_click_a_unit_switch_it_off_undo_and_the_shared_model_is_untouched(at):
    shared = mlp.default_model().network.params.copy()
    draw(at)
    assert at.radio(key="draw_model").value == "default"
    click_unit(at, 0, 42)
    assert "Hidden layer 1, **unit 42**" in texts(at)
    assert {m.label for m in at.metric} >= {"Weighted sum", "Bias", "Output"}
    at.button(key="unit_off_top").click().run()
    assert not at.exception
    answer = metric(at, "Answer for your digit")
    assert answer.value != answer.delta.replace("was ", "")          # the probability moved
    assert "10 units switched off" in texts(at)
    assert "with your edits" in texts(at)
    at.button(key="unit_switch_off").click().run()                   # unit 42 as well
    assert "11 units switched off" in texts(at)
    at.button(key="unit_undo").click().run()
    assert "10 units switched off" in texts(at)
    at.button(key="unit_reset").click().run()
    assert not any(m.label == "Answer for your digit" for m in at.metric)
    np.testing.assert_array_equal(mlp.default_model().network.params, shared)


def doubtful_seven():
    """A quick 7 the default model reads right but far from sure of (~64%)."""
    img = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    ImageDraw.Draw(img).line([(80, 50), (200, 50), (120, 240)], fill=(17, 17, 17, 255), width=22)
    return np.asarray(img)


def test_a_threshold_set_in_inspect_makes_draw_say_i_dont_know(at):
    proba = predict_image_proba(mlp.default_model(), doubtful_seven())
    sure = float(proba.max())
    assert proba.argmax() == 7 and sure < 0.9
    draw(at, doubtful_seven())
    assert "### It's a **7**" in texts(at)
    at.session_state["inspect_view"] = "Confidence"
    show_tab(at, "Inspect")
    assert metric(at, "Answers").value == "450 of 450"
    at.slider(key="confidence_threshold").set_value(min(0.99, np.ceil(sure * 100 + 0.5) / 100)).run()
    show_tab(at, "Draw")
    assert "### I don't know" in texts(at) and "Best guess **7**" in texts(at)
    show_tab(at, "Inspect")
    fig = spec(at, "coverage_chart")
    assert fig["data"][1]["x"][0] < 1.0                                   # the marked point covers fewer
    assert int(metric(at, "Says 'I don't know'").value) > 0


def test_points_map_per_layer_with_digits_in_the_hover_and_a_clicked_digit(at):
    show_tab(at, "Inspect")
    fig = spec(at, "points_chart")
    assert len(fig["data"]) == 10 and sum(len(t["x"]) for t in fig["data"]) == 450
    assert "█" in "".join(c[2] for c in fig["data"][0]["customdata"])
    assert "Showing the **default model**" in texts(at)
    radio = at.get("button_group")
    layers = next(b for b in radio if b.key == "points_layer")
    layers.set_value(2).run()                                             # the output layer
    assert not at.exception
    out = spec(at, "points_chart")
    assert not np.allclose(array(out["data"][0]["x"]), array(fig["data"][0]["x"]))
    j = int(out["data"][3]["customdata"][0][0])
    at.session_state["points_chart"] = {"selection": {"points": [{"curve_number": 3, "point_index": 0,
                                                                   "customdata": out["data"][3]["customdata"][0]}],
                                                      "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert f"Held-out digit {j}: a **3**" in texts(at)


def test_robustness_compares_with_the_default_and_the_data_view_previews_the_options(at):
    at.session_state["inspect_view"] = "Robustness"
    show_tab(at, "Inspect")
    assert not at.exception
    noise = spec(at, "robust_noise")
    assert [t["name"] for t in noise["data"]] == ["Default model"]
    acc = array(noise["data"][0]["y"])
    assert acc[0] > 0.98 and acc[-1] < acc[0]                            # damage hurts
    lab = train(at)
    key = next(iter(at.session_state["lab"].shelf))
    at.radio(key="inspect_model").set_value(key).run()
    assert [t["name"] for t in spec(at, "robust_noise")["data"]] == [f"Your run {lab.job.id}", "Default model"]
    show_tab(at, "Draw")
    assert at.radio(key="draw_model").value == key                        # one choice for both tabs
    at.session_state["inspect_view"] = "The data it learns from"
    show_tab(at, "Inspect")
    counts = array(spec(at, "data_counts")["data"][0]["y"])
    assert counts.sum() == 1347 and counts.min() > 120
    captions = [c for el in at.get("image") for c in el.captions]
    assert {"half-pixel shifts: up, down, left, right", "eight re-rendered copies"} <= set(captions)
    first = [c for c in captions if c.startswith("original (#")]
    assert len(first) == 1 and split_digits().y_train[int(first[0][11:-1])] == 0      # a 0, the class shown
    at.button(key="data_another").click().run()
    assert not at.exception
    again = [c for el in at.get("image") for c in el.captions if c.startswith("original (#")]
    assert again != first and split_digits().y_train[int(again[0][11:-1])] == 0     # another 0
