"""The Train tab's look inside a training run, drawn on the live chart's own tick: the first
layer's weights as tiles, a strip of test digits with their current answers, layer health and
weight histograms; and the run's pause / one more epoch / slow motion controls.

Everything is drawn from the job's latest `mlp.stats.Snapshot` (the training thread makes it
after an epoch); the figures are rebuilt only when a new snapshot or a new view mode arrives,
otherwise the very same objects go out again, which the browser skips. Plotly figures are kept
as `go.Figure`s: `st.plotly_chart` validates a plain dict through `go.Figure` on every call
(~15 ms each for these), while a kept Figure only costs its `to_dict` (~3 ms).
"""
from __future__ import annotations

import base64
import math
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mlp.stats import strip_indices
from ui import live_charts
from ui.session import PAUSE_LIMIT_S, SLOW_MOTION_S, LabState, TrainingJob

# Each changed Plotly figure costs the visitor's browser ~0.1 s (0.3-0.8 s measured on a loaded
# 2-core machine, benchmarks/bench_live_views.py), the tiles ~0.05 s: while a run trains, the two
# Plotly views change at most every SLOW_VIEW_S; paused or finished, at once.
SLOW_VIEW_S = 2.0
PROBE_PER_CLASS = 10   # dead units are counted on 100 fixed held-out digits
STRIP_PER_CLASS = 2    # the strip: 20 of them, two of each digit
MODES = {"now": "Weights now", "change": "Change since the start"}
HEALTH_NOTE = (
    "**Healthy:** the weights move a lot in the first epochs, then less and less, in or near the green band "
    "(CS231n's rule of thumb: one update moves a layer by about 1/1000 of its size; an epoch of N updates "
    "then moves it by √N/1000 if they point every which way, up to N/1000 if they all agree); below it late "
    "in a run means it has settled. Few units are dead. **Not healthy:** far below the band from the start: "
    "the learning rate is too low, raise it. Near 1 (100%), jumping about, or dead units climbing: the "
    "steps are too big; lower the learning rate, or try leaky ReLU, whose units cannot die.")


def probe(digits) -> tuple:
    """(probe digits, strip digits): fixed held-out inputs for a job's snapshots."""
    return (digits.X_test[strip_indices(digits.y_test, PROBE_PER_CLASS)],
            digits.X_test[strip_indices(digits.y_test, STRIP_PER_CLASS)])


def updates_per_epoch(config, n_rows: int) -> int:
    """About how many optimiser steps one epoch of `config` takes on `n_rows` training digits
    (after its validation split, with its shifted and re-rendered copies)."""
    kept = n_rows - round(n_rows * config.validation_fraction)
    copies = 1 + int(config.augment) + (4 if config.shifts else 0)
    return max(1, math.ceil(kept * copies / int(config.batch_size)))


# ---- controls ---------------------------------------------------------------------------------

def controls(job: TrainingJob) -> None:
    """Pause / Resume and +1 epoch (while paused), in one row (the current column)."""
    row = st.columns(2)
    if job.paused:
        row[0].button("Resume", key="resume", on_click=job.resume, icon=":material/play_arrow:",
                      width="stretch", disabled=job.stop_requested)
    else:
        row[0].button("Pause", key="pause", on_click=job.pause, icon=":material/pause:", width="stretch",
                      disabled=job.stop_requested, help="Pause after this epoch to look around. A paused run "
                      f"gives its training slot to others and stops by itself after {PAUSE_LIMIT_S / 60:.0f} minutes.")
    row[1].button("+1 epoch", key="step", on_click=job.step, icon=":material/skip_next:", width="stretch",
                  disabled=not job.paused or job.status != "paused" or job.stop_requested,
                  help="While paused: train one more epoch, then pause again.")


def slow_motion_switch(job: TrainingJob | None) -> None:
    """The slow-motion switch: for the next run, and at once for a running one."""
    st.toggle("Slow motion", key="slow_motion", on_change=_slow_motion, args=(job,),
              help=f"At most one epoch every {SLOW_MOTION_S:g} s, to follow the first epochs as they happen. "
                   "The waits count toward the page's time limit (the run keeps its training slot meanwhile).")


def _slow_motion(job: TrainingJob | None) -> None:
    if job is not None and not job.done:
        job.set_slow_motion(st.session_state["slow_motion"])


def apply_controls(job: TrainingJob) -> None:
    """A new run starts in slow motion if the switch is on."""
    job.set_slow_motion(bool(st.session_state.get("slow_motion", False)))


def status_line(job: TrainingJob) -> str | None:
    """The status sentence while paused or waiting to resume, else None."""
    n, total = len(job.records), job.config.epochs
    if job.status == "paused":
        return (f":material/pause_circle: **Paused after epoch {n} / {total}** · Resume, or go +1 epoch at "
                f"a time · stops by itself after {job.pause_limit / 60:g} minutes paused")
    if job.status == "queued" and job.training_started is not None:
        return (f":material/hourglass_top: **Waiting for a training slot, {job.ahead()} ahead**: while yours "
                "was paused, others trained; it goes on as soon as a slot is free.")
    return None


# ---- the views --------------------------------------------------------------------------------

def show(state: LabState, job: TrainingJob, snapshot, digits) -> None:
    """The four views of `snapshot` (None: nothing yet), for the visitor's run `job`."""
    if snapshot is None:
        return
    st.markdown(f"#### Inside the network · after epoch {snapshot.epoch}")
    top = st.columns([1.4, 1], gap="large")
    with top[0]:
        _tiles(state, job, snapshot)
    with top[1]:
        _strip(state, job, snapshot, digits)
    bottom = st.columns([1.2, 1], gap="large")
    sizes = (snapshot.first_weights.shape[0], *job.config.hidden_layer_sizes, snapshot.strip_proba.shape[1])
    names = live_charts.layer_names(sizes)
    hold = SLOW_VIEW_S if job.status == "running" else 0.0
    with bottom[0]:
        st.markdown("**Layer health**")
        figure = _cached(state, ("health", job.id, snapshot.epoch), lambda: go.Figure(live_charts.health_figure(
            snapshot.ratios, snapshot.dead, names, job.config.epochs,
            updates_per_epoch(job.config, len(digits.y_train)))), hold)
        st.plotly_chart(figure, key="health_chart", config={"displayModeBar": False})
        st.caption("Left: per layer, how far each epoch moved its weights: ‖change‖ / ‖weights‖. Right: the "
                   f"share of ReLU units that output 0 on all {PROBE_PER_CLASS * 10} of a fixed set of "
                   "held-out digits (dead: no gradient reaches them, so they never learn again). "
                   + HEALTH_NOTE)
    with bottom[1]:
        st.markdown("**Weight distributions**")
        figure = _cached(state, ("hist", job.id, snapshot.epoch),
                         lambda: go.Figure(live_charts.histogram_figure(snapshot.histograms, names)), hold)
        st.plotly_chart(figure, key="histogram_chart", config={"displayModeBar": False})
        st.caption("Each layer's weights: how many have which value, at the start (grey) and now (blue). "
                   "Training spreads them out from the narrow random start; a weight penalty (L2) pulls "
                   "them back toward 0.")


def _tiles(state: LabState, job: TrainingJob, snapshot) -> None:
    st.markdown("**What each first-layer unit looks for**")
    mode = st.segmented_control("Tiles show", list(MODES), format_func=MODES.get, key="tiles_mode",
                                default="now", label_visibility="collapsed") or "now"
    png, limit = _cached(state, ("tiles", job.id, snapshot.epoch, mode), lambda: live_charts.tiles_png(
        snapshot.first_weights, snapshot.first_initial, change=mode == "change"))
    words = (("decreased", "increased") if mode == "change" else
             ("negative: ink here inhibits", "positive: ink here excites"))
    with st.container(key="live_tiles"):
        st.html(_img(png, "The first layer's weights as 8x8 tiles") + live_charts.colour_bar_html(limit, *words))
    n = snapshot.first_weights.shape[1]
    shown = min(n, live_charts.MAX_TILES)
    which = f"all {n} units" if shown == n else f"the first {shown} of {n} units"
    st.caption(f"One tile per unit of the first hidden layer ({which}, always in the same place): its 64 "
               "incoming weights laid out as the 8×8 image they look at. "
               + ("Red pixels add to the unit's input when there is ink there, blue ones subtract. "
                  if mode == "now" else
                  "Colour is how much each weight changed since training began: where learning happened. ")
               + "One colour scale for all tiles; its ends are the 99.5th percentile.")


def _strip(state: LabState, job: TrainingJob, snapshot, digits) -> None:
    st.markdown("**Test digits, live**")
    idx = strip_indices(digits.y_test, STRIP_PER_CLASS)
    html = _cached(state, ("strip", job.id, snapshot.epoch), lambda: live_charts.strip_html(
        digits.X_test[idx], digits.y_test[idx], snapshot.strip_proba))
    with st.container(key="live_strip"):
        st.html(html)
    predicted = np.argmax(snapshot.strip_proba, axis=1)
    wrong = int(np.sum(predicted != digits.y_test[idx]))
    st.caption(f"{len(idx)} held-out digits the network never trains on, with its answer and how sure it is. "
               f"Red: wrong ({wrong} now), with the true digit in brackets.")


def _img(png: bytes, alt: str) -> str:
    """An <img> carrying its PNG inline. st.image would serve it from a URL that the next tick
    (twice a second) retires; a browser slowed by a busy machine then fetched it too late and
    showed a broken image. Inline, it arrives with the page update itself (10-25 KB)."""
    return (f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
            'style="max-width:100%;image-rendering:pixelated;margin-bottom:8px">')


def _cached(state: LabState, key: tuple, build, hold: float = 0.0):
    """`build()`, or the very object built last time for the same `key` = (kind, job id, ...),
    or for another key of the same job if that was built less than `hold` seconds ago. One
    entry per kind of view, in the visitor's `state.live_views` (freed with them)."""
    cache = state.live_views
    entry, now = cache.get(key[0]), time.monotonic()
    if entry is None or (entry[0] != key and (entry[0][1] != key[1] or now - entry[2] >= hold)):
        entry = cache[key[0]] = (key, build(), now)
    return entry[1]
