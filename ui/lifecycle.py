"""Visitors who leave: one server-wide sweeper thread stops their runs and frees their state.

Streamlit drops a departed session lazily (it keeps it up to two minutes for a reconnect, and with
`runner.postScriptGC = false` its memory waits for Python's collector), and a run in a background
thread would train on for nobody. `watch(lab)` registers the visitor's LabState on every page run;
the sweeper asks Streamlit's runtime once a second which sessions still have a connected page.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.session import LabState, SessionRegistry

SWEEP_EVERY_S = 1.0
log = logging.getLogger("mlp_lab")


def _connected(session_id: str) -> bool:
    """True while the session has a page connected (or when there is no server to ask, as in AppTest)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


@st.cache_resource
def registry() -> SessionRegistry:
    """The server's registry, with its sweeper: one daemon thread for the whole server."""
    reg = SessionRegistry()
    threading.Thread(target=_sweep_forever, args=(weakref.ref(reg),), name="mlp-lab-sweeper", daemon=True).start()
    return reg


def _sweep_forever(ref) -> None:
    """Sweep once a second until the registry is dropped (st.cache_resource.clear())."""
    while (reg := ref()) is not None:
        try:
            reg.sweep(_connected)
        except Exception:  # noqa: BLE001 -- the sweeper must outlive any one bad session
            log.exception("MLP Lab: the session sweeper failed once")
        del reg
        time.sleep(SWEEP_EVERY_S)


def watch(lab: LabState) -> None:
    """Register this page run's visitor (their LabState) with the sweeper."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        registry().touch(ctx.session_id, lab)
