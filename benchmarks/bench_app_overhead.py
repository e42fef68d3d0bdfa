"""How much does the live page slow training down? App time vs the engine's own time.

Both times are the last EpochRecord's `elapsed` (training only, after data preparation), and
runs alternate (engine, app, engine, app, ...) so that both see the same machine load; the
result is the median of the per-pair ratios. Goal (issue 4): app / engine <= 1.25. CPU seconds
include data preparation, so one unmeasured run first makes the re-rendered copies that every
measured run then reuses (mlp.augment.augment_shared).

Engine: `mlp.train(config, X_train, y_train).run()` in this process, nothing else running.

App (default, in-process): the real `app.py` driven by Streamlit's AppTest. Train starts the
app's background training thread; while it trains the *whole page* is rerun every REFRESH_S
(0.5 s) — the live fragment reruns only its own part that often, so this is an upper bound on the
script-side cost (GIL time for building figures, protobuf serialisation, session bookkeeping).
No browser and no websocket: those cost the server little and the visitor's machine the rest.
Each app run is timed twice: as the page is ("app"), and with the Train tab's look inside the
network switched off ("no live views": no snapshots in the training thread, no tiles, strip,
health or histograms drawn), so the live views' own share shows. Then the training thread alone:
the app's TrainingJob with and without the live views' statistics, in CPU seconds (--job).

App (--browser): a real `streamlit run app.py` and a headless Debian chromium on this same
machine; T is read from the page's "Completed · N / N epochs in T s". The browser then competes
with training for the same cores (on a real host it runs on the visitor's machine), so this
number includes that contention and is noisy when the machine is shared.

    python benchmarks/bench_app_overhead.py [--repeats 7] [--cases best,post,fast] [--browser | --job]

The post's run trains for about half a second and its engine time alone varies by ±25% from run to
run: with 3 pairs its ratio came out anywhere from 1.05 to 1.54; 7 pairs settle it.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
CASES = {"Best accuracy": "preset_best", "The original blog post": "preset_post", "Fast": "preset_fast"}
SHORT = {"best": "Best accuracy", "post": "The original blog post", "fast": "Fast"}
GOAL = 1.25

ENGINE_SNIPPET = """
import os, json, sys
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, {root!r})
import mlp
from ui.data import split_digits
from ui.presets import PRESETS
d = split_digits()
run = mlp.train(PRESETS[{name!r}].config, d.X_train, d.y_train).run()
print(json.dumps(run.history[-1].elapsed))
"""


def engine_time(name: str) -> float:
    out = subprocess.run([sys.executable, "-c", ENGINE_SNIPPET.format(root=str(ROOT), name=name)], check=True,
                         capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("streamlit did not start")


def app_time(page, url: str, preset_key: str) -> float:
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    page.locator(f".st-key-{preset_key} button:visible").click()
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    page.mouse.move(700, 5)   # off the preset button: its help tooltip would cover the Train button
    page.locator(".st-key-train button:visible").click()
    done = page.get_by_text(re.compile(r"^Completed · (\d+) / \1 epochs in [\d.]+ s"))
    done.wait_for(timeout=180_000)
    return float(re.search(r"in ([\d.]+) s", done.inner_text()).group(1))


def engine_inproc(name: str) -> tuple:
    """(training seconds, CPU seconds of this process from building the run to its end)."""
    import mlp
    from ui.data import split_digits
    from ui.presets import PRESETS

    d = split_digits()
    cpu = time.process_time()
    run = mlp.train(PRESETS[name].config, d.X_train, d.y_train).run()
    return run.history[-1].elapsed, time.process_time() - cpu


def job_cpu(name: str, live: bool) -> float:
    """CPU seconds of the app's TrainingJob from start to end, with the live views' statistics
    (a probe: per-epoch statistics, a snapshot whenever asked, as the page asks every tick) or
    without. CPU time, not wall time, so a busy machine does not blur it."""
    from ui.data import split_digits
    from ui.live_views import probe
    from ui.presets import PRESETS
    from ui.session import TrainingJob
    from ui.training_view import REFRESH_S

    d = split_digits()
    job = TrainingJob(PRESETS[name].config, d.X_train, d.y_train, time_limit=1e9,
                      probe=probe(d) if live else None)
    cpu = time.process_time()
    job.start()
    while not job.join(REFRESH_S):
        job.want_snapshot()
    return time.process_time() - cpu


@contextlib.contextmanager
def live_views_off():
    """The page without its look inside the network: jobs get no probe (so the training thread
    makes no snapshots) and the views draw nothing."""
    from ui import live_views

    saved = live_views.probe, live_views.show
    live_views.probe, live_views.show = (lambda digits: None), (lambda *args, **kwargs: None)
    try:
        yield
    finally:
        live_views.probe, live_views.show = saved


def app_inproc(preset_key: str) -> tuple:
    """(training seconds, CPU seconds of this process, all threads, from Train to the run's end:
    the training thread plus every page rerun meanwhile)."""
    from streamlit.testing.v1 import AppTest

    from ui.training_view import REFRESH_S

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.button(key=preset_key).click().run()
    cpu = time.process_time()
    at.button(key="train").click().run()
    job = at.session_state["lab"].job
    while not job.done:
        time.sleep(REFRESH_S)
        at.run()
    cpu = time.process_time() - cpu
    assert job.status == "completed", job.message
    return job.records[-1].elapsed, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--browser", action="store_true", help="a real server and chromium on this machine")
    parser.add_argument("--cases", default="best,post", help="comma-separated: best, post, fast")
    parser.add_argument("--job", action="store_true", help="only the training thread, with and without live views")
    args = parser.parse_args()
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    cases = {SHORT[c]: CASES[SHORT[c]] for c in args.cases.split(",")}
    runs = {name: [] for name in cases}     # per repeat: engine, app[, app without live views]
    if args.job:
        print(f"training thread, CPU s (median of {args.repeats}; load average {os.getloadavg()[0]:.1f}): "
              "without live views / with them")
        for name in cases:
            job_cpu(name, False)   # unmeasured: later runs find its re-rendered copies made (augment_shared)
            pairs = [(job_cpu(name, False), job_cpu(name, True)) for _ in range(args.repeats)]
            ratio = statistics.median(b / a for a, b in pairs)
            print(f"  {name:<24} {statistics.median(p[0] for p in pairs):.2f} / "
                  f"{statistics.median(p[1] for p in pairs):.2f}   ratio {ratio:.3f}")
        return 0
    if args.browser:
        from playwright.sync_api import sync_playwright

        proc, url = start_server()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for _ in range(args.repeats):
                    for name, key in cases.items():
                        runs[name].append((engine_time(name), app_time(page, url, key)))
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
    else:
        for name in cases:
            engine_inproc(name)   # unmeasured: every measured run finds the re-rendered copies made
        for _ in range(args.repeats):
            for name, key in cases.items():
                engine = engine_inproc(name)
                app = app_inproc(key)
                with live_views_off():
                    bare = app_inproc(key)
                runs[name].append((engine, app, bare))   # each (training s, CPU s)

    mode = "browser" if args.browser else "in-process (AppTest, whole page rerun every REFRESH_S)"
    print(f"app mode: {mode}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.browser:
        print(f"{'configuration':<24} {'engine s':>9} {'app s':>7} {'ratio':>6}  (medians; ratio: of pairs)")
    else:
        print("training seconds (wall) and, in brackets, CPU seconds of the whole process from Train to the end; "
              "ratios against the engine: medians of the pairs")
        print(f"{'configuration':<24} {'engine':>13} {'app':>13} {'ratio':>11} {'no live views':>14} {'ratio':>11}")
    worst = 0.0
    for name, rows in runs.items():
        if args.browser:
            ratio = statistics.median(a / e for e, a in rows)
            print(f"{name:<24} {statistics.median(r[0] for r in rows):>9.2f} "
                  f"{statistics.median(r[1] for r in rows):>7.2f} {ratio:>6.2f}   pairs: "
                  + ", ".join(f"{e:.2f}/{a:.2f}" for e, a in rows))
            worst = max(worst, ratio)
            continue
        med = [tuple(statistics.median(r[k][j] for r in rows) for j in (0, 1)) for k in range(3)]
        ratios = [tuple(statistics.median(r[k][j] / r[0][j] for r in rows) for j in (0, 1)) for k in (1, 2)]
        worst = max(worst, ratios[0][0])
        print(f"{name:<24} " + " ".join(f"{w:>6.2f} ({c:>4.1f})" for w, c in med[:2])
              + f" {ratios[0][0]:>4.2f} ({ratios[0][1]:.2f}) {med[2][0]:>7.2f} ({med[2][1]:>4.1f})"
              + f" {ratios[1][0]:>4.2f} ({ratios[1][1]:.2f})")
    print(f"worst ratio {worst:.2f} (goal <= {GOAL})")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
