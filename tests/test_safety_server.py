"""A real server and Debian's chromium (issue 17): visitors who load the largest model and leave
give their memory back, and a closed page's run stops within 5 s. A short version of
benchmarks/memory_test.py (which runs 3 rounds of 3 visitors by default), on the browser tests'
shared server, which frees a departed visitor after conftest.FREE_AFTER_S.

The server's resident memory is read with glibc returning large buffers to the system as soon as
they are freed (conftest.EXACT_MALLOC): with its default, freed NumPy arrays stay in its arenas for
the next visitor and rounds differed by 20-110 MB with nothing kept; with it, by ~10 MB. That
release() drops every large thing a visitor holds is checked exactly in test_safety_session.py."""
import sys

import pytest

from conftest import FREE_AFTER_S, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import memory_test  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_visitors_who_leave_give_their_memory_back(browser, app_server, tmp_path):
    proc, url, _ = app_server
    model = memory_test.large_model_file(tmp_path / "largest.npz")
    levels = memory_test.memory_rounds(browser, url, proc.pid, rounds=2, visitors=1, settle=FREE_AFTER_S + 2.0,
                                       model=model)
    assert max(levels[2:]) - levels[1] <= memory_test.MEMORY_GOAL_MB, f"server RSS (MB): {levels}"


def test_a_closed_pages_run_stops_within_5_s(browser, app_server):
    proc, url, _ = app_server
    quiet = memory_test.closed_page_quiet_after(browser, url, proc.pid, report_busy=False)
    assert quiet <= memory_test.QUIET_GOAL_S
