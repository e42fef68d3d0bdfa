"""A first-time visitor's path in Debian's chromium, one page: nothing cut off or covered (select
boxes, the chart's axis titles and legend, the canvas toolbar), and their own handwriting collected
from a real stroke. Screenshots go to shots/ (git-ignored) to be looked at."""
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import SHOTS
from st_helpers import draw_stroke, open_app, open_tab, wait_for_app

pytestmark = pytest.mark.browser

CUT_OFF = """(key) => { const i = document.querySelector(`.st-key-${key} input[role=combobox]`);
  return i ? i.scrollWidth - i.clientWidth : null; }"""


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.fixture(autouse=True)
def _shots():
    SHOTS.mkdir(exist_ok=True)


def test_a_first_visit_presets_a_run_the_canvas_and_a_digit_for_the_visitors_own_set(page: Page, app_url):
    open_app(page, app_url)
    page.screenshot(path=str(SHOTS / "firstvisit_start.png"), full_page=True)

    # The post's settings fit their select boxes.
    page.get_by_role("button", name="The original blog post").click()
    wait_for_app(page)
    expect(page.locator(".st-key-loss input[role=combobox]")).to_have_value("MSE, the post's gradient")
    for key in ("loss", "weight_gradient", "input_scale", "output_activation", "optimizer", "activation"):
        assert page.evaluate(CUT_OFF, key) <= 0, f"the {key} select box cuts its value off"
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("Ritchie Vink")

    # A finished run's chart keeps its axis titles, panel titles and legend apart.
    page.get_by_role("button", name="Fast", exact=True).click()   # a run of a fraction of a second
    wait_for_app(page)
    page.mouse.move(700, 5)                                        # its help tooltip off the Train button
    page.locator(".st-key-train button").click()
    expect(page.get_by_text(re.compile(r"^Completed · "))).to_be_visible(timeout=60_000)
    wait_for_app(page)
    chart = page.locator(".st-key-loss_chart")
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    accuracy_title = chart.locator(".g-y2title").bounding_box()
    loss_panel = chart.locator(".xy .nsewdrag").first.bounding_box()        # the loss subplot's area
    assert accuracy_title["x"] > loss_panel["x"] + loss_panel["width"]
    legend = chart.locator(".legend").bounding_box()
    panel_titles = [chart.locator(".annotation").nth(i).bounding_box() for i in range(2)]
    assert not any(boxes_overlap(legend, t) for t in panel_titles)
    assert chart.locator(".ytick").count() >= 3                              # the loss axis has ticks
    chart.screenshot(path=str(SHOTS / "firstvisit_chart.png"))

    # The canvas toolbar covers nothing.
    open_tab(page, "Draw")
    canvas = page.locator(".st-key-canvas canvas.upper-canvas")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(600)                                               # the toolbar slides in
    toolbar = page.locator(".st-key-canvas .dc-toolbar").bounding_box()
    for covered in (".st-key-stroke_width", "[data-testid=stCaptionContainer]"):
        for element in page.locator(covered).all():
            seen = element.bounding_box()
            assert seen is None or not boxes_overlap(toolbar, seen), f"the toolbar covers {covered}"
    page.screenshot(path=str(SHOTS / "firstvisit_draw.png"), full_page=True)

    # A drawn digit, corrected, joins the visitor's own set.
    draw_stroke(page, "canvas", [(0.5, 0.15), (0.5, 0.85)])
    yes = page.locator(".st-key-hw_yes button")
    expect(yes).to_be_visible(timeout=30_000)
    wait_for_app(page)
    page.locator(".st-key-hw_confirm").get_by_role("radio", name="4", exact=True).click()   # "No, it's a 4"
    expect(page.locator(".st-key-hw_confirm")).to_contain_text("Added to your digits as a 4", timeout=30_000)
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"^0 of 1 of your digits"))).to_be_visible()
    page.screenshot(path=str(SHOTS / "firstvisit_handwriting.png"), full_page=True)
