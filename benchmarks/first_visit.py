"""First visit after the server starts, then later visits: `streamlit run app.py` on a free port,
opened in Debian's chromium; prints the seconds until the page is interactive (script idle, Train
button present), when the title appeared, and whether the title moved meanwhile (a layout jump).

    python benchmarks/first_visit.py            # --visits 3 --servers 2

Run it on a quiet machine: other processes on its cores inflate every number.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def visit(browser, url: str) -> tuple:
    """(seconds to interactive, seconds to the title, pixels the title moved) for one new visitor."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.monotonic()
    page.goto(url)
    title = page.locator("h1").first
    title.wait_for(timeout=120_000)
    title_at, y0 = time.monotonic() - start, title.bounding_box()["y"]
    page.wait_for_selector(IDLE, timeout=120_000)
    page.locator(".st-key-train button").wait_for(timeout=120_000)
    ready = time.monotonic() - start
    moved = title.bounding_box()["y"] - y0
    page.close()
    return ready, title_at, moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=3, help="visits per server start (the first is cold)")
    parser.add_argument("--servers", type=int, default=2, help="server starts")
    args = parser.parse_args()
    cold, warm = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.servers):
            proc, url = start_streamlit()
            try:
                for k in range(args.visits):
                    ready, title_at, moved = visit(browser, url)
                    (cold if k == 0 else warm).append(ready)
                    print(f"{'cold' if k == 0 else 'warm'}: interactive {ready:.2f} s, title at {title_at:.2f} s, "
                          f"title moved {moved:+.0f} px", flush=True)
            finally:
                stop_streamlit(proc)
        browser.close()
    print(f"median cold {statistics.median(cold):.2f} s, warm {statistics.median(warm):.2f} s")


if __name__ == "__main__":
    main()
