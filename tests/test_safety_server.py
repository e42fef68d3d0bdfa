"""A real server and Debian's chromium (issue 17): a closed page's run stops within 5 s, and
visitors who load the largest model and leave give their memory back. A short version of
benchmarks/memory_test.py (which runs 3 rounds of 3 visitors by default)."""
import sys

import pytest

from conftest import ROOT, start_streamlit, stop_streamlit

sys.path.insert(0, str(ROOT / "benchmarks"))
import memory_test  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, url = start_streamlit(log_path=tmp_path_factory.mktemp("server") / "server.log")
    yield proc, url
    stop_streamlit(proc)


def test_a_closed_pages_run_stops_within_5_s(browser, server):
    proc, url = server
    assert memory_test.closed_page_quiet_after(browser, url, proc.pid) <= memory_test.QUIET_GOAL_S


def test_visitors_who_leave_give_their_memory_back(browser, server, tmp_path):
    proc, url = server
    model = memory_test.large_model_file(tmp_path / "largest.npz")
    levels = memory_test.memory_rounds(browser, url, proc.pid, rounds=2, visitors=1, settle=17.0, model=model,
                                          early=True)
    assert max(levels[2:]) - levels[1] <= memory_test.MEMORY_GOAL_MB
