"""Training in Debian's chromium, one run followed from start to Stop: the loss chart streams, the
first layer's tiles change between two ticks, Pause -> +1 epoch -> Resume act on the same run, a
slider moved mid-training reruns the page without touching the run, and Stop keeps the last
finished epoch. The original blog post's preset in slow motion (one epoch a second, 100 epochs)
leaves time to look and click. Screenshots go to shots/ (git-ignored)."""
import re

import pytest
from playwright.sync_api import Page, expect

from conftest import SHOTS
from st_helpers import open_app, set_slider, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TILES = "() => document.querySelector('.st-key-live_tiles img')?.src ?? ''"
STATUS = ".st-key-run_status"
LOSS_POINTS = """() => { const p = document.querySelector('.st-key-loss_chart .js-plotly-plot');
  return p && p.data && p.data.length ? p.data[0].x.length : 0; }"""


def click(page: Page, key: str):
    # A button with help text also renders a hidden copy of itself (Streamlit measures it).
    page.locator(f".st-key-{key} button:visible").click(no_wait_after=True)


def start_slow_run(page: Page, app_url):
    open_app(page, app_url)
    click(page, "preset_post")
    wait_for_app(page)
    page.locator(".st-key-slow_motion label").click()
    wait_for_app(page)
    click(page, "train")
    expect(page.locator(STATUS)).to_contain_text(re.compile(r"Epoch [1-9]\d* / 100"), timeout=60_000)


def epoch_in(text: str) -> int:
    return int(re.search(r"epoch (\d+)", text, re.IGNORECASE).group(1))


def test_a_run_streams_its_views_pauses_steps_resumes_survives_a_slider_and_stops(page: Page, app_url):
    SHOTS.mkdir(exist_ok=True)
    start_slow_run(page, app_url)
    page.wait_for_function(f"({LOSS_POINTS})() >= 2", timeout=30_000)   # the loss chart streams
    page.wait_for_function(f"({TILES})().startsWith('data:image/png')", timeout=60_000)
    first = page.evaluate(TILES)
    page.wait_for_function(f"({TILES})() !== {first!r}", timeout=60_000)
    assert page.evaluate(TILES).startswith("data:image/png")
    expect(page.get_by_text(re.compile(r"^Inside the network · after epoch \d+$"))).to_be_visible()
    expect(page.locator(".st-key-health_chart .js-plotly-plot")).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-histogram_chart .js-plotly-plot")).to_be_visible(timeout=30_000)
    assert page.locator(".st-key-live_strip img").count() == 20
    page.screenshot(path=str(SHOTS / "live_training.png"), full_page=True)

    click(page, "pause")
    expect(page.locator(STATUS)).to_contain_text("Paused after epoch", timeout=30_000)
    paused_at = epoch_in(page.locator(STATUS).inner_text())
    heading = page.get_by_text(re.compile(r"^Inside the network · after epoch \d+$"))
    expect(heading).to_have_text(f"Inside the network · after epoch {paused_at}", timeout=15_000)
    page.wait_for_timeout(1500)                                    # paused: nothing moves
    assert epoch_in(page.locator(STATUS).inner_text()) == paused_at
    click(page, "step")
    expect(page.locator(STATUS)).to_contain_text(f"Paused after epoch {paused_at + 1} /", timeout=30_000)
    expect(heading).to_have_text(f"Inside the network · after epoch {paused_at + 1}", timeout=15_000)
    page.screenshot(path=str(SHOTS / "live_paused.png"), full_page=True)
    click(page, "resume")
    expect(page.locator(STATUS)).to_contain_text(re.compile(r"^Epoch \d+ / 100"), timeout=30_000)
    page.wait_for_function(f"""() => {{ const m = document.querySelector('{STATUS}')?.innerText
        .match(/^Epoch (\\d+) \\//); return m && +m[1] > {paused_at + 1}; }}""", timeout=30_000)

    before = page.evaluate(LOSS_POINTS)
    set_slider(page, "epochs", -3)                          # reruns of the whole page mid-training
    expect(page.locator(".st-key-epochs")).to_contain_text("97")
    page.wait_for_function(f"({LOSS_POINTS})() > {before + 1}", timeout=30_000)   # the same run goes on
    expect(page.locator(STATUS)).to_contain_text(re.compile(r"^Epoch \d+ / 100"))
    click(page, "stop")
    expect(page.get_by_text(re.compile(r"^Stopped · \d+ / 100 epochs"))).to_be_visible(timeout=30_000)
    assert before < page.evaluate(LOSS_POINTS) < 100
    expect(page.get_by_text("Stopped: the model keeps the weights of the last finished epoch.")).to_be_visible()
    page.screenshot(path=str(SHOTS / "live_stopped.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
