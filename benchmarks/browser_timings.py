"""How long each look-inside view takes to appear in Debian's chromium after its action, with the
default (64-4608-10) model: a tab opened, an Inspect view switched, a digit drawn (answer, then
its explanation, counted from mouse-up), a unit clicked and switched off. A view has appeared when
its Plotly chart is painted with its data, or its text is on the page.

    python benchmarks/browser_timings.py            # --rounds 5 --read 5

A visitor first reads the page for --read seconds (the Train tab's empty chart loads the browser's
chart code meanwhile); --read 0 clicks Inspect at once, and that click then waits for the chart code.

Each round is a new visitor. Run it on a quiet machine: other processes on its two cores inflate
every number. The budget (issue 13) is 1 s for each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402
from st_helpers import draw_stroke, open_app, wait_for_app  # noqa: E402

PAINTED = """([key, n]) => { const p = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  return !!(p && p.data && p.data.length > 0 && (n == 0 || (p.data[0].x && p.data[0].x.length >= n))
            && p.querySelector('.main-svg')); }"""
SEVEN = [(0.25, 0.15), (0.75, 0.15), (0.42, 0.88)]
BUDGET_S = 1.0


def since(t0: float) -> float:
    return time.monotonic() - t0


def painted(page, key: str, n: int = 1):
    page.wait_for_function(f"(a) => ({PAINTED})(a)", arg=[key, n], timeout=60_000, polling=10)


def text(page, key: str, words: str):
    expect(page.locator(f".st-key-{key}")).to_contain_text(words, timeout=60_000)


def click_tab(page, name: str) -> float:
    t0 = time.monotonic()
    page.get_by_role("tab", name=name, exact=True).click()
    return t0


def segment(page, key: str, label: str) -> float:
    t0 = time.monotonic()
    page.locator(f".st-key-{key}").get_by_role("radio", name=label, exact=True).click()
    return t0


def _mistakes(page):
    painted(page, "confusion_matrix", 0)
    expect(page.locator(".st-key-cm_cell_grid img").first).to_be_visible(timeout=60_000)


def _weights(page):
    text(page, "inspect_view_box", "What the first layer looks at")
    expect(page.locator(".st-key-inspect_view_box img").first).to_be_visible(timeout=60_000)


# (segment label, row name, wait until the view has appeared)
INSPECT_VIEWS = (
    ("Mistakes", "mistakes", _mistakes),
    ("Weights", "weights", _weights),
    ("Confidence", "confidence curve", lambda page: painted(page, "coverage_chart", 2)),
    ("Robustness", "robustness curves", lambda page: painted(page, "robust_noise", 2)),
    ("The data it learns from", "the data", lambda page: painted(page, "data_counts", 10)),
)


def one_round(browser, url: str, read_s: float) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    out = {}
    open_app(page, url, timeout=120_000)
    page.wait_for_timeout(1000 * read_s)
    t0 = click_tab(page, "Inspect")
    painted(page, "points_map", 2)
    out["open Inspect -> points map"] = since(t0)
    wait_for_app(page)
    for label, name, appeared in INSPECT_VIEWS:
        t0 = segment(page, "inspect_view", label)
        appeared(page)
        out[f"Inspect view -> {name}"] = since(t0)
        wait_for_app(page)
    t0 = click_tab(page, "Draw")
    page.locator(".st-key-canvas canvas.upper-canvas").wait_for(timeout=60_000)
    out["open Draw -> canvas"] = since(t0)
    wait_for_app(page)
    page.wait_for_timeout(300)
    draw_stroke(page, "canvas", SEVEN)
    t0 = time.monotonic()                                  # mouse-up
    text(page, "prediction", "It's a 7")
    out["mouse-up -> answer"] = since(t0)
    text(page, "attribution", "Why 7?")
    painted(page, "attribution", 0)
    painted(page, "activations", 128)
    out["mouse-up -> answer with explanation"] = since(t0)
    wait_for_app(page)
    page.locator(".st-key-activations").scroll_into_view_if_needed()
    xy = page.evaluate("""() => { const p = document.querySelector('.st-key-activations .js-plotly-plot');
      const pt = p.querySelectorAll('.scatterlayer .trace')[0].querySelectorAll('.point')[0].getBoundingClientRect();
      return [pt.x + pt.width / 2, pt.y + pt.height / 2]; }""")
    page.mouse.move(*xy)
    page.wait_for_timeout(300)
    t0 = time.monotonic()
    page.mouse.click(*xy)
    text(page, "take_apart", "Weighted sum")
    expect(page.locator(".st-key-take_apart img").first).to_be_visible(timeout=60_000)   # its 8x8 weights
    out["click a unit -> its details"] = since(t0)
    wait_for_app(page)
    t0 = time.monotonic()
    page.locator(".st-key-unit_switch_off").get_by_role("button").first.click()
    text(page, "edit_effect", "1 unit switched off")
    out["switch it off -> answer and accuracy"] = since(t0)
    wait_for_app(page)
    t0 = click_tab(page, "Train")
    page.locator(".st-key-train button").wait_for(timeout=60_000)
    out["open Train -> Train button"] = since(t0)
    page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="visitors, one after another")
    parser.add_argument("--read", type=float, default=5.0, help="seconds a visitor reads before the first click")
    args = parser.parse_args()
    rows: dict[str, list] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        proc, url = start_streamlit()
        try:
            one_round(browser, url, args.read)             # warm the server's caches, as for any later visitor
            for _ in range(args.rounds):
                for k, v in one_round(browser, url, args.read).items():
                    rows.setdefault(k, []).append(v)
        finally:
            stop_streamlit(proc)
            browser.close()
    width = max(map(len, rows))
    print(f"{'action -> view':{width}}  median    max   (budget {BUDGET_S:.0f} s, {args.rounds} visitors, "
          f"each reading {args.read:g} s first)")
    for k, v in rows.items():
        flag = "" if max(v) <= BUDGET_S else "  over"
        print(f"{k:{width}}  {statistics.median(v):5.2f} s {max(v):5.2f} s{flag}")


if __name__ == "__main__":
    main()
