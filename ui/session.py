"""Per-session state and background training.

A `TrainingJob` trains in a plain thread that never calls Streamlit: it appends `EpochRecord`s to
a list that the page's live fragment reads. A `TrainingQueue` (one per server, shared through
`st.cache_resource`) bounds how many jobs train at once; the others wait in order and can say how
many are ahead of them. `LabState` is everything one visitor has: the current job, their model,
the run history, and their other large things (the model shelf, a fine-tune, built figures). It
lives in `st.session_state["lab"]` and is never shared. A `SessionRegistry` (one per server, see
`ui.lifecycle`) knows every visitor's LabState, so that when a visitor leaves their run is stopped
and what they held is freed at once, not when Streamlit gets round to it.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

import mlp
from mlp import TrainConfig, TrainedModel
from mlp.sparse import input_connections
from mlp.stats import Monitor
from ui import sparsity
from ui.handwriting_core import FinetuneJob, FinetuneResult


def host_setting(name: str, default: float) -> float:
    """A number a host may set in the environment (docs/deploying.md); a wrong one is refused by name."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ValueError(f"MLP Lab: the environment variable {name} must be a number ≥ 0, not {raw!r}.")
    return value


TIME_LIMIT_S = 60.0   # a run on the shared page stops after this much training time
MAX_RUNS = 30         # run summaries a visitor's history keeps (the oldest go first)
STOP_AFTER_S = 2.0    # a departed visitor's run is stopped this long after their page went away
# ...and their models freed this long after (a brief reconnect keeps them); MLP_LAB_FREE_AFTER_S overrides.
FREE_AFTER_S = host_setting("MLP_LAB_FREE_AFTER_S", 15.0)
# Pause gives the training slot back (others train meanwhile; resuming queues again) and lasts at
# most this long: then the run stops and keeps its last finished epoch, so a forgotten tab holds
# neither a slot nor, for long, its memory. Paused time does not count toward TIME_LIMIT_S.
PAUSE_LIMIT_S = 300.0
SLOW_MOTION_S = 1.0   # slow motion: at most one epoch a second (the wait counts as training time)


class Cancelled(Exception):
    """Raised inside the preparation step to cancel it (the job was stopped)."""


def default_slots() -> int:
    """How many trainings may run at once: one per core (MLP_LAB_TRAINING_SLOTS overrides)."""
    return max(1, int(host_setting("MLP_LAB_TRAINING_SLOTS", 0)) or os.cpu_count() or 1)


class TrainingQueue:
    """A first-come-first-served gate: at most `slots` jobs hold a slot at a time."""

    def __init__(self, slots: int):
        self.slots = int(slots)
        self._cond = threading.Condition()
        self._waiting: list = []
        self._running: set = set()

    def acquire(self, job: TrainingJob) -> bool:
        """Block until `job` may train (True) or it was cancelled while waiting (False)."""
        with self._cond:
            self._waiting.append(job)
            try:
                while not job.stop_requested:
                    if self._waiting[0] is job and len(self._running) < self.slots:
                        self._running.add(job)
                        return True
                    self._cond.wait(0.2)
                return False
            finally:
                self._waiting.remove(job)
                self._cond.notify_all()

    def release(self, job: TrainingJob) -> None:
        with self._cond:
            self._running.discard(job)
            self._cond.notify_all()

    def load(self) -> float:
        """Jobs training or waiting per slot: 1.0 or less means nobody waits."""
        with self._cond:
            return (len(self._running) + len(self._waiting)) / self.slots

    def ahead_of(self, job: TrainingJob) -> int:
        """How many jobs train or wait before `job` gets a slot (0 once it trains)."""
        with self._cond:
            if job not in self._waiting:
                return 0
            busy = len(self._running) if len(self._running) >= self.slots else 0
            return self._waiting.index(job) + busy

    def __repr__(self):
        return f"TrainingQueue(slots={self.slots}, running={len(self._running)}, waiting={len(self._waiting)})"


class TrainingJob:
    """One training run in a background thread.

    `records` grows by one EpochRecord per finished epoch (list.append is atomic, so the page may
    read it at any time). While the status is "preparing", `preparing_progress` is the share (0..1)
    of the augmented copies built, or None when there are none to build. `stop()` and the time
    limit act before the next batch (or the next chunk of copies). When the thread ends, `status`
    is the run's final status ("completed", "early_stopped", "stopped", "diverged") or "failed",
    `message` a plain sentence, and `model` a TrainedModel snapshot of the last good epoch (None if
    no epoch finished); the thread then drops the data and the training workspace.

    Given `probe` (fixed held-out digits), `snapshot` is an `mlp.stats.Snapshot` for the live
    views, refreshed after an epoch when the page has asked (`want_snapshot`). Between epochs the
    run can pause (giving its slot back), go one more epoch while paused, or slow down.
    """

    _ids = itertools.count(1)

    def __init__(self, config: TrainConfig, X, y, queue: TrainingQueue | None = None,
                 time_limit: float = TIME_LIMIT_S, run_id: int | None = None, probe=None):
        self.id = next(self._ids) if run_id is None else run_id   # the page numbers runs per visitor
        self.config = config
        self.records: list = []
        self.status = "queued"
        self.message = ""
        self.model: TrainedModel | None = None
        self.pixels = None   # sparse runs: (epoch, (8, 8) first-layer connections per input pixel)
        self.created = self.started = time.monotonic()
        self.training_started: float | None = None
        self.preparing_progress: float | None = None
        self.stop_requested = False
        self.limited = False   # the time limit stopped it
        self._X, self._y = X, y
        self._queue = queue
        self._time_limit = time_limit
        self._run = None
        self._thread = threading.Thread(target=self._work, name=f"mlp-lab-train-{self.id}", daemon=True)
        self._init_live(probe)

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end before its next batch (or leave the queue). Thread-safe."""
        self.stop_requested = True
        if self._run is not None:
            self._run.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def done(self) -> bool:
        return self.status not in ("queued", "preparing", "running", "paused")

    def ahead(self) -> int:
        return self._queue.ahead_of(self) if self._queue is not None and self.status == "queued" else 0

    def eta(self) -> float | None:
        """Seconds until the last epoch, from the mean epoch time so far (None before epoch 1)."""
        if not self.records:
            return None
        last = self.records[-1]
        return last.elapsed / last.epoch * (self.config.epochs - last.epoch)

    def _work(self):
        if self._queue is not None and not self._queue.acquire(self):
            self._end("stopped", "Cancelled before training started.")
            return
        try:
            self._train()
        except Cancelled:
            self._end("stopped", "Stopped while the training digits were being prepared: no epoch ran, "
                                 "so nothing changed.")
        except Exception as e:  # noqa: BLE001 -- shown to the visitor as a sentence, never a traceback
            self._end("failed", f"Training failed: {e}")
        finally:
            if self._queue is not None:
                self._queue.release(self)
            self._X = self._y = self._run = None   # the data, its copies and the workspace: freed now

    def _prepared(self, fraction: float) -> None:
        """The engine's progress callback while it builds augmented copies; cancels on stop()."""
        self.preparing_progress = fraction
        if self.stop_requested:
            raise Cancelled

    def _train(self):
        self.started = time.monotonic()
        if self.config.augment:
            self.preparing_progress = 0.0
        self.status = "preparing"   # building the network and any augmented copies
        run = mlp.train(self.config, self._X, self._y, on_prepare=self._prepared)
        self._run = run
        if self.stop_requested:
            run.stop()
        self.training_started = time.monotonic()
        # The limit is a timer, not a check after each epoch: it acts before the next batch.
        self._limit_timer = threading.Timer(self._time_limit, self._limit, args=(run,))
        self._limit_timer.daemon = True
        self._limit_timer.start()
        try:
            if self.config.connectivity != "dense":
                self.pixels = (0, input_connections(run.model, (8, 8)))
            self.status = "running"
            for record in self._epochs(run):
                if self.config.connectivity != "dense":
                    self.pixels = (record.epoch, input_connections(run.model, (8, 8)))
                self.records.append(record)
        finally:
            self._limit_timer.cancel()
        if run.history:
            self.model = TrainedModel.from_run(run)
            self.model.history = list(self.records)   # their times leave out the pauses
        message = run.message
        if self.limited and run.status == "stopped":
            message = (f"Stopped at the {self._time_limit:.0f} s limit of this shared page after "
                       f"{run.epoch} epochs; the model keeps the last finished epoch." if run.epoch else
                       f"Stopped at the {self._time_limit:.0f} s limit of this shared page before the first "
                       f"epoch finished: no epoch ran, so nothing changed. Try a smaller network.")
        elif self.paused_out and run.status == "stopped":
            message = (f"Stopped after {self.pause_limit / 60:g} minutes paused, at epoch {run.epoch}; "
                       "the model keeps the last finished epoch.")
        self._end(run.status, message)

    def _limit(self, run):
        left = self._time_limit - self._training_time()
        if left > 0.05 and run.status == "running" and not self.stop_requested:
            # Paused time does not count: look again when the rest of the limit has gone by.
            self._limit_timer = threading.Timer(left, self._limit, args=(run,))
            self._limit_timer.daemon = True
            self._limit_timer.start()
            return
        if run.status == "running" and not self.stop_requested:
            self.limited = True
            run.stop()

    # ---- live views: pause, one more epoch, slow motion, snapshots ------------------------------
    # The page calls pause/resume/step/want_snapshot from its own thread; the job's thread acts on
    # them between two epochs (the engine's iterator yields once per epoch).

    def _init_live(self, probe) -> None:
        self._probe = probe            # (probe X, strip X): fixed held-out digits, or None
        self.snapshot = None           # the latest mlp.stats.Snapshot, replaced whole
        self.paused = False            # asked to pause (status "paused" once it has)
        self.paused_out = False        # stopped because it stayed paused `pause_limit` seconds
        self.pause_limit = PAUSE_LIMIT_S
        self.slow_motion = False
        self.paused_s = 0.0            # seconds paused (and re-queued to resume) since training began
        self._pause_began = None       # monotonic time the current pause began, or None
        self._limit_timer = None
        self._step = False
        self._snapshot_wanted = True
        self._monitor = None
        self._wake = threading.Event()
        self._epoch_began = time.monotonic()

    def pause(self) -> None:
        """Pause after the current epoch."""
        self.paused = True
        self._wake.set()

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def step(self) -> None:
        """While paused: train one more epoch, then pause again."""
        if self.paused:
            self._step = True
            self._wake.set()

    def set_slow_motion(self, on: bool) -> None:
        self.slow_motion = bool(on)
        self._wake.set()

    def want_snapshot(self) -> None:
        """Ask for a fresh snapshot after the next epoch (the page asks once per tick)."""
        self._snapshot_wanted = True

    def _epochs(self, run):
        """The run's records, with the waits of slow motion and pause before each epoch and the
        live views' statistics after it. Each record's `elapsed` leaves out the paused time."""
        if self._probe is not None:
            self._monitor = Monitor(run.model, *self._probe, run.classes)
            self.snapshot = self._monitor.snapshot()
        engine_clock = None   # paused seconds when the engine's clock started (at its first epoch)
        while True:
            self._hold()
            if engine_clock is None:
                engine_clock = self.paused_s
            record = next(run, None)
            if record is None:
                break
            if self._monitor is not None:
                self._monitor.observe(record.epoch)
                if self._snapshot_wanted:
                    self._update_snapshot()
            paused = self.paused_s - engine_clock
            yield dataclasses.replace(record, elapsed=record.elapsed - paused) if paused else record
        self._update_snapshot()
        self._monitor = None   # its copies of every layer's weights: up to ~13 MB for the largest net

    def _update_snapshot(self) -> None:
        """A new snapshot, unless the latest already shows the last epoch observed."""
        monitor = self._monitor
        if monitor is not None and (self.snapshot is None or self.snapshot.epoch != monitor.epoch):
            self._snapshot_wanted = False
            self.snapshot = monitor.snapshot()

    def _hold(self) -> None:
        """Before an epoch: slow motion's wait, then a pause if one was asked for."""
        if self.stop_requested or self.limited:
            return   # the run is about to end: nothing to wait for
        while self.slow_motion and self.records and not self.paused and not self.stop_requested:
            left = self._epoch_began + SLOW_MOTION_S - time.monotonic()
            if left <= 0:
                break
            self._wake.wait(min(left, 0.25))
            self._wake.clear()
        if self.paused and not self._step:
            self._pause()
        self._step = False
        self._epoch_began = time.monotonic()

    def _pause(self) -> None:
        """Wait, holding no training slot, until resumed, asked for one more epoch, stopped, or
        `pause_limit` seconds have passed; then queue for a slot again."""
        began = self._pause_began = time.monotonic()
        self._update_snapshot()   # the views show the epoch it paused after
        self.status = "paused"
        if self._queue is not None:
            self._queue.release(self)
        while self.paused and not self._step and not self.stop_requested:
            if time.monotonic() - began > self.pause_limit:
                self.paused_out = True
                self.stop()
                break
            self._wake.wait(0.25)
            self._wake.clear()
        if self._queue is not None and not self.stop_requested:
            self.status = "queued"
            self._queue.acquire(self)   # False only if stopped while waiting: the run then ends
        self.status = "running"
        self.paused_s += time.monotonic() - began
        self._pause_began = None

    def _training_time(self) -> float:
        """Seconds since training began, less the time paused (slow motion's waits count)."""
        now, began = time.monotonic(), self._pause_began
        return now - self.training_started - self.paused_s - (now - began if began is not None else 0.0)

    def _end(self, status, message):
        self.message = message
        self.status = status   # last: a reader that sees `done` also sees message and model

    def __repr__(self):
        return f"TrainingJob(id={self.id}, status={self.status!r}, epochs={len(self.records)}/{self.config.epochs})"


@dataclass
class RunSummary:
    """A finished run as the history shows it."""

    id: int
    config: TrainConfig
    records: list
    status: str
    message: str
    test_accuracy: float | None

    @property
    def label(self) -> str:
        acc = "–" if self.test_accuracy is None else f"{self.test_accuracy:.1%}"
        return f"Run {self.id} · {describe(self.config)} · test {acc}"


@dataclass
class Evaluation:
    """A model's answers on the held-out set: probabilities (n, 10), predictions (n,), accuracy."""

    proba: np.ndarray
    predicted: np.ndarray
    accuracy: float


@dataclass
class LabState:
    """One visitor's state: the running job, their model and its evaluation, the run history."""

    job: TrainingJob | None = None
    model: TrainedModel | None = None
    model_name: str = ""
    evaluation: Evaluation | None = None
    runs: list = field(default_factory=list)
    model_chosen: float = 0.0   # monotonic time the visitor loaded `model` from a file (0: never)
    notice: tuple | None = None   # (kind, sentence) to show once: "success" | "warning" | "error"
    # The live view's last figures: (job id, records drawn, monotonic time, figures); see training_view.
    live_figures: tuple | None = None
    live_waiting: bool = False   # the live view was set to tick at the queued pace
    runs_started: int = 0   # this visitor's run numbers count from 1, whoever else trains
    # The visitor's other large things, here (not loose in st.session_state) so release() frees them:
    shelf: dict = field(default_factory=dict)        # ui.model_choice: key -> (label, TrainedModel)
    unit_edits: dict = field(default_factory=dict)   # ui.model_choice: key -> [(layer, unit, gain), ...], undo pops
    edited_model: tuple | None = None                # ui.model_choice: (edits' signature, edited copy)
    live_views: dict = field(default_factory=dict)   # ui.live_views: view kind -> (key, built view, time)
    finetune: FinetuneJob | None = None              # ui.handwriting: a fine-tune training a model copy
    finetune_result: FinetuneResult | None = None    # ui.handwriting: the last one's models and scores

    def next_run_id(self) -> int:
        self.runs_started += 1
        return self.runs_started

    @property
    def training(self) -> bool:
        return self.job is not None and not self.job.done

    def stop_work(self) -> None:
        """Stop whatever computes for this visitor: their run and their fine-tune."""
        for job in (self.job, self.finetune):
            if job is not None and not job.done:
                job.stop()

    def release(self) -> None:
        """The visitor has left: stop their run and fine-tune, drop their models, figures and history."""
        self.stop_work()
        self.job = self.model = self.evaluation = self.live_figures = None
        self.finetune = self.finetune_result = self.edited_model = None
        self.model_name = ""
        self.runs = []
        self.shelf, self.unit_edits, self.live_views = {}, {}, {}
        self.notice = ("info", "This page was away for a while, so its runs and models were cleared "
                               "to free the server for others.")


class SessionRegistry:
    """Every visitor's LabState by Streamlit session id, for a server-wide sweeper.

    `touch` is called on every page run; `sweep(is_active)` stops the run of a session that
    `is_active` has said is gone for STOP_AFTER_S and frees its LabState after FREE_AFTER_S.
    """

    def __init__(self, stop_after: float = STOP_AFTER_S, free_after: float = FREE_AFTER_S):
        self.stop_after, self.free_after = stop_after, free_after
        self._lock = threading.Lock()
        self._seen: dict = {}   # session id -> [LabState, monotonic time last seen active]

    def touch(self, session_id: str, state: LabState, now: float | None = None) -> None:
        with self._lock:
            self._seen[session_id] = [state, time.monotonic() if now is None else now]

    def sweep(self, is_active, now: float | None = None) -> list:
        """Stop departed visitors' runs, free their state; return the session ids freed."""
        now = time.monotonic() if now is None else now
        freed = []
        with self._lock:
            entries = list(self._seen.items())
        for sid, entry in entries:
            state, seen = entry
            if is_active(sid):
                entry[1] = now
            elif now - seen >= self.free_after:
                state.release()
                freed.append(sid)
            elif now - seen >= self.stop_after:
                state.stop_work()   # nobody is watching
        with self._lock:   # unless a page run re-registered it meanwhile (touch makes a new entry)
            for sid, entry in entries:
                if sid in freed and self._seen.get(sid) is entry:
                    del self._seen[sid]
        return freed

    def __len__(self):
        return len(self._seen)

    def __repr__(self):
        return f"SessionRegistry(sessions={len(self._seen)})"


def describe(config: TrainConfig) -> str:
    """A short one-line description: '64-15-10 relu/sigmoid · mse · sgd 0.015 · b15 · 100 ep'."""
    acts = config.hidden_activations()
    act = acts[0] if len(set(acts)) == 1 else ",".join(acts)
    sizes = "-".join(str(s) for s in (64, *config.hidden_layer_sizes, 10))
    aug = (" · shifts" if config.shifts else "") + (f" · aug×{config.augment}" if config.augment else "")
    sparse = "" if config.connectivity == "dense" else f" · {sparsity.label(config)}"
    return (f"{sizes} {act}/{config.output_activation} · {config.loss} · {config.optimizer} "
            f"{config.learning_rate:g} · batch {config.batch_size} · {config.epochs} ep{aug}{sparse}")


def evaluate(model, X, y, chunk: int = 128) -> Evaluation:
    # In chunks: a wide loaded model's activations over every held-out digit at once cost ~60 MB.
    proba = np.concatenate([model.predict_proba(X[k:k + chunk]) for k in range(0, len(X), chunk)])
    predicted = np.asarray(model.classes)[np.argmax(proba, axis=1)]
    return Evaluation(proba, predicted, float(np.mean(predicted == y)))


def collect(state: LabState, X_test, y_test) -> bool:
    """If the job has ended and not been collected: add it to the history and, unless it
    diverged or failed, make its model the visitor's model. True if anything changed."""
    job = state.job
    if job is None or not job.done or any(r.id == job.id for r in state.runs):
        return False
    usable = job.model is not None and job.status in ("completed", "early_stopped", "stopped")
    kept_file = usable and state.model_chosen > job.created   # a file loaded meanwhile: the latest choice wins
    accuracy = None
    if kept_file:
        accuracy = evaluate(job.model, X_test, y_test).accuracy
    elif usable:
        state.model = job.model
        state.model_name = f"your run {job.id}"
        state.evaluation = evaluate(job.model, X_test, y_test)
        accuracy = state.evaluation.accuracy
    state.runs.append(RunSummary(job.id, job.config, list(job.records), job.status, job.message, accuracy))
    del state.runs[:-MAX_RUNS]
    if kept_file:
        state.notice = ("info", f"{job.message} Held-out accuracy {accuracy:.1%}. The page keeps {state.model_name}, "
                                f"which you loaded while run {job.id} trained.")
        return True
    if job.status == "diverged":
        kept = (f"The page keeps using {state.model_name}." if state.model is not None else
                "Nothing changed: the default model still answers in the Draw tab.")
        state.notice = ("error", f"Training diverged at epoch {len(job.records) + 1}: the loss became infinite "
                                 f"or NaN. Try a lower learning rate than {job.config.learning_rate:g}. {kept}")
    elif job.status == "failed":
        state.notice = ("error", job.message)
    elif usable and accuracy < 0.2:
        state.notice = ("warning", f"{job.message} Held-out accuracy {accuracy:.1%}, about chance: the network "
                                   f"is stuck. Try a lower learning rate (now {job.config.learning_rate:g}).")
    elif usable:
        state.notice = ("success", f"{job.message} Held-out accuracy {accuracy:.1%}.")
    else:
        state.notice = ("warning", job.message or "The run ended before its first epoch; nothing changed.")
    return True
