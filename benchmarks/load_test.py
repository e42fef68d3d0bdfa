"""Many visitors at once: N browser sessions train, inspect and draw on one `streamlit run app.py`.

Starts the app on 127.0.0.1 (a free port), then opens N browser contexts at once in Debian's
chromium (each context is its own Streamlit session). Session i picks its own configuration: the
"Fast" preset with 512 - 2i hidden units (End and the same 14 arrow presses on the slider for
every session), 200 epochs and seed 1 + i (about 3 s of training alone on this machine). Each
session trains, waits for "Completed", reads its results (chart title, held-out accuracy, parameter
count, run id), opens Inspect, then draws a 1 on the canvas and reads the answer.

Checks, per session: the page shows its own configuration, its parameter count and the held-out
accuracy that the same configuration gives when trained directly with the engine (same seed, so
deterministic); the Draw tab is answered by its own run; no exception on the page. For the server:
no error or traceback in its log. A first, untimed session warms the server up (imports, caches).

Prints the wall time for 1 and for N sessions (from opening the pages until every session has read
its prediction) and their ratio; goal: N = 8 in <= 4x the time of one. Also the server's memory
(RSS) idle and at its peak, its CPU time, and the machine's load average. The browser runs on the
same cores as the server: on a real host every visitor's browser runs on their own machine.

    python benchmarks/load_test.py [--sessions 8] [--repeats 1] [--slots N]

Exit status 0 if every check passed (the time goal is reported, not enforced), 1 otherwise.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from playwright.async_api import async_playwright, expect  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

GOAL = 4.0
SESSION_TIMEOUT_S = 300          # one session, start to prediction, even with 8 queued on 2 cores
WAIT_MS = 60_000
ONE = [(0.5, 0.12), (0.5, 0.88)]  # a vertical stroke, in fractions of the canvas
LOG_PROBLEMS = re.compile(r"Traceback|Exception|\bERROR\b|Error:", re.IGNORECASE)


SLIDER_PRESSES = 14   # arrow presses on the units slider, the same for every session


def units_of(i: int) -> int:
    from ui.sidebar import MAX_UNITS
    return MAX_UNITS - 2 * (i % 8)


def unit_presses(i: int) -> list:
    """End, then SLIDER_PRESSES arrow presses that end 2·(i mod 8) units below the maximum.

    Each press is a rerun of the page, which costs the server and, more, the browser; with the
    same number for everyone, the single timed session does what the average one of N does."""
    left = SLIDER_PRESSES // 2 + i % 8
    return ["End"] + ["ArrowLeft"] * left + ["ArrowRight"] * (SLIDER_PRESSES - left)


def seed_of(i: int) -> int:
    return 1 + i


def config_of(i: int):
    """The TrainConfig session i sets up in the sidebar, built the way the sidebar builds it."""
    from ui.presets import PRESETS
    from ui.sidebar import config_to_values, values_to_config

    values = config_to_values(PRESETS["Fast"].config)
    values.update(units_0=units_of(i), epochs=200, seed=seed_of(i))
    return values_to_config(values)


def expected_results(n: int) -> list:
    """(held-out accuracy, TrainedModel) of each configuration trained directly with the engine."""
    import mlp
    from ui.data import split_digits
    from ui.session import evaluate

    d = split_digits()
    out = []
    for i in range(n):
        model = mlp.TrainedModel.from_run(mlp.train(config_of(i), d.X_train, d.y_train).run())
        out.append((evaluate(model, d.X_test, d.y_test).accuracy, model))
    return out


@dataclass
class Result:
    """What one browser session saw."""

    index: int
    phases: dict = field(default_factory=dict)    # phase -> seconds
    caption: str = ""
    title: str = ""
    run_id: int | None = None
    train_s: float | None = None
    notice: str = ""
    accuracy: str = ""
    params: str = ""
    model_name: str = ""
    prediction: str = ""
    model_file: bytes = b""       # the Inspect tab's "Download this model"
    max_ahead: int = 0
    lost_presses: int = 0         # the units slider ended elsewhere than its presses lead (then re-set)
    exceptions: int = 0
    error: str = ""


# --- driving one page (async versions of tests/st_helpers.py) ---------------------------------

async def wait_for_app(page, timeout=WAIT_MS):
    await page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


async def click_and_wait(page, locator, start_ms=3000):
    """Click, then wait for the rerun the click causes to start (when it is seen) and to end.

    Without the first wait, a loaded page may still be idle from before the click: keys pressed
    next then race the rerun, and its answer (e.g. a preset's 64 units) resets the slider mid-way.
    """
    await locator.click()
    try:
        await page.wait_for_selector("[data-testid='stApp']:not([data-test-script-state='notRunning'])",
                                     timeout=start_ms)
    except Exception:  # noqa: BLE001 -- the rerun may have come and gone between two looks
        pass
    await wait_for_app(page)


_DEEP_HIT = """([x, y]) => { let e = document.elementFromPoint(x, y);
  while (e && e.shadowRoot) { const i = e.shadowRoot.elementFromPoint(x, y); if (!i || i === e) break; e = i; }
  return e ? e.className : null; }"""


async def draw_stroke(page, points, steps=8):
    upper = page.locator(".st-key-canvas canvas.upper-canvas")
    await expect(upper).to_be_visible(timeout=WAIT_MS)
    box = await upper.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    await page.mouse.move(*xy[0])
    # the canvas toolbar catches the first ~0.25 s of hover: wait until the canvas itself is hit
    await page.wait_for_function(f"(p) => ({_DEEP_HIT})(p)?.includes('upper-canvas')", arg=list(xy[0]),
                                 timeout=10_000)
    await page.mouse.down()
    for x, y in xy[1:]:
        await page.mouse.move(x, y, steps=steps)
    await page.mouse.up()


async def metric(page, label: str) -> str:
    m = page.get_by_test_id("stMetric").filter(has_text=label).filter(visible=True).first
    return (await m.get_by_test_id("stMetricValue").inner_text()).strip()


async def session(browser, url: str, i: int, t0: float) -> Result:
    res = Result(i)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    mark = t0

    def phase(name):
        nonlocal mark
        now = time.monotonic()
        res.phases[name] = now - mark
        mark = now

    try:
        await page.goto(url, timeout=WAIT_MS)
        await wait_for_app(page)
        phase("open")

        await click_and_wait(page, page.locator(".st-key-preset_fast button:visible"))
        units = page.locator(".st-key-units_0 [data-testid='stSliderThumbValue']")
        thumb = page.locator(".st-key-units_0").get_by_role("slider")
        for _ in range(3):
            await thumb.focus()
            for p in unit_presses(i):
                await thumb.press(p)
            await wait_for_app(page)
            if (await units.inner_text()).strip() == str(units_of(i)):
                break
            # Should the preset's rerun still land among the presses (see click_and_wait), the
            # slider ends elsewhere; press the same keys again, and count it: the report shows it.
            res.lost_presses += 1
        thumb = page.locator(".st-key-epochs").get_by_role("slider")
        await thumb.focus()
        await thumb.press("End")
        await wait_for_app(page)
        seed = page.locator(".st-key-seed input")
        await seed.fill(str(seed_of(i)))
        await seed.press("Enter")
        await expect(page.locator(".st-key-seed input")).to_have_value(str(seed_of(i)), timeout=WAIT_MS)
        from ui.session import describe
        await expect(page.get_by_text(f"Trains {describe(config_of(i))} on")).to_be_visible(timeout=WAIT_MS)
        await wait_for_app(page)
        res.caption = describe(config_of(i))
        phase("configure")

        await page.locator(".st-key-train button:visible").click()
        # Poll the keyed status line twice a second: a CSS class costs the page ~2 ms per look,
        # a text search over the whole page ~17 ms, which 8 pages polling for a minute turn
        # into tens of seconds of browser CPU that no real visitor spends.
        line = page.locator(".st-key-run_status")
        while True:
            status = (await line.all_inner_texts() or [""])[0].strip()   # never waits: may be mid-rerun
            m = re.search(r"Queued, (\d+) ahead", status)
            res.max_ahead = max(res.max_ahead, int(m.group(1)) if m else 0)
            if re.match(r"Completed · \d+ / \d+ epochs in", status):
                break
            await page.wait_for_timeout(500)
        await wait_for_app(page)
        phase("train")
        res.train_s = float(re.search(r"epochs in ([\d.]+) s", status).group(1))
        res.title = (await page.locator(".st-key-loss_chart .gtitle").text_content()) or ""
        m = re.match(r"Run (\d+): ", res.title)
        res.run_id = int(m.group(1)) if m else None
        res.notice = await page.get_by_test_id("stAlert").filter(has_text="Held-out accuracy").first.inner_text()

        await page.get_by_role("tab", name="Inspect").click()     # only the open tab runs: a rerun
        run_label = f"Your run {res.run_id}"
        await page.locator(".st-key-inspect_model").get_by_text(run_label).click(timeout=WAIT_MS)
        box = page.locator(".st-key-inspect_model_box")
        await expect(box).to_contain_text(f"Showing {run_label}", timeout=WAIT_MS)
        res.accuracy = await metric(page, "Held-out accuracy")
        res.params = await metric(page, "Parameters")
        res.model_name = run_label.lower()
        async with page.expect_download(timeout=WAIT_MS) as download:
            await page.get_by_role("button", name=f"Download {run_label} (.npz)").first.click()
        res.model_file = Path(await (await download.value).path()).read_bytes()
        phase("inspect")

        await page.get_by_role("tab", name="Draw").click()
        await draw_stroke(page, ONE)
        prediction = page.locator(".st-key-prediction")
        await expect(prediction).to_contain_text("It's a", timeout=WAIT_MS)
        await expect(prediction).to_contain_text("Your run", timeout=WAIT_MS)     # the choice made on Inspect
        res.prediction = " ".join((await prediction.inner_text()).split())
        phase("draw")
        res.exceptions = await page.get_by_test_id("stException").count()
    except Exception as e:  # noqa: BLE001 -- reported as this session's failure
        shot = Path(tempfile.gettempdir()) / f"mlp-lab-load-failed-{i}-{int(time.time())}.png"
        try:
            await page.screenshot(path=str(shot), full_page=True)
        except Exception:  # noqa: BLE001 -- the page may be gone
            shot = "no screenshot"
        lines = str(e).splitlines()
        res.error = f"{type(e).__name__}: {' | '.join(lines[:3])} ({shot})"
    finally:
        await context.close()
    return res


async def bounded(coroutine, i: int) -> Result:
    try:
        return await asyncio.wait_for(coroutine, SESSION_TIMEOUT_S)
    except asyncio.TimeoutError:
        return Result(i, error=f"did not finish in {SESSION_TIMEOUT_S} s")


async def crowd(url: str, indices, server_pid: int) -> tuple:
    """Open one session per index at once; (wall s, results, CPU s of server, browser, this script)."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            server0, browser0, client0 = cpu_s(server_pid), browser_cpu_s(server_pid), time.process_time()
            t0 = time.monotonic()
            results = await asyncio.gather(*(bounded(session(browser, url, i, t0), i) for i in indices))
            wall = time.monotonic() - t0
            server, browser_cpu = cpu_s(server_pid) - server0, browser_cpu_s(server_pid) - browser0
            client = time.process_time() - client0
        finally:
            await browser.close()
    return wall, results, server, browser_cpu, client


# --- the server's resources ---------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime + stime


def browser_cpu_s(server_pid: int) -> float:
    """CPU seconds of this script's other descendants: the Playwright driver and chromium.

    Counts each live descendant's own time and the time of its children that have exited and
    been collected (a closed page's renderer process ends and leaves its time with its parent).
    """
    parent, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry)] = int(fields[1])
            cpu[int(entry)] = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def ours(pid):
        for _ in range(64):
            if pid in (server_pid, 0, 1) or pid not in parent:
                return False
            if parent[pid] == os.getpid():
                return True
            pid = parent[pid]
        return False

    return sum(c for pid, c in cpu.items() if ours(pid))


class PeakRSS(threading.Thread):
    """Samples a process's RSS every 0.1 s until stopped; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0.0, threading.Event()

    def run(self):
        while not self._done.wait(0.1):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return

    def stop(self):
        self._done.set()
        self.join(2)


# --- checks and report --------------------------------------------------------------------------

def check(results, expected) -> list:
    """Sentences for everything that is wrong (empty: every session saw its own results)."""
    problems, run_ids = [], []
    for r in results:
        who = f"session {r.index} ({units_of(r.index)} units, seed {seed_of(r.index)})"
        if r.error:
            problems.append(f"{who}: {r.error}")
            continue
        acc, model = expected[r.index]
        want_acc, n_params = f"{acc:.1%}", model.network.n_params
        if r.caption not in r.title:
            problems.append(f"{who}: chart title {r.title!r} is not its configuration {r.caption!r}")
        if r.accuracy != want_acc or f"Held-out accuracy {want_acc}" not in r.notice:
            problems.append(f"{who}: page says {r.accuracy} ({r.notice!r}); the engine gives {want_acc}")
        if r.params.replace(",", "") != str(n_params):
            problems.append(f"{who}: page says {r.params} parameters; the configuration has {n_params}")
        if r.run_id is None or r.model_name != f"your run {r.run_id}" or f"Your run {r.run_id}" not in r.prediction:
            problems.append(f"{who}: run {r.run_id}, model {r.model_name!r}, prediction {r.prediction!r}")
        problems += [f"{who}: {p}" for p in same_model(r.model_file, model)]
        if r.exceptions:
            problems.append(f"{who}: {r.exceptions} exception(s) on the page")
        run_ids.append(r.run_id)
    if len(set(run_ids)) != len(run_ids):
        problems.append(f"run ids are not distinct: {run_ids}")
    return problems


def same_model(data: bytes, expected) -> list:
    """Problems if the downloaded model is not exactly the one the engine trains for this configuration."""
    import mlp

    try:
        got = mlp.load_model(data, n_features=64)
    except mlp.ModelFileError as e:
        return [f"its model file does not load: {e}"]
    if got.config != expected.config:
        return [f"its model was trained with {got.config}, not {expected.config}"]
    if not np.array_equal(got.network.params, expected.network.params):
        return [f"its model's weights differ from the engine's (max |diff| "
                f"{np.max(np.abs(got.network.params - expected.network.params)):.3g})"]
    return []


def log_problems(log: Path) -> list:
    return [line.rstrip() for line in log.read_text(errors="replace").splitlines() if LOG_PROBLEMS.search(line)]


def report(name: str, wall: float, results, server_cpu: float, browser_cpu: float, client_cpu: float) -> None:
    print(f"\n{name}: wall {wall:.1f} s; CPU: server {server_cpu:.1f} s, browser {browser_cpu:.1f} s, "
          f"this script {client_cpu:.1f} s of {(os.cpu_count() or 1) * wall:.0f} core-seconds; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("  session  units seed  run  train_s  ahead  open  config  train  inspect  draw  accuracy  answer")
    for r in sorted(results, key=lambda r: r.index):
        ph = r.phases
        answer = re.search(r"It's a (\d)", r.prediction)
        print(f"  {r.index:>7}  {units_of(r.index):>5} {seed_of(r.index):>4}  {r.run_id or '-':>3}  "
              f"{r.train_s or float('nan'):>7.2f}  {r.max_ahead:>5}  "
              + "  ".join(f"{ph.get(k, float('nan')):>{w}.1f}" for k, w in
                          (("open", 4), ("configure", 6), ("train", 5), ("inspect", 7), ("draw", 4)))
              + f"  {r.accuracy:>8}  {answer.group(1) if answer else '-':>6}"
              + (f"  ERROR {r.error}" if r.error else ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=8, help="browser sessions at once (default 8)")
    ap.add_argument("--repeats", type=int, default=1, help="time 1 and N sessions this many times each")
    ap.add_argument("--slots", type=int, default=0, help="MLP_LAB_TRAINING_SLOTS for the server (0: its default)")
    ap.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                    help="a Streamlit option for the server, e.g. runner.postScriptGC=true (repeatable)")
    args = ap.parse_args(argv)
    n = max(1, args.sessions)

    log = Path(tempfile.mkdtemp(prefix="mlp-lab-load-")) / "server.log"
    env = {"MLP_LAB_TRAINING_SLOTS": str(args.slots)} if args.slots else {}
    options = [arg for kv in args.set for arg in ("--" + kv.split("=", 1)[0], kv.split("=", 1)[1])]
    proc, url = start_streamlit(log_path=log, env_extra=env, extra_args=options)
    sampler = PeakRSS(proc.pid)
    sampler.start()
    try:
        time.sleep(1.0)
        idle_rss = rss_mb(proc.pid)
        print(f"server {url} (pid {proc.pid}), log {log}; load average before: {os.getloadavg()}")
        warm_wall, warm, *cpu = asyncio.run(crowd(url, [0], proc.pid))   # imports, caches: not timed
        report("warm-up (not timed)", warm_wall, warm, *cpu)
        warm_rss = rss_mb(proc.pid)
        walls1, wallsn, cpus1, all_results = [], [], [], list(warm)
        cpu0 = cpu_s(proc.pid)
        for _ in range(max(1, args.repeats)):
            wall, results, *cpu = asyncio.run(crowd(url, [0], proc.pid))
            report("1 session", wall, results, *cpu)
            walls1.append(wall)
            cpus1.append(sum(cpu))
            all_results += results
            wall, results, *cpu = asyncio.run(crowd(url, range(n), proc.pid))
            report(f"{n} sessions", wall, results, *cpu)
            wallsn.append(wall)
            all_results += results
        cpu_used = cpu_s(proc.pid) - cpu0
        final_rss = rss_mb(proc.pid)
    finally:
        try:
            sampler.stop()
        finally:
            stop_streamlit(proc)

    expected = expected_results(n)
    problems = check(all_results, expected) + [f"server log: {line}" for line in log_problems(log)]
    accs = [f"{a:.1%}" for a, _ in expected]
    print(f"\nengine, trained directly: held-out accuracy per session {accs}; "
          f"{len(set(accs))} distinct of {n}")
    one, many = statistics.median(walls1), statistics.median(wallsn)
    print(f"server RSS: {idle_rss:.0f} MB before any visitor, {warm_rss:.0f} MB after one, "
          f"{sampler.peak:.0f} MB peak, {final_rss:.0f} MB at the end; "
          f"CPU {cpu_used:.1f} s for the timed runs")
    print(f"load average after: {os.getloadavg()}")
    lost = [r.index for r in all_results if r.lost_presses]
    if lost:
        print(f"\nunits slider off after its presses (then re-set): sessions {lost} "
              f"of {len(all_results)} (warm-up and timed runs)")
    print(f"\nwall time: 1 session {one:.1f} s, {n} sessions {many:.1f} s, ratio {many / one:.2f} "
          f"(goal <= {GOAL:g}: {'met' if many / one <= GOAL else 'MISSED'})")
    cores, c1 = os.cpu_count() or 1, statistics.median(cpus1)
    print(f"one session costs {c1:.1f} CPU-seconds (server, browser, this script); {n} of them on "
          f"{cores} cores take at least {n * c1 / cores:.1f} s, {n * c1 / cores / one:.1f}x the single "
          f"session's wall time, before any waiting")
    if problems:
        print("\nPROBLEMS:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"checks: every session showed its own configuration, parameters, accuracy and run, and "
          f"downloaded exactly the weights the engine trains for its configuration; "
          f"server log clean ({log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
