"""The look-inside views in Debian's chromium: a drawn digit lights up the layers and its pixels,
a clicked unit switched off moves the answer, the points map's hover shows a digit, a confusion
matrix cell's click shows its images, and the Draw tab's model choice holds across reruns.
Screenshots go to shots/ (git-ignored)."""
import re

import numpy as np
import pytest
from playwright.sync_api import Page, expect

import mlp
from conftest import SHOTS
from mlp.model import TrainedModel
from mlp.network import Network
from st_helpers import draw_stroke, open_app, open_tab, set_slider, wait_for_app

pytestmark = pytest.mark.browser

SEVEN = [(0.25, 0.15), (0.75, 0.15), (0.42, 0.88)]
TRACE_LENGTH = """([key, i]) => { const p = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  return p && p.data && p.data.length > i ? p.data[i].x.length : 0; }"""
POINT_CENTRE = """([key, trace, k]) => { const p = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const pt = p.querySelectorAll('.scatterlayer .trace')[trace].querySelectorAll('.point')[k].getBoundingClientRect();
  return [pt.x + pt.width / 2, pt.y + pt.height / 2]; }"""


@pytest.fixture(autouse=True)
def _shots():
    SHOTS.mkdir(exist_ok=True)


def shot(page: Page, name: str):
    page.screenshot(path=str(SHOTS / f"inside_{name}.png"), full_page=True)


def draw_on_canvas(page: Page, points):
    page.locator(".st-key-canvas canvas.upper-canvas").wait_for(timeout=60_000)   # mounts late on a busy box
    draw_stroke(page, "canvas", points)


def draw_seven(page: Page, app_url):
    open_app(page, app_url, tab="Draw")
    draw_on_canvas(page, SEVEN)
    expect(page.locator(".st-key-prediction")).to_contain_text("It's a 7", timeout=20_000)


def press(page: Page, key: str):
    """Click a keyed st.button (one with help= renders a second, hidden copy for measuring)."""
    page.locator(f".st-key-{key}").get_by_role("button").first.click()


def click_point(page: Page, key: str, trace: int, k: int):
    page.locator(f".st-key-{key}").scroll_into_view_if_needed()   # a click outside the viewport hits nothing
    xy = page.evaluate(POINT_CENTRE, [key, trace, k])
    page.mouse.move(*xy)
    page.wait_for_timeout(300)
    page.mouse.click(*xy)
    return xy


def test_a_drawn_digit_lights_up_the_layers_and_a_switched_off_unit_moves_the_answer(page: Page, app_url):
    draw_seven(page, app_url)
    expect(page.locator(".st-key-attribution")).to_contain_text("Why 7?", timeout=20_000)
    page.wait_for_function(f"(a) => ({TRACE_LENGTH})(a) == 128", arg=["activations", 0])   # hidden units
    assert page.evaluate(TRACE_LENGTH, ["activations", 1]) == 10                              # the outputs
    expect(page.locator(".st-key-attribution .js-plotly-plot")).to_be_visible()
    wait_for_app(page)
    click_point(page, "activations", 0, 0)                 # the most active unit
    expect(page.locator(".st-key-take_apart")).to_contain_text(re.compile(r"Hidden layer 1, unit \d+"),
                                                               timeout=20_000)
    expect(page.locator(".st-key-take_apart")).to_contain_text("Weighted sum")
    wait_for_app(page)
    press(page, "unit_switch_off")
    effect = page.locator(".st-key-edit_effect")
    expect(effect).to_contain_text("1 unit switched off", timeout=20_000)
    press(page, "unit_off_top")
    expect(effect).to_contain_text("11 units switched off", timeout=20_000)
    text = effect.inner_text()
    now = re.search(r"Answer for your digit\s+(\d \([\d.]+%\))", text).group(1)
    was = re.search(r"was (\d \([\d.]+%\))", text).group(1)
    assert now != was, text                               # the answer or its probability moved
    expect(page.locator(".st-key-prediction")).to_contain_text("with your edits")
    shot(page, "draw_take_apart")
    press(page, "unit_reset")
    expect(effect).to_have_count(0, timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0


def test_inspect_points_map_hover_and_click_then_a_confusion_cell_click(page: Page, app_url):
    open_app(page, app_url, tab="Inspect")
    expect(page.locator(".st-key-inspect_model_box")).to_contain_text("Showing the default model")
    page.wait_for_function(f"(a) => ({TRACE_LENGTH})(a) > 0", arg=["points_map", 3])
    page.locator(".st-key-points_map").scroll_into_view_if_needed()
    xy = page.evaluate(POINT_CENTRE, ["points_map", 3, 0])
    page.mouse.move(*xy)
    hover = page.locator(".st-key-points_map .hoverlayer")
    expect(hover).to_contain_text(re.compile(r"held-out digit \d+: a 3, read as \d"), timeout=10_000)
    assert re.search("[░▒▓█]{4}", hover.text_content())   # the digit drawn in block characters
    shot(page, "points_hover")
    page.mouse.click(*xy)
    expect(page.locator(".st-key-points_digit")).to_contain_text(re.compile(r"Held-out digit \d+: a 3"),
                                                                timeout=20_000)
    wait_for_app(page)

    page.locator(".st-key-inspect_view").get_by_role("radio", name="Mistakes", exact=True).click()
    plot = page.locator(".st-key-confusion_matrix .nsewdrag")
    expect(plot).to_be_visible(timeout=20_000)
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
    shot(page, "mistakes")


def choose_a_file_and_keep_it_across_reruns(page: Page, app_url, tmp_path):
    net = Network((64, 16, 10), ("relu", "softmax"), seed=0, input_scale=1 / 16)
    model = TrainedModel(net, np.arange(10), mlp.TrainConfig(hidden_layer_sizes=(16,)))
    path = tmp_path / "tiny.npz"
    path.write_bytes(mlp.model_to_bytes(model))
    open_app(page, app_url, tab="Inspect")
    page.locator(".st-key-model_file input[type='file']").set_input_files(str(path))
    expect(page.locator(".st-key-inspect_model_box")).to_contain_text("Showing File tiny.npz", timeout=20_000)
    wait_for_app(page)
    open_tab(page, "Draw")                                 # a loaded file is the choice, here too
    draw_on_canvas(page, SEVEN)
    prediction = page.locator(".st-key-prediction")
    expect(prediction).to_contain_text("Answered by File tiny.npz", timeout=20_000)
    expect(page.locator(".st-key-answer_model")).to_contain_text("without the re-rendered copies")
    page.locator(".st-key-draw_model").get_by_text("Default model").click()
    expect(prediction).to_contain_text("Answered by the default model", timeout=20_000)
    wait_for_app(page)                                     # the choice's rerun ends before the next action
    page.locator(".st-key-draw_model").get_by_text("File tiny.npz").click()
    expect(prediction).to_contain_text("Answered by File tiny.npz", timeout=20_000)
    wait_for_app(page)
    set_slider(page, "stroke_width", 3)                    # a rerun of the Draw tab
    wait_for_app(page)
    set_slider(page, "epochs", 2)                          # a rerun of the whole page
    wait_for_app(page)
    draw_on_canvas(page, [(0.5, 0.2), (0.5, 0.8)])         # and a new stroke
    wait_for_app(page)
    expect(prediction).to_contain_text("Answered by File tiny.npz")
    assert page.locator(".st-key-draw_model input[type='radio']").nth(1).is_checked()
    shot(page, "model_choice")


def test_the_model_choice_holds_across_reruns_and_both_tabs_follow_it(page: Page, app_url, tmp_path):
    choose_a_file_and_keep_it_across_reruns(page, app_url, tmp_path)
    page.locator(".st-key-draw_model").get_by_text("Default model").click()
    expect(page.locator(".st-key-prediction")).to_contain_text("Answered by the default model", timeout=20_000)
    wait_for_app(page)
    open_tab(page, "Inspect")
    box = page.locator(".st-key-inspect_model_box")
    expect(box).to_contain_text("Showing the default model", timeout=20_000)
    assert page.locator(".st-key-inspect_model input[type='radio']").nth(0).is_checked()
    expect(page.locator(".st-key-inspect_model_box")).to_contain_text("Held-out accuracy")
    page.locator(".st-key-inspect_model").get_by_text("File tiny.npz").click()
    expect(box).to_contain_text("Showing File tiny.npz", timeout=20_000)
    page.locator(".st-key-inspect_view").get_by_role("radio", name="Weights", exact=True).click()
    expect(page.locator(".st-key-inspect_view_box")).to_contain_text("What the first layer looks at", timeout=20_000)
    wait_for_app(page)
    open_tab(page, "Draw")
    expect(page.locator(".st-key-answer_model")).to_contain_text("without the re-rendered copies", timeout=20_000)
    assert page.locator(".st-key-draw_model input[type='radio']").nth(1).is_checked()
