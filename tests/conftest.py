"""Shared fixtures: the digits split and preset models trained once per session, a real
`streamlit run app.py` server, and Debian's chromium for Playwright."""
import os

# One BLAS thread, as the app and the benchmarks use, set before anything imports NumPy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "shots"   # screenshots the browser tests take (git-ignored), to look at
# glibc hands every buffer over 128 KB straight back to the system when freed (by default that
# threshold rises with use, and freed NumPy arrays then stay in its arenas for the next visitor):
# the server's RSS then follows what it holds (benchmarks/memory_test.py, test_safety_server.py).
EXACT_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}
FREE_AFTER_S = 1   # the test server frees a departed visitor's models this long after (15 s by default)


@pytest.fixture(scope="session")
def digits_split():
    """load_digits' stratified 75/25 split (X_train, X_test, y_train, y_test), loaded once."""
    from mlp.datasets import load_digits_split
    return load_digits_split()


@pytest.fixture(scope="session")
def trained_preset(digits_split):
    """trained_preset(name, seed=0) -> the TrainedModel of engine preset `name` with that seed,
    trained once per session: accuracy claims share it instead of retraining (the `best` preset
    takes ~10 s of CPU)."""
    from mlp import TrainedModel, train
    from mlp.presets import PRESETS

    X_train, _, y_train, _ = digits_split
    models = {}

    def get(name: str, seed: int = 0):
        if (name, seed) not in models:
            run = train(PRESETS[name].replace(seed=seed), X_train, y_train).run()
            models[name, seed] = TrainedModel.from_run(run)
        return models[name, seed]
    return get


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(app=ROOT / "app.py", extra_args=(), env_extra=None, log_path=None, timeout=60):
    """Start `streamlit run` on 127.0.0.1 at a free port; return (process, base URL)."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(app),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--server.runOnSave", "false", *extra_args]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env_extra or {})}
    log = open(log_path or os.devnull, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with {proc.returncode}; log: {log_path}")
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)
    stop_streamlit(proc)
    raise TimeoutError("streamlit did not become healthy")


def stop_streamlit(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)   # our own process group (start_new_session=True)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """A `streamlit run app.py` for the browser tests (each test is a new visitor; a server start
    and its first page cost ~3 s): yields (process, base URL, server log path). It frees a
    departed visitor after FREE_AFTER_S and runs with EXACT_MALLOC, for the memory test."""
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    proc, url = start_streamlit(log_path=log, env_extra={"MLP_LAB_FREE_AFTER_S": str(FREE_AFTER_S), **EXACT_MALLOC})
    yield proc, url, log
    stop_streamlit(proc)


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server[1]


@pytest.hookimpl(tryfirst=True)   # before `-m` selects: `-m "not browser"` must see the mark
def pytest_collection_modifyitems(config, items):
    """Every test that uses Playwright's `page` is marked `browser`. Browser tests need Debian's
    chromium: in CI its absence fails the run; elsewhere they are skipped with the one command
    that installs it."""
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    browser = [item for item in items if item.get_closest_marker("browser")]
    for item in browser:   # under pytest-xdist: one worker runs these in turn while the others compute
        item.add_marker(pytest.mark.xdist_group("browser"))
    # ...from the start: they wait on the page more than they compute, and take longest.
    first = set(browser)
    items[:] = browser + [item for item in items if item not in first]
    if os.path.exists(CHROMIUM) or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium: apt-get install chromium")
    for item in browser:
        item.add_marker(skip)


# pytest-playwright's hooks: drive Debian's chromium, never a downloaded one.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}
