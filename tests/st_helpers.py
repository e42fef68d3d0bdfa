"""Playwright helpers for Streamlit pages (waiting for reruns, widgets by key, drawing on the canvas)."""
import re

from playwright.sync_api import Page, expect

APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_for_app(page: Page, timeout=30_000):
    """Wait until the websocket is connected and the script is not running."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector(APP_IDLE, timeout=timeout)


def open_app(page: Page, url: str, timeout=30_000, tab: str | None = None):
    """Open the page as a new visitor; with `tab`, from a link to that tab (`?tab=Draw`), which
    skips drawing the Train tab first."""
    page.goto(url + (f"/?tab={tab}" if tab else ""))
    wait_for_app(page, timeout)


def set_slider(page: Page, key: str, presses: int):
    """Move a keyed st.slider with the keyboard: +n = ArrowRight n times (one `step` each), -n = ArrowLeft.
    Reruns may fire during the presses; assert on the app's echo of the final value, not on a count."""
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")   # 1.67: hidden <input type=range> (react-aria)
    thumb.focus()
    for _ in range(abs(presses)):
        thumb.press("ArrowRight" if presses > 0 else "ArrowLeft")


def choose(page: Page, key: str, option: str):
    """Pick an option in a keyed st.selectbox."""
    # 1.67: react-aria ComboBox (<input role=combobox>), no longer BaseWeb [data-baseweb=select]
    page.locator(f".st-key-{key}").get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


_DEEP_HIT = """([x, y]) => { let e = document.elementFromPoint(x, y);
  while (e && e.shadowRoot) { const i = e.shadowRoot.elementFromPoint(x, y); if (!i || i === e) break; e = i; }
  return e ? e.className : null; }"""


def draw_stroke(page: Page, canvas_key: str, points, steps=8):
    """Draw one freehand stroke on streamlit-drawable-canvas.

    >=0.10 is a Components-v2 element: NO iframe; it lives in an open shadow root under
    .st-key-<key> [data-testid=stBidiComponentIsolated]. Playwright CSS locators pierce open shadow
    roots, so `.st-key-canvas canvas.upper-canvas` works. `points` are fractions of the canvas box.
    PITFALL: the toolbar (.dc-toolbar, opacity 0 but still hit-testable) sits over the top ~45px of the
    canvas until the pointer has hovered for ~0.25s (then it slides up). A mousedown there never reaches
    fabric. So: hover first, wait, and assert the deep hit target is the upper canvas.
    """
    upper = page.locator(f".st-key-{canvas_key} canvas.upper-canvas")
    expect(upper).to_be_visible(timeout=30_000)   # the component mounts after the page; later on a busy box
    box = upper.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.wait_for_function(f"(p) => ({_DEEP_HIT})(p)?.includes('upper-canvas')", arg=list(xy[0]), timeout=5_000)
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def text_of(page: Page, key: str) -> str:
    return page.locator(f".st-key-{key}").inner_text()


def int_after(label: str, text: str) -> int:
    m = re.search(re.escape(label) + r"(-?\d+)", text)
    return int(m.group(1)) if m else None


def show_tab(at, name: str):
    """AppTest: open one of the page's tabs and rerun (only the open tab's content runs)."""
    at.session_state["tab"] = name
    return at.run()


def open_tab(page: Page, name: str, timeout=30_000):
    """Open one of the page's tabs and wait for its content: only the open tab runs, so a switch
    is a rerun. A click that lands while a rerun redraws the tab bar is lost: check and retry."""
    button = page.get_by_role("tab", name=name, exact=True)
    for _ in range(5):
        button.click()
        try:
            expect(button).to_have_attribute("aria-selected", "true", timeout=3_000)
            break
        except AssertionError:
            continue
    expect(button).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel")   # the open one: closed panels are hidden
    expect(panel.locator("[data-testid='stElementContainer']").first).to_be_attached(timeout=timeout)
    wait_for_app(page, timeout)
