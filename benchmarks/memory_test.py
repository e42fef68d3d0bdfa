"""Visitors who leave: does the server give back what they held, and stop what they started?

Starts `streamlit run app.py` on 127.0.0.1 and drives it with Debian's chromium (each browser
context is its own Streamlit session). Two measurements:

1. Memory over rounds: each round, V visitors open the page, load the largest model the sidebar can
   make (64-512-512-512-512-10, 0.83 M parameters) from a file on the Inspect tab, press Train and
   close their page. After each round the script waits for the sweeper (ui.lifecycle) to free the
   departed sessions, then reads the server's resident memory (VmRSS; the server runs with
   EXACT_MALLOC, so freed buffers leave it at once). Goal (issue 17): every later
   round ends within 100 MB of where the first ended.
2. A closed page's run: one visitor picks "Best accuracy" (512 units, 8 re-rendered copies), presses
   Train and closes the page while the run works; the script samples the server's CPU time and
   reports how long after the close the server went quiet (< 15% of a core). Goal: within 5 s.

    python benchmarks/memory_test.py [--rounds 3] [--visitors 3] [--settle 20]

Prints the figures; exit status 0 if both goals were met, 1 otherwise.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, EXACT_MALLOC, start_streamlit, stop_streamlit  # noqa: E402

MEMORY_GOAL_MB = 100
QUIET_GOAL_S = 5.0
QUIET_CORES = 0.15     # the server counts as quiet below this share of one core
WAIT_MS = 60_000


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def large_model_file(path: Path) -> Path:
    """The sidebar's largest network as a model file: small weights, so it compresses under the 1 MB upload cap."""
    import mlp
    from ui.sidebar import MAX_LAYERS, MAX_UNITS

    net = mlp.Network((64, *[MAX_UNITS] * MAX_LAYERS, 10), ["relu"] * MAX_LAYERS + ["softmax"], seed=0,
                      input_scale=1 / 16)
    net.params[...] = np.round(net.params * 4) / 64   # a few distinct values: deflate packs them tightly
    plain = io.BytesIO()
    mlp.save_model(mlp.TrainedModel(net, np.arange(10)), plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():   # save_model does not compress; an upload over 1 MB never arrives
            dst.writestr(name, src.read(name))
    return path


def wait_for_app(page, timeout=WAIT_MS):
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def visit_and_leave(browser, url: str, model: Path) -> None:
    """Open the page, load `model` on Inspect, press Train, close the page."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/?tab=Inspect")   # a link straight to the Inspect tab
    wait_for_app(page)
    page.locator(".st-key-model_file input[type='file']").set_input_files(str(model))
    page.get_by_text(f"Loaded {model.name}").wait_for(timeout=WAIT_MS)   # confirmed where it was loaded
    page.get_by_role("tab", name="Train").click()
    page.locator(".st-key-train button:visible").click()
    page.wait_for_timeout(500)
    context.close()


def memory_rounds(browser, url: str, pid: int, rounds: int, visitors: int, settle: float, model: Path) -> list:
    """Server RSS (MB) before any visitor and after each round has left and `settle` seconds passed."""
    levels = [rss_mb(pid)]
    for r in range(rounds):
        t0 = time.monotonic()
        for _ in range(visitors):
            visit_and_leave(browser, url, model)
        print(f"round {r + 1}: visits took {time.monotonic() - t0:.1f} s; RSS {rss_mb(pid):.0f} MB as they left",
              flush=True)
        time.sleep(settle)
        levels.append(rss_mb(pid))
        print(f"round {r + 1}: {visitors} visitors came and left; server RSS {levels[-1]:.0f} MB "
              f"{settle:g} s later", flush=True)
    return levels


def closed_page_quiet_after(browser, url: str, pid: int, window: float = 1.0, timeout: float = 30.0,
                            report_busy: bool = True) -> float:
    """Seconds from closing a training page until the server's CPU stays under QUIET_CORES
    (with `report_busy`, first print how busy the run keeps the server: 2 more seconds)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    wait_for_app(page)
    page.locator(".st-key-preset_best button:visible").click()
    wait_for_app(page)
    page.locator(".st-key-train button:visible").click()
    expect(page.locator(".st-key-run_status")).to_be_visible(timeout=WAIT_MS)
    page.wait_for_timeout(2000)                           # the run is busy building its copies
    if report_busy:
        busy = cpu_s(pid)
        time.sleep(2 * window)
        print(f"while training: the server used {(cpu_s(pid) - busy) / 2 / window:.2f} cores", flush=True)
    context.close()
    closed = time.monotonic()
    while time.monotonic() - closed < timeout:
        start, used = time.monotonic(), cpu_s(pid)
        time.sleep(window)
        if (cpu_s(pid) - used) / (time.monotonic() - start) < QUIET_CORES:
            return start - closed   # quiet from the start of this window on
        time.sleep(window / 4)
    return float("inf")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--visitors", type=int, default=3)
    ap.add_argument("--settle", type=float, default=20.0, help="seconds to wait after a round (sweeper frees at 15 s)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = large_model_file(Path(tmp) / "largest.npz")
        print(f"model file: {model.stat().st_size / 1024:.0f} KB", flush=True)
        proc, url = start_streamlit(log_path=Path(tmp) / "server.log", env_extra=EXACT_MALLOC)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                quiet = closed_page_quiet_after(browser, url, proc.pid)
                print(f"closed page: server quiet {quiet:.1f} s after the close (goal <= {QUIET_GOAL_S:.0f} s)")
                levels = memory_rounds(browser, url, proc.pid, args.rounds, args.visitors, args.settle, model)
                browser.close()
        finally:
            stop_streamlit(proc)
            problems = [line for line in open(Path(tmp) / "server.log") if "Traceback" in line]
    growth = max(levels[2:], default=levels[-1]) - levels[1]
    print(json.dumps({"rss_mb": [round(v) for v in levels], "growth_after_round_1_mb": round(growth),
                      "closed_page_quiet_s": round(quiet, 1), "server_tracebacks": len(problems)}))
    ok = growth <= MEMORY_GOAL_MB and quiet <= QUIET_GOAL_S and not problems
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
