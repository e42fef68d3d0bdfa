"""The page's last line of defence: an unexpected error in a view becomes one sentence on the page
(and a traceback in the server log), never `st.exception`'s traceback with server paths."""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("mlp_lab")


@contextmanager
def guard(place: str):
    """Run a view; on an unexpected error show a sentence about `place` and log the details.
    st.rerun / st.stop pass through (they are BaseExceptions, not errors)."""
    try:
        yield
    except Exception:  # noqa: BLE001 -- the visitor gets a sentence; the log gets the traceback
        log.exception("MLP Lab: error in %s", place)
        st.error(f"Something went wrong in {place}. The rest of the page still works; "
                 "please try again, or reload the page.")


def guarded(view, place: str):
    """`view` wrapped in `guard(place)`: for fragments, whose reruns skip the caller's guard.
    It keeps the view's name, from which Streamlit derives the fragment's identity."""
    @functools.wraps(view)
    def run(*args, **kwargs):
        with guard(place):
            view(*args, **kwargs)
    return run
