"""The real page in Debian's chromium: `streamlit run app.py`, Train with a live chart, Stop,
a slider moved mid-training, a confusion-matrix click, digits drawn with the mouse (and the canvas
cleared between them), uploads.
Screenshots go to shots/ (git-ignored) to be looked at."""
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from conftest import SHOTS
from st_helpers import draw_stroke, open_app, open_tab, set_slider, wait_for_app
from ui.data import split_digits

PLOT_POINTS = """(key) => { const p = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  return p && p.data && p.data.length ? p.data[0].x.length : 0; }"""


@pytest.fixture(autouse=True)
def _shots():
    SHOTS.mkdir(exist_ok=True)


def shot(page: Page, name: str):
    page.screenshot(path=str(SHOTS / f"app_{name}.png"), full_page=True)


def points(page: Page, key="loss_chart") -> int:
    return page.evaluate(PLOT_POINTS, key)


def test_training_streams_survives_a_slider_and_stops(page: Page, app_url):
    open_app(page, app_url)
    shot(page, "start")
    for key, press in (("units_0", "End"), ("epochs", "End"), ("batch_size", "Home")):
        page.locator(f".st-key-{key}").get_by_role("slider").focus()   # 256 units, 200 epochs, batches of 4:
        page.keyboard.press(press)                                       # ~0.1 s an epoch, stopped long before
        wait_for_app(page)
    expect(page.locator(".st-key-epochs")).to_contain_text("200")
    page.locator(".st-key-train button").click()
    page.wait_for_function(f"({PLOT_POINTS})('loss_chart') >= 3", timeout=30_000)
    first = points(page)
    set_slider(page, "epochs", -3)                      # reruns of the whole page mid-training
    expect(page.locator(".st-key-epochs")).to_contain_text("197")
    page.wait_for_function(f"({PLOT_POINTS})('loss_chart') > {first + 2}", timeout=30_000)
    shot(page, "training")
    assert page.locator(".st-key-stop button").is_visible()
    page.locator(".st-key-stop button").click()
    expect(page.get_by_text(re.compile(r"^Stopped · \d+ / 200 epochs"))).to_be_visible(timeout=30_000)
    final = points(page)
    assert first < final < 200
    expect(page.get_by_text("Stopped: the model keeps the weights of the last finished epoch.",
                            exact=False)).to_be_visible()
    shot(page, "stopped")


def test_confusion_matrix_cell_click_shows_its_images(page: Page, app_url):
    open_app(page, app_url)
    open_tab(page, "Inspect")
    expect(page.locator(".st-key-inspect_model_box")).to_contain_text("Showing the default model")
    page.locator(".st-key-inspect_view").get_by_role("radio", name="Mistakes", exact=True).click()
    plot = page.locator(".st-key-confusion_matrix .nsewdrag")
    expect(plot).to_be_visible()
    plot.scroll_into_view_if_needed()   # the mouse clicks viewport coordinates; the matrix sits below the fold
    box = plot.bounding_box()
    row, col = 3, 3                                     # true 3, predicted 3
    x = box["x"] + (col + 0.5) / 10 * box["width"]
    y = box["y"] + (row + 0.5) / 10 * box["height"]
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    expect(page.locator(".st-key-cm_cell_images")).to_contain_text(
        re.compile(r"True 3, correctly classified: \d+ images"), timeout=15_000)
    shot(page, "inspect")


def fresh_draw_tab(page: Page, app_url):
    open_app(page, app_url)
    open_tab(page, "Draw")
    expect(page.locator(".st-key-prediction")).to_contain_text("Your digit will appear here")


STROKES = {
    "1": [[(0.5, 0.12), (0.5, 0.88)]],
    "7": [[(0.25, 0.15), (0.75, 0.15), (0.42, 0.88)]],
    "0": [[(0.5, 0.12), (0.3, 0.25), (0.25, 0.5), (0.3, 0.75), (0.5, 0.88), (0.7, 0.75), (0.75, 0.5),
           (0.7, 0.25), (0.5, 0.12)]],
}


def test_drawn_digits_are_recognised(page: Page, app_url):
    fresh_draw_tab(page, app_url)
    prediction = page.locator(".st-key-prediction")
    for digit, strokes in STROKES.items():
        for stroke in strokes:
            draw_stroke(page, "canvas", stroke)
        expect(prediction).to_contain_text(f"It's a {digit}", timeout=20_000)
        expect(prediction).to_contain_text("default model")
        shot(page, f"draw_{digit}")
        wait_for_app(page)
        page.locator(".st-key-canvas").get_by_role("button", name="Reset canvas & history").click()
        expect(prediction).to_contain_text("Your digit will appear here", timeout=20_000)
        wait_for_app(page)


def digit_png(tmp_path, digit: int) -> str:
    d = split_digits()
    k = int(np.flatnonzero(d.y_test == digit)[0])
    big = np.kron(255 - d.X_test[k].reshape(8, 8) * 15, np.ones((25, 25))).astype(np.uint8)
    path = tmp_path / f"digit_{digit}.png"
    Image.fromarray(big).save(path)
    return str(path)


def test_upload_a_png_then_a_bad_file(page: Page, app_url, tmp_path):
    fresh_draw_tab(page, app_url)
    draw_stroke(page, "canvas", STROKES["1"][0])
    expect(page.locator(".st-key-prediction")).to_contain_text("It's a 1", timeout=20_000)
    upload = page.locator(".st-key-upload input[type='file']")
    upload.set_input_files(digit_png(tmp_path, 4))
    expect(page.locator(".st-key-prediction")).to_contain_text("It's a 4", timeout=20_000)
    expect(page.locator(".st-key-prediction")).to_contain_text("from the upload")
    shot(page, "upload")
    bad = tmp_path / "not_an_image.png"
    bad.write_bytes(b"this is not a picture")
    upload.set_input_files(str(bad))
    expect(page.get_by_text("Could not read not_an_image.png")).to_be_visible(timeout=20_000)
    expect(page.locator(".st-key-prediction")).to_contain_text("It's a 1")   # the drawing still answers
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "bad_upload")


def test_a_select_box_mounted_late_keeps_its_session_value(page: Page, app_url):
    """Under load the browser can mount the lazily loaded select boxes after the run that told it
    their value (Streamlit sends a session-state value once); the Optimiser then came up on its
    first option and the next rerun trained with SGD. Here the select box code is held back until
    three later reruns have gone by, then released."""
    held = []
    page.route(re.compile(r"/Selectbox\.[\w-]+\.js$"), lambda route: held.append(route))
    open_app(page, app_url)
    for _ in range(3):                                  # reruns that write nothing to session state
        set_slider(page, "epochs", -1)
        wait_for_app(page)
    assert held, "the select box code was not requested"
    for route in held:
        route.continue_()
    optimiser = page.locator(".st-key-optimizer").get_by_role("combobox")
    expect(optimiser).to_be_visible(timeout=30_000)
    set_slider(page, "epochs", -1)                      # a rerun that sends every widget's value
    expect(page.locator(".st-key-epochs")).to_contain_text("11")
    wait_for_app(page)
    expect(optimiser).to_have_value("Adam")
    expect(page.get_by_text(re.compile(r"^Trains .* · adam 0\.003 · "))).to_be_visible()
