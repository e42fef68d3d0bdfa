"""The page in AppTest (no browser): sidebar -> Train -> results for every preset, the error paths,
model files, and the Draw tab's inputs. AppTest runs no fragment ticks, so a test waits for the
background thread itself (job.join) and then reruns the script."""
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import mlp
from mlp.presets import PRESETS as ENGINE_PRESETS
from st_helpers import show_tab
from ui.data import split_digits
from ui.presets import PRESETS
from ui.sidebar import PRESET_KEYS

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def at():
    # A new visitor on a server that has already served others: the shared caches (the default
    # model, the digits, the training queue) stay, as they do on a real server.
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception
    return app


@pytest.fixture(scope="module")
def digits():
    return split_digits()


def current_tab(at) -> str:
    return at.session_state["tab"] if "tab" in at.session_state else "Train"


def train(at, timeout=120):
    """Press Train (on the Train tab), wait for the background job, rerun, go back to the tab that
    was open; return the session's LabState."""
    was = current_tab(at)
    if was != "Train":
        show_tab(at, "Train")
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    assert lab.job is not None and lab.job.join(timeout)
    at.run()
    assert not at.exception
    if was != "Train":
        show_tab(at, was)
    return lab


def pick_model(at, label: str, radio: str = "inspect_model"):
    """Choose one of the visitor's models by its label in a model radio."""
    key = next(k for k, (name, _) in at.session_state["lab"].shelf.items() if name == label)
    at.radio(key=radio).set_value(key).run()
    return key


def chart(at, key):
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def texts(at):
    return " ".join(e.value for kind in ("markdown", "success", "error", "warning", "info", "caption", "subheader")
                    for e in getattr(at, kind))


def png(array):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_page_opens_with_sidebar_tabs_and_a_prompt(at):
    assert [t.label for t in at.tabs] == ["Train", "Inspect", "Draw"]
    assert {"train", *PRESET_KEYS.values()} <= {b.key for b in at.button}
    assert at.slider(key="n_layers").value == 1
    assert "press **Train**" in " ".join(i.value for i in at.info)
    assert at.session_state["lab"].model is None


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "Best accuracy"])
def test_each_preset_fills_the_sidebar_and_trains(at, name):
    preset = fill_preset(at, name)
    lab = train(at)
    assert lab.job.config == preset and lab.job.status == "completed"
    assert lab.model is lab.job.model and lab.model_name == f"your run {lab.job.id}"
    spec = chart(at, "loss_chart")
    assert spec["data"][0]["x"] == list(range(1, preset.epochs + 1))           # one point per epoch
    assert len(at.dataframe) == 1                                             # the run history
    accuracy = lab.evaluation.accuracy
    assert accuracy > {"The original blog post": 0.95, "Fast": 0.93}[name]
    show_tab(at, "Inspect")
    pick_model(at, f"Your run {lab.job.id}")
    assert f"{accuracy:.1%}" in [m.value for m in at.metric if m.label == "Held-out accuracy"][0]
    at.session_state["inspect_view"] = "Mistakes"
    at.run()
    assert chart(at, "confusion_matrix")["data"][0]["type"] == "heatmap"
    per_digit = chart(at, "per_digit_chart")                                  # precision, recall, F1 per digit
    assert [t["name"] for t in per_digit["data"]] == ["precision", "recall", "F1"]
    assert len(per_digit["data"][1]["y"]) == 10 and min(per_digit["data"][1]["y"]) < 100


def fill_preset(at, name: str):
    """Click a preset; check the sidebar shows its settings; return its TrainConfig."""
    preset = PRESETS[name].config
    at.button(key=PRESET_KEYS[name]).click().run()
    assert at.slider(key="units_0").value == preset.hidden_layer_sizes[0]
    assert at.selectbox(key="loss").value == preset.loss
    assert at.select_slider(key="learning_rate").value == pytest.approx(preset.learning_rate)
    assert at.slider(key="epochs").value == preset.epochs
    return preset


@pytest.mark.slow
def test_the_best_accuracy_preset_starts_its_run_and_learns_in_its_first_epoch(at):
    """Its accuracy claim is tested on the engine (test_engine.py, trained once per session); here
    the app starts that very configuration, re-rendered copies and all, and its first epoch learns."""
    preset = fill_preset(at, "Best accuracy")
    assert preset == ENGINE_PRESETS["best"].replace(validation_fraction=preset.validation_fraction)
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    assert lab.job.config == preset
    deadline = time.monotonic() + 120
    while not lab.job.records and not lab.job.done:
        assert time.monotonic() < deadline, "no epoch within 2 minutes"
        time.sleep(0.05)
    lab.job.stop()
    assert lab.job.join(60) and lab.job.status == "stopped"
    at.run()
    assert not at.exception
    assert lab.job.records[0].val_accuracy > 0.9                              # one epoch of Adam on ~13x the digits
    assert lab.model is lab.job.model and lab.model_name == f"your run {lab.job.id}"


def sidebar_widgets(at):
    kinds = ("slider", "select_slider", "selectbox", "checkbox", "toggle", "number_input", "button")
    return [w for kind in kinds for w in getattr(at.sidebar, kind)]


def test_every_sidebar_control_explains_itself(at):
    at.selectbox(key="optimizer").set_value("momentum").run()          # shows Momentum and Nesterov
    at.toggle(key="per_layer_activation").set_value(True).run()        # shows per-layer activations
    widgets = sidebar_widgets(at)
    assert len(widgets) >= 22
    missing = [w.key for w in widgets if not (w.help or "").strip()]
    assert missing == []
    # what it does, a typical range, and what too high / too low looks like in the chart
    lr = at.select_slider(key="learning_rate").help
    assert "Typical" in lr and "Too high" in lr and "too low" in lr


def test_the_post_preset_names_the_post_and_first_runs_show_validation_curves(at):
    at.button(key="preset_post").click().run()
    note = " ".join(c.value for c in at.sidebar.caption)
    assert "Ritchie Vink" in note and "2017" in note and "https://www.ritchievink.com/" in note
    at.button(key="preset_fast").click().run()
    assert at.select_slider(key="validation_fraction").value > 0
    train(at)
    names = [t["name"] for t in chart(at, "loss_chart")["data"]]
    assert "train" in names and "validation" in names
    assert "What am I looking at?" in texts(at)


def test_the_lesson_trains_the_post_both_ways_side_by_side(at):
    at.button(key="lesson_train").click().run()
    lab = at.session_state["lab"]
    assert lab.job.config.loss == "mse_as_published" and lab.job.join(120)
    at.run()                                  # collects the first run and starts the second
    assert lab.job.config.loss == "mse" and lab.job.join(120)
    at.run()
    assert not at.exception
    assert [r.config.loss for r in lab.runs] == ["mse_as_published", "mse"]
    assert [r.config.replace(loss="mse") for r in lab.runs] == [lab.runs[1].config] * 2   # nothing else differs
    shown = {m.label: m.value for m in at.metric}
    published, correct = (f"{r.test_accuracy:.1%}" for r in lab.runs)
    assert shown["The post's gradient, σ′ at the output"] == published
    assert shown["The correct gradient, σ′ at the input"] == correct
    assert lab.runs[0].test_accuracy > lab.runs[1].test_accuracy + 0.1
    assert "σ′ taken at the already activated output" in texts(at)


def test_run_numbers_count_per_visitor(at):
    assert train(at).job.id == 1
    other = AppTest.from_file(APP, default_timeout=120).run()
    assert train(other).job.id == 1                       # not 2: another visitor's run does not count
    assert train(at).job.id == 2


def test_the_posts_published_mse_beats_the_correct_one_side_by_side(at):
    at.button(key="preset_post").click().run()
    published = train(at).evaluation.accuracy
    at.selectbox(key="loss").set_value("mse").run()
    correct = train(at).evaluation.accuracy
    lab = at.session_state["lab"]
    assert [r.config.loss for r in lab.runs] == ["mse_as_published", "mse"]
    assert published > 0.95 and correct < published - 0.1      # measured: about 0.97 vs 0.59
    overlay = chart(at, "history_chart")   # the legend names what differs between the runs
    assert [t["name"] for t in overlay["data"]] == [f"Run {r.id} · {loss}" for r, loss in
                                                   zip(lab.runs, ("MSE, the post's gradient", "MSE, correct gradient"))]


def test_two_layer_per_layer_activation_config_reaches_the_job(at):
    at.slider(key="n_layers").set_value(2).run()
    at.toggle(key="per_layer_activation").set_value(True).run()
    at.slider(key="units_1").set_value(20).run()
    at.selectbox(key="activation_1").set_value("tanh").run()
    at.slider(key="epochs").set_value(3).run()
    lab = train(at)
    assert lab.job.config.hidden_layer_sizes == (64, 20)
    assert lab.job.config.activation == ("relu", "tanh") and len(lab.job.records) == 3
    assert "2,410" not in texts(at)   # parameter count follows the sliders: 64*65+... not the 1-layer count
    assert any(m.value == f"{(64 + 1) * 64 + (64 + 1) * 20 + (20 + 1) * 10:,}" for m in at.metric)


def test_cosine_decay_checkbox_reaches_the_job(at):
    assert at.checkbox(key="cosine_decay").value is False
    at.checkbox(key="cosine_decay").check().run()
    at.slider(key="epochs").set_value(2).run()
    lab = train(at)
    assert lab.job.config.schedule == "cosine" and len(lab.job.records) == 2


def test_diverged_run_keeps_the_previous_model_and_says_so(at):
    first = train(at)
    good, good_id = first.model, first.job.id
    at.selectbox(key="activation").set_value("identity")
    at.selectbox(key="optimizer").set_value("sgd")
    at.select_slider(key="learning_rate").set_value(10.0).run()
    lab = train(at)
    assert lab.job.status == "diverged"
    assert lab.model is good
    message = " ".join(e.value for e in at.error)
    assert "lower learning rate" in message and f"keeps using your run {good_id}" in message
    assert not at.exception


def test_slider_moves_during_training_do_not_touch_the_run(at):
    at.slider(key="units_0").set_value(256).run()
    at.select_slider(key="batch_size").set_value(4)
    at.slider(key="epochs").set_value(200).run()
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    job = lab.job
    at.slider(key="epochs").set_value(3).run()                  # a rerun mid-training
    at.slider(key="units_0").set_value(8).run()
    assert lab.job is job and not job.done and job.config.epochs == 200
    deadline = time.monotonic() + 60
    while not job.records and time.monotonic() < deadline:    # one epoch in, so stopping keeps a model
        time.sleep(0.05)
    at.button(key="stop").click().run()
    assert job.join(60) and job.status == "stopped"
    at.run()
    assert lab.model is job.model and 1 <= len(job.records) < 200
    assert "Stopped" in " ".join(s.value for s in at.success)


def test_clicking_a_confusion_cell_shows_its_images(at, digits):
    lab = train(at)
    predicted = lab.evaluation.predicted
    at.session_state["inspect_view"] = "Mistakes"
    show_tab(at, "Inspect")
    pick_model(at, f"Your run {lab.job.id}")
    at.session_state["confusion_matrix"] = {"selection": {"points": [{"x": 3, "y": 3, "curve_number": 1}],
                                                          "point_indices": [33], "box": [], "lasso": []}}
    at.run()
    n = int(np.sum((digits.y_test == 3) & (predicted == 3)))
    assert f"#### True 3, correctly classified: {n} images" in [m.value for m in at.markdown]
    images = at.get("image")            # the cell's images
    assert len(images) == min(n, 40)
    assert chart(at, "confusion_matrix")["layout"]["shapes"][0]["x0"] == 2.5   # the clicked cell is outlined
    captions = [c.value for c in at.caption if c.value.startswith("→")]
    assert len(captions) == min(n, 40) and all(re.fullmatch(r"→3 \d+%", c) for c in captions)


def test_model_download_and_load_round_trip(at, digits):
    lab = train(at)
    data = mlp.model_to_bytes(lab.model)
    st.cache_data.clear()
    other = show_tab(AppTest.from_file(APP, default_timeout=120).run(), "Inspect")
    other.file_uploader(key="model_file").set_value(("mine.npz", data, "application/octet-stream")).run()
    assert not other.exception
    loaded = other.session_state["lab"]
    assert loaded.model_name == "file mine.npz"
    inspect = other.tabs[1]
    assert "Loaded mine.npz" in " ".join(m.value for m in inspect.success)      # confirmed where it happened
    assert "It is now the chosen model" in " ".join(m.value for m in inspect.success)
    assert "Showing **File mine.npz** on the 450 held-out digits" in texts(other)  # the whole name, not a cut metric
    assert other.radio(key="inspect_model").value != "default"
    assert "Model" not in [m.label for m in other.metric]
    assert loaded.evaluation.accuracy == pytest.approx(lab.evaluation.accuracy)
    np.testing.assert_array_equal(loaded.model.network.params, lab.model.network.params)


def test_a_bad_model_file_changes_nothing(at):
    lab = train(at)
    model = lab.model
    show_tab(at, "Inspect")
    at.file_uploader(key="model_file").set_value(("junk.npz", b"not a model at all", "application/octet-stream")).run()
    assert not at.exception
    assert "Could not load junk.npz" in " ".join(e.value for e in at.error)
    assert lab.model is model and lab.model_name == f"your run {lab.job.id}"


def canvas_value(image_rgba):
    import base64

    return {"drawing": {"raw": {"objects": [{"type": "path"}]},
                        "data": "data:image/png;base64," + base64.b64encode(png(image_rgba)).decode()}}


def drawn_one():
    img = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    ImageDraw.Draw(img).line([(140, 40), (140, 240)], fill=(17, 17, 17, 255), width=22)
    return np.asarray(img)


def prediction_text(at):
    return " ".join(m.value for m in at.markdown)


def test_empty_canvas_asks_for_a_digit(at):
    show_tab(at, "Draw")
    subheaders = [s.value for s in at.subheader]
    assert "Draw a digit" in subheaders and "Your digit will appear here" in subheaders


def test_a_drawn_one_is_classified_by_the_default_model(at):
    at.session_state["canvas"] = canvas_value(drawn_one())
    show_tab(at, "Draw")
    assert not at.exception
    assert "### It's a **1**" in prediction_text(at)
    assert "default model" in texts(at)


def test_upload_predicts_and_a_bad_upload_keeps_the_drawing(at, digits):
    at.session_state["canvas"] = canvas_value(drawn_one())
    show_tab(at, "Draw")
    k = int(np.flatnonzero(digits.y_test == 4)[0])
    big = np.kron(255 - digits.X_test[k].reshape(8, 8) * 15, np.ones((25, 25))).astype(np.uint8)
    at.file_uploader(key="upload").set_value(("four.png", png(big), "image/png")).run()
    assert "### It's a **4**" in prediction_text(at) and "from the upload" in prediction_text(at)
    at.file_uploader(key="upload").set_value(("broken.png", b"\x89PNG not really", "image/png")).run()
    assert not at.exception
    assert "Could not read broken.png" in " ".join(e.value for e in at.error)
    assert "### It's a **1**" in prediction_text(at) and "from the drawing" in prediction_text(at)  # drawing stays


def test_after_training_the_default_still_answers_until_the_visitor_picks_the_run(at):
    lab = train(at)
    at.session_state["canvas"] = canvas_value(drawn_one())
    show_tab(at, "Draw")
    assert "Answered by the **default model**" in texts(at)
    key = next(iter(at.session_state["lab"].shelf))
    at.radio(key="draw_model").set_value(key).run()
    assert f"Answered by **Your run {lab.job.id}**" in texts(at)


def test_a_queued_run_shows_one_line_until_it_gets_a_slot(at):
    """While every training slot is taken the page says "Queued, N ahead", draws no empty chart and
    ticks slowly; once the run has a slot the view ticks at the training pace again."""
    from ui.training_view import training_queue

    class Holder:                       # what the queue needs of a job
        stop_requested = False

    queue = training_queue()            # the server's one queue (cache_resource), as the page uses it
    holders = [Holder() for _ in range(queue.slots)]
    for h in holders:
        assert queue.acquire(h)
    try:
        at.button(key="train").click().run()
        lab = at.session_state["lab"]
        deadline = time.monotonic() + 10
        while lab.job.status != "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        at.run()
        assert lab.job.status == "queued"
        assert re.search(r"Queued, \d+ ahead", texts(at))
        assert not [c for c in at.get("plotly_chart") if c.key == "loss_chart"]
        assert lab.live_waiting          # the live view ticks at the slow queued pace meanwhile
    finally:
        for h in holders:
            queue.release(h)
    deadline = time.monotonic() + 10
    while lab.job.status == "queued" and time.monotonic() < deadline:
        time.sleep(0.01)
    at.run()
    assert not lab.live_waiting          # out of the queue: back to the training pace
    assert lab.job.join(120)
    at.run()
    assert not at.exception and chart(at, "loss_chart")


def test_the_dropout_control_reaches_the_run(at):
    slider = at.select_slider(key="dropout")
    assert slider.value == 0.0 and "switched off" in slider.help
    slider.set_value(0.3).run()
    at.slider(key="epochs").set_value(2).run()
    lab = train(at)
    assert lab.job.config.dropout == 0.3 and len(lab.job.records) == 2


def drawn(digit_line):
    img = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    ImageDraw.Draw(img).line(digit_line, fill=(17, 17, 17, 255), width=22)
    return np.asarray(img)


@pytest.mark.slow
def test_right_confirms_or_corrects_and_the_set_fine_tunes_a_copy(at, digits):
    """"Right?" under an answer adds the drawing once, confirmed or corrected; the set is shown with
    how the model reads it, downloads and loads again in another session; the fine-tune makes a
    new model for this visitor only and reports before/after on digits it never trained on."""
    default_before = mlp.default_model().network.params.copy()
    at.session_state["canvas"] = canvas_value(drawn_one())
    show_tab(at, "Draw")
    assert "**Right?**" in prediction_text(at)
    at.button(key="hw_yes").click().run()
    hw = at.session_state["handwriting"]
    assert len(hw) == 1 and hw.y.tolist() == [1]
    assert "Added to your digits as a **1**" in texts(at) and not [b for b in at.button if b.key == "hw_yes"]
    at.run()
    assert len(hw) == 1                                            # the same drawing is not added twice
    at.session_state["canvas"] = canvas_value(drawn([(100, 60), (180, 60), (120, 230)]))   # a 7
    show_tab(at, "Draw")
    fix = next(w for w in at.get("button_group") if w.key.startswith("hw_fix_"))
    fix.set_value(4).run()                                         # one click: "No, it's a 4"
    assert hw.y.tolist() == [1, 4]
    assert [m.value for m in at.metric if m.label == "The current model reads"] == ["1 of 2 of your digits (50%)"]
    # A file of 30 more of "their" digits (held-out ones, thickened) loads into the set ...
    more = mlp_handwriting(digits)
    other = show_tab(AppTest.from_file(APP, default_timeout=120).run(), "Draw")
    other.file_uploader(key="hw_file").set_value(("mine.npz", more, "application/octet-stream")).run()
    assert not other.exception and len(other.session_state["handwriting"]) == 30
    assert "Added 30 digits from mine.npz." in " ".join(m.value for m in other.success)
    assert len(at.session_state["handwriting"]) == 2               # ... of that visitor only
    other.button(key="hw_finetune").click().run()
    assert other.session_state["lab"].finetune.join(120)      # trains in a background thread
    other.run()
    assert not other.exception
    lab = other.session_state["lab"]
    assert lab.model is not None and lab.model_name == "the default model + your 21 digits"
    table = next(d.value for d in other.dataframe if "tested on" in d.value)
    assert list(table["tested on"]) == ["your 9 digits kept apart", f"{len(digits.y_test)} held-out load_digits"]
    assert table["after"][1] > 0.9
    np.testing.assert_array_equal(mlp.default_model().network.params, default_before)   # shared model untouched
    assert at.session_state["lab"].model is None                    # the first visitor still has no model
    other.file_uploader(key="hw_file").set_value(("notes.npz", b"just some text", "text/plain")).run()
    assert "Could not load notes.npz: it is not a handwriting file saved by MLP Lab." in \
        " ".join(e.value for e in other.error)
    assert len(other.session_state["handwriting"]) == 30           # nothing lost


def mlp_handwriting(digits):
    from scipy import ndimage

    from ui import handwriting_core as hc

    hw = hc.Handwriting()
    for i in range(30):
        hw.add(np.minimum(16, ndimage.grey_dilation(digits.X_test[i].reshape(8, 8), size=(2, 2))), digits.y_test[i])
    return hc.to_bytes(hw)


def test_the_empty_chart_frame_comes_after_the_first_page_and_gives_way_to_the_run(at):
    assert not [c for c in at.get("plotly_chart") if c.key == "empty_chart"]   # not in the first page
    at.run()                                                                    # the tick after it
    frame = chart(at, "empty_chart")
    assert frame["data"][0]["x"] == [] and frame["layout"]["xaxis"]["range"][1] >= 15
    train(at)
    keys = [c.key for c in at.get("plotly_chart")]
    assert "loss_chart" in keys and "empty_chart" not in keys
