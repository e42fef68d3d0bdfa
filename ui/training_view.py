"""The Train tab: Train button, the live chart (a fragment that polls the background job),
progress, ETA, Stop, and the network the sidebar describes."""
from __future__ import annotations

import time

import plotly.graph_objects as go
import streamlit as st

from ui import charts, live_views, sparsity
from ui.errors import guarded
from ui.session import TIME_LIMIT_S, LabState, TrainingJob, TrainingQueue, collect, default_slots, describe

REFRESH_S = 0.5    # the live view ticks at most twice a second: live enough, and cheap for training
# Every tick costs the visitor's browser CPU: measured in Debian's chromium, ~0.1 s to redraw a
# changed Plotly figure (an unchanged one next to nothing) and ~0.07 s for the rest of the page to
# take in even a one-line rerun. When visitors outnumber the training slots (their browsers may
# share cores with the server, and their trainings run slower), the view ticks and the chart
# changes less often: every REFRESH_S × (jobs per slot) seconds, at most CHART_MAX_S.
CHART_MAX_S = 3.0
QUEUED_REFRESH_S = 2.0   # a queued visitor's "N ahead" line: it changes only when a run ends
# Before the first run the tab shows the empty chart frame the curves will grow in. Its chart code
# costs the browser ~1.7 s on the main thread: drawn in the page's first run it held up a first
# visit (4.0 -> 5.8 s to interactive), left to the first click on Inspect or Draw that click took
# ~4 s. So it comes one tick after the page is up, while the visitor reads.
EMPTY_CHART_DELAY_S = 2.0
EMPTY_CHART = "empty_chart_due"


@st.cache_resource
def training_queue() -> TrainingQueue:
    """One queue for the whole server: bounds how many visitors train at once."""
    return TrainingQueue(default_slots())


def show(state: LabState, config, digits) -> None:
    buttons = st.columns([1, 1.3, 5.7], vertical_alignment="center")
    # One running-or-queued run per visitor: a click that raced a rerun does not start a second.
    if buttons[0].button("Train", key="train", type="primary", disabled=state.training,
                         width="stretch") and not state.training:
        state.job = TrainingJob(config, digits.X_train, digits.y_train, training_queue(),
                                run_id=state.next_run_id(), probe=live_views.probe(digits))
        live_views.apply_controls(state.job)
        state.job.start()
        state.notice = None
    with buttons[1]:
        live_views.slow_motion_switch(state.job)
    with buttons[2]:
        if state.training:
            st.caption("Training runs in the background: change settings, inspect or draw meanwhile; "
                       "the next run uses the new settings.")
        elif state.job is None:
            st.caption(f"Trains {describe(config)} on {len(digits.y_train)} digits; "
                       f"{len(digits.y_test)} more are held out for the Inspect tab.")
    # The view ticks slowly while the job waits its turn, at the chart's pace once it trains.
    state.live_waiting = state.training and _waiting(state.job)
    run_every = (EMPTY_CHART_DELAY_S if state.job is None and not st.session_state.get(EMPTY_CHART)
                 else None if not state.training else QUEUED_REFRESH_S if state.live_waiting
                 else chart_interval(training_queue().load()))
    st.fragment(run_every=run_every)(guarded(_live, "the live training view"))(state, config, digits)


def _network(config) -> None:
    sizes = (64, *config.hidden_layer_sizes, 10)
    st.markdown("**The network**")
    with st.container(key="network_drawing"):
        st.image(charts.network_png(sizes, (*config.hidden_activations(), config.output_activation)))
    sparsity.show_size(config)


def _live(state: LabState, config, digits) -> None:
    """Everything under the Train button: the run's status and chart beside the network the
    sidebar describes, then the look inside the running network, full width."""
    if collect(state, digits.X_test, digits.y_test):
        st.rerun(scope="app")   # the other tabs now show the new model
    job = state.job
    if state.live_waiting and job is not None and not _waiting(job):
        st.rerun(scope="app")   # out of the queue: tick at the training pace from now on
    left, right = st.columns([3, 1.2], gap="large")
    with right:
        _network(config)   # config changes only with a full rerun, so a tick redraws the same picture
    with left:
        snapshot = _run(state, job, config)
    if job is not None and snapshot is not None:
        live_views.show(state, job, snapshot, digits)


def _run(state: LabState, job, config):
    """The notice, status, controls, progress and chart of the run; returns the live views'
    snapshot to draw (None: none yet)."""
    if state.notice:
        kind, text = state.notice
        getattr(st, kind)(text)
    if job is None:
        st.info("Pick a preset or set the sliders in the sidebar, then press **Train**. "
                "Loss and accuracy stream in here as each epoch finishes.")
        _empty_chart(config)
        return None
    status, live, stop = st.columns([3.4, 2.6, 0.9], vertical_alignment="center")
    status.container(key="run_status").markdown(_status_line(job))   # keyed: one cheap selector for tests
    if not job.done:
        with live:
            live_views.controls(job)
        stop.button("Stop", key="stop", on_click=job.stop, disabled=job.stop_requested, width="stretch")
        job.want_snapshot()
    if job.status == "queued" and job.training_started is None:
        # Nothing to plot yet: while a crowd waits, each page's twice-a-second tick stays a
        # single line instead of an empty chart that every visitor's browser redraws.
        return None
    if job.status == "preparing" and job.preparing_progress is not None:
        st.progress(job.preparing_progress, text="Re-rendering the augmented digits")
    else:
        st.progress(len(job.records) / job.config.epochs)
    figure, pixels, snapshot = _figures(state, job)
    st.plotly_chart(figure, key="loss_chart", config={"displayModeBar": False})
    if pixels is not None:
        sparsity.show_pixels(*pixels)
    return snapshot


def _empty_chart(config) -> None:
    """The empty frame the first run's curves will grow in, from the page's second run on."""
    ss = st.session_state
    if ss.get(EMPTY_CHART):
        st.plotly_chart(charts.training_figure([], config.epochs, "Your first run"), key="empty_chart",
                        config={"displayModeBar": False, "staticPlot": True})
    elif ss.get("train_tab_seen"):
        ss[EMPTY_CHART] = True
        st.rerun(scope="app")    # a full rerun draws it and stops the tick that brought us here
    else:
        ss["train_tab_seen"] = True


def _figures(state: LabState, job: TrainingJob) -> tuple:
    """(training figure, pixel-map arguments or None, live-view snapshot or None): new ones at most
    every `chart_interval()` (less half a tick, as the view ticks at that pace too) while the run
    goes on, else the very same objects as last time (which the browser skips)."""
    now, n = time.monotonic(), len(job.records)
    last = state.live_figures
    unchanged = last is not None and last[1] == n and last[3][1] is job.pixels and last[3][2] is job.snapshot
    if last is not None and last[0] == job.id and not job.done and (
            unchanged or now - last[2] < chart_interval(training_queue().load()) - REFRESH_S / 2):
        return last[3]
    span = job.config.epochs if not job.done else max(n, 1)   # a stopped run fills the frame
    # Kept as a go.Figure: st.plotly_chart validates a dict through go.Figure on every tick (~11 ms),
    # a Figure it only copies (~2 ms), and between changes the view hands it the same one.
    figures = (go.Figure(charts.training_figure(job.records, span, f"Run {job.id}: {describe(job.config)}")),
               job.pixels, job.snapshot)
    state.live_figures = (job.id, n, now, figures)
    return figures


def _waiting(job: TrainingJob) -> bool:
    return job.status == "queued" and job.ahead() > 0


def chart_interval(load: float) -> float:
    """Seconds between chart changes for a server with `load` jobs per training slot."""
    return min(CHART_MAX_S, REFRESH_S * max(1.0, load))


def _status_line(job: TrainingJob) -> str:
    n, total = len(job.records), job.config.epochs
    live = live_views.status_line(job)
    if live:
        return live
    if job.status == "queued":
        ahead = job.ahead()
        return f"⏳ **Queued, {ahead} ahead** — the server trains a few models at a time."
    if job.status == "preparing":
        extra = " and re-rendering augmented digits" if job.config.augment else ""
        return f"⚙️ Building the network{extra}… ({time.monotonic() - job.started:.0f} s)"
    if not job.done:
        eta = job.eta()
        left = f" · about {eta:.0f} s left" if eta is not None else ""
        if eta is not None and job.records[-1].elapsed + eta > TIME_LIMIT_S:
            left = f" · stops at this page's {TIME_LIMIT_S:.0f} s limit in about " \
                   f"{max(TIME_LIMIT_S - job.records[-1].elapsed, 0):.0f} s"
        stopping = " · stopping" if job.stop_requested else \
            " · pausing after this epoch" if job.paused else " · slow motion" if job.slow_motion else ""
        last = job.records[-1] if job.records else None
        acc = f" · train accuracy {last.train_accuracy:.1%}" if last else ""
        return f"**Epoch {n} / {total}**{acc}{left}{stopping}"
    elapsed = job.records[-1].elapsed if job.records else 0.0
    return f"**{job.status.replace('_', ' ').capitalize()}** · {n} / {total} epochs in {elapsed:.2f} s"
