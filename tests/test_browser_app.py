"""The real page in Debian's chromium: digits drawn with the mouse (the canvas cleared between
them) and read, a drawing kept across a visit to another tab, uploads good and bad, and a select
box whose code arrives late. Training is followed in test_browser_live.py, the look-inside views
in test_browser_inside.py. Screenshots go to shots/ (git-ignored) to be looked at."""
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from conftest import SHOTS
from st_helpers import draw_stroke, open_app, open_tab, set_slider, wait_for_app
from ui.data import split_digits

INK = """() => { const find = (root) => {
    const c = root.querySelector('canvas.dc-canvas.lower-canvas'); if (c) return c;
    for (const e of root.querySelectorAll('*')) if (e.shadowRoot) { const f = find(e.shadowRoot); if (f) return f; }
    return null; };
  const c = find(document.querySelector('.st-key-canvas'));
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] < 128) n++; return n; }"""


@pytest.fixture(autouse=True)
def _shots():
    SHOTS.mkdir(exist_ok=True)


def shot(page: Page, name: str):
    page.screenshot(path=str(SHOTS / f"app_{name}.png"), full_page=True)


def fresh_draw_tab(page: Page, app_url):
    open_app(page, app_url, tab="Draw")
    expect(page.locator(".st-key-prediction")).to_contain_text("Your digit will appear here")


STROKES = {
    "1": [[(0.5, 0.12), (0.5, 0.88)]],
    "7": [[(0.25, 0.15), (0.75, 0.15), (0.42, 0.88)]],
    "0": [[(0.5, 0.12), (0.3, 0.25), (0.25, 0.5), (0.3, 0.75), (0.5, 0.88), (0.7, 0.75), (0.75, 0.5),
           (0.7, 0.25), (0.5, 0.12)]],
}


def digit_png(tmp_path, digit: int) -> str:
    d = split_digits()
    k = int(np.flatnonzero(d.y_test == digit)[0])
    big = np.kron(255 - d.X_test[k].reshape(8, 8) * 15, np.ones((25, 25))).astype(np.uint8)
    path = tmp_path / f"digit_{digit}.png"
    Image.fromarray(big).save(path)
    return str(path)


def test_drawn_digits_are_read_kept_across_tabs_and_outlive_a_bad_upload(page: Page, app_url, tmp_path):
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

    # A drawing is still there after a visit to another tab, and new strokes go on top of it.
    draw_stroke(page, "canvas", STROKES["7"][0])
    expect(prediction).to_contain_text("It's a 7", timeout=20_000)
    wait_for_app(page)
    ink = page.evaluate(INK)
    assert 1000 < ink < 40_000                              # dark strokes, not the whole canvas
    open_tab(page, "Inspect")
    open_tab(page, "Draw")
    expect(prediction).to_contain_text("It's a 7", timeout=20_000)
    page.wait_for_function(f"() => ({INK})() > {ink * 0.9}", timeout=20_000)   # the strokes are back on it
    draw_stroke(page, "canvas", [(0.3, 0.5), (0.6, 0.5)])   # a cross-bar: drawn on top of the 7
    wait_for_app(page)
    page.wait_for_function(f"() => ({INK})() > {ink * 1.1}", timeout=20_000)
    expect(prediction).to_contain_text("It's a", timeout=20_000)
    drawn = re.search(r"It's a \d", prediction.inner_text()).group(0)

    # An upload answers instead of the drawing; a bad file gets a sentence and the drawing answers again.
    upload = page.locator(".st-key-upload input[type='file']")
    upload.set_input_files(digit_png(tmp_path, 4))
    expect(prediction).to_contain_text("It's a 4", timeout=20_000)
    expect(prediction).to_contain_text("from the upload")
    shot(page, "upload")
    bad = tmp_path / "not_an_image.png"
    bad.write_bytes(b"this is not a picture")
    upload.set_input_files(str(bad))
    expect(page.get_by_text("Could not read not_an_image.png")).to_be_visible(timeout=20_000)
    expect(prediction).to_contain_text(drawn)
    expect(prediction).not_to_contain_text("from the upload")
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
