"""The background training job, the shared queue and the session's bookkeeping (no Streamlit)."""
import threading
import time

import numpy as np
import pytest

import mlp
from mlp import TrainConfig
from ui.data import split_digits
from ui.session import LabState, TrainingJob, TrainingQueue, collect

FAST = TrainConfig(hidden_layer_sizes=(32,), learning_rate=1e-2, epochs=5, batch_size=64, seed=3)
SLOW = TrainConfig(hidden_layer_sizes=(256, 256), epochs=200, batch_size=4, seed=0)


@pytest.fixture(scope="module")
def digits():
    return split_digits()


def test_split_is_stratified_and_held_out(digits):
    assert len(digits.y_test) == 450 and len(digits.y_train) == 1347
    np.testing.assert_allclose(np.bincount(digits.y_test) / 450, np.bincount(digits.y_train) / 1347, atol=0.01)


def test_job_trains_exactly_like_the_engine(digits):
    job = TrainingJob(FAST, digits.X_train, digits.y_train).start()
    assert job.join(60) and job.status == "completed"
    bare = mlp.train(FAST, digits.X_train, digits.y_train).run()     # the oracle: the engine on its own
    assert [r.train_loss for r in job.records] == [r.train_loss for r in bare.history]
    np.testing.assert_array_equal(job.model.network.params, bare.model.params)


def test_stop_keeps_the_last_finished_epoch(digits):
    job = TrainingJob(SLOW, digits.X_train, digits.y_train).start()
    deadline = time.monotonic() + 60
    while len(job.records) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    job.stop()
    assert job.join(60)
    assert job.status == "stopped" and 1 <= len(job.records) < SLOW.epochs
    assert job.model.history == job.records          # the model is the last finished epoch's


def test_time_limit_stops_a_long_run(digits):
    job = TrainingJob(SLOW.replace(batch_size=256), digits.X_train, digits.y_train, time_limit=0.5).start()
    assert job.join(60)
    assert job.status == "stopped" and len(job.records) < SLOW.epochs and "limit" in job.message
    assert (job.model is None) == (not job.records)


def test_a_failing_run_reports_a_sentence(digits):
    job = TrainingJob(FAST, digits.X_train[:, :3] * np.nan, digits.y_train).start()
    assert job.join(60)
    assert job.status == "failed" and "NaN" in job.message and job.model is None


def test_queue_serves_in_order_and_counts_who_is_ahead(digits):
    queue = TrainingQueue(slots=1)
    first = TrainingJob(FAST, digits.X_train, digits.y_train, queue)
    assert queue.acquire(first)                                      # hold the only slot by hand
    second = TrainingJob(FAST, digits.X_train, digits.y_train, queue).start()
    third = TrainingJob(FAST, digits.X_train, digits.y_train, queue).start()
    deadline = time.monotonic() + 10
    while queue.ahead_of(third) != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (second.status, third.status) == ("queued", "queued")
    assert (second.ahead(), third.ahead()) == (1, 2)
    third.stop()                                                     # leaving the queue
    assert third.join(10) and third.status == "stopped" and not third.records
    queue.release(first)
    assert second.join(60) and second.status == "completed"


def test_collect_adopts_good_runs_and_keeps_the_model_after_divergence(digits):
    state = LabState()
    good = TrainingJob(FAST, digits.X_train, digits.y_train).start()
    good.join(60)
    state.job = good
    assert collect(state, digits.X_test, digits.y_test)
    assert state.model is good.model and state.evaluation.accuracy > 0.9 and state.notice[0] == "success"
    assert not collect(state, digits.X_test, digits.y_test)          # collected once

    bad = TrainingJob(FAST.replace(activation="identity", optimizer="sgd", learning_rate=10.0, epochs=20),
                      digits.X_train, digits.y_train).start()
    bad.join(60)
    state.job = bad
    assert bad.status == "diverged"
    assert collect(state, digits.X_test, digits.y_test)
    assert state.model is good.model                                 # the previous good model stays
    kind, text = state.notice
    assert kind == "error" and "lower learning rate" in text and f"your run {good.id}" in text
    assert [r.status for r in state.runs] == ["completed", "diverged"]
    assert state.runs[1].test_accuracy is None


def test_queue_load_counts_running_and_waiting_jobs_per_slot():
    class Job:
        stop_requested = False

    queue, jobs = TrainingQueue(2), [Job() for _ in range(3)]
    assert queue.load() == 0
    assert queue.acquire(jobs[0]) and queue.acquire(jobs[1])
    assert queue.load() == 1.0
    waiter = threading.Thread(target=queue.acquire, args=(jobs[2],))
    waiter.start()
    deadline = time.monotonic() + 5
    while queue.load() < 1.5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.load() == 1.5
    queue.release(jobs[0])
    waiter.join(5)
    assert queue.load() == 1.0


def test_live_chart_changes_less_often_under_load(digits, monkeypatch):
    """Between chart changes the live view hands Streamlit the very same figure (the browser skips
    an unchanged one); a busy server spaces the changes out; a finished run always redraws."""
    from types import SimpleNamespace

    from ui import training_view

    assert training_view.chart_interval(0.0) == training_view.chart_interval(1.0) == training_view.REFRESH_S
    assert training_view.chart_interval(4.0) == 4 * training_view.REFRESH_S
    assert training_view.chart_interval(100.0) == training_view.CHART_MAX_S

    records = mlp.train(FAST, digits.X_train, digits.y_train).run().history
    job = SimpleNamespace(id=7, records=records[:2], done=False, config=FAST, pixels=None, snapshot=None)
    state = LabState()
    interval = [60.0]
    monkeypatch.setattr(training_view, "chart_interval", lambda load: interval[0])
    first = training_view._figures(state, job)
    job.records = records[:3]                                  # a new epoch, but too soon
    assert training_view._figures(state, job) is first
    interval[0] = 0.0                                          # the interval has passed
    second = training_view._figures(state, job)
    assert second is not first and len(second[0]["data"][0]["x"]) > len(first[0]["data"][0]["x"])
    job.pixels = (0, np.ones((8, 8), int))                     # SET's map arrived, no new epoch
    assert training_view._figures(state, job)[1] is job.pixels
    job.snapshot = object()                                    # a live-view snapshot arrived, no new epoch
    assert training_view._figures(state, job)[2] is job.snapshot
    interval[0] = 60.0
    job.records, job.done = records, True                      # finished: the final chart at once
    assert len(training_view._figures(state, job)[0]["data"][0]["x"]) == len(records)
