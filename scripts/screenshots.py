"""Refresh the README's screenshots from the running app: docs/train.png, docs/inspect.png, docs/draw.png.

Starts `streamlit run app.py` on 127.0.0.1 (a free port), drives it in Debian's chromium at a
1400x900 viewport: trains the "Fast" preset for 40 epochs with a 10% validation split (so the live
chart has both curves), opens Inspect at the confusion matrix, then draws a 7 in the Draw tab.
Each PNG is reduced to a 256-colour palette with Pillow (the page is flat colours), to stay small.

    python scripts/screenshots.py [--out docs]
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from PIL import Image  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402
from st_helpers import draw_stroke, open_app, open_tab, wait_for_app  # noqa: E402

VIEWPORT = {"width": 1400, "height": 900}
SEVEN = [(0.25, 0.18), (0.75, 0.18), (0.45, 0.85)]
TIMEOUT_MS = 120_000


def save_small(png: bytes, path: Path) -> int:
    """Write `png` as a palette PNG (at most 256 colours); return its size in bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path.stat().st_size


def press(page, key: str, keys) -> None:
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")
    thumb.focus()
    for k in keys:
        thumb.press(k)
    wait_for_app(page)


def top_of_sidebar(page) -> None:
    """The sliders scrolled the sidebar while being set: show its top (the presets) again."""
    page.locator("[data-testid='stSidebarContent']").evaluate("e => e.scrollTop = 0")


def take(url: str, out: Path) -> dict:
    """Drive the page and write the three screenshots; return name -> bytes written."""
    sizes = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            open_app(page, url, TIMEOUT_MS)
            page.locator(".st-key-preset_fast button").click()
            wait_for_app(page)
            press(page, "epochs", ["ArrowRight"] * 25)                 # 15 -> 40 epochs
            press(page, "validation_fraction", ["ArrowRight"] * 2)     # 0% -> 10%
            expect(page.get_by_text(re.compile(r"· 40 ep on"))).to_be_visible(timeout=TIMEOUT_MS)
            page.locator(".st-key-train button").click()
            expect(page.get_by_text(re.compile(r"^Completed · 40 / 40 epochs"))).to_be_visible(timeout=TIMEOUT_MS)
            wait_for_app(page)
            page.mouse.move(5, 5)                                      # no hover label on the chart
            top_of_sidebar(page)
            page.wait_for_timeout(500)
            sizes["train.png"] = save_small(page.screenshot(), out / "train.png")

            open_tab(page, "Inspect")
            page.locator(".st-key-inspect_model").get_by_text("Your run 1").click()
            wait_for_app(page)
            page.locator(".st-key-inspect_view").get_by_role("radio", name="Mistakes", exact=True).click()
            cm = page.locator(".st-key-confusion_matrix")
            expect(cm).to_be_visible(timeout=TIMEOUT_MS)
            heading = page.get_by_role("heading", name="Confusion matrix")
            heading.evaluate("e => e.scrollIntoView({block: 'start'})")   # the whole matrix in view
            top_of_sidebar(page)
            page.wait_for_timeout(800)
            sizes["inspect.png"] = save_small(page.screenshot(), out / "inspect.png")

            open_tab(page, "Draw")
            draw_stroke(page, "canvas", SEVEN)
            expect(page.locator(".st-key-prediction")).to_contain_text("It's a", timeout=TIMEOUT_MS)
            wait_for_app(page)
            page.mouse.move(5, 5)
            top_of_sidebar(page)
            page.wait_for_timeout(800)
            sizes["draw.png"] = save_small(page.screenshot(), out / "draw.png")
        finally:
            browser.close()
    return sizes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default docs/)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    log = Path(tempfile.mkdtemp(prefix="mlp-lab-shots-")) / "server.log"
    proc, url = start_streamlit(log_path=log)
    try:
        sizes = take(url, args.out)
    finally:
        stop_streamlit(proc)
    for name, size in sizes.items():
        print(f"{args.out / name}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
