"""The training job's live controls and snapshots (no Streamlit), and the live views' pure parts:
pause gives the slot back and is not training time, +1 epoch trains exactly one, slow motion
spaces epochs, a paused run stops when asked or when left paused too long."""
import re
import time

import numpy as np
import pytest
from test_safety_session import wait_for

import mlp
from mlp import TrainConfig
from ui import live_charts
from ui.data import split_digits
from ui.live_views import probe, updates_per_epoch
from ui.session import SLOW_MOTION_S, TrainingJob, TrainingQueue

FAST = TrainConfig(hidden_layer_sizes=(32,), learning_rate=1e-2, epochs=5, batch_size=64, seed=3)
LONG = FAST.replace(epochs=200)


@pytest.fixture(scope="module")
def digits():
    return split_digits()


def paused_job(digits, config=LONG, queue=None, epochs=1):
    """A started job paused after `epochs` epochs (pause is asked once it has started them)."""
    job = TrainingJob(config, digits.X_train, digits.y_train, queue, probe=probe(digits)).start()
    wait_for(lambda: len(job.records) >= epochs - 1 and job.status == "running")
    job.pause()
    wait_for(lambda: job.status == "paused")
    return job


def test_snapshots_do_not_change_the_training(digits):
    job = TrainingJob(FAST, digits.X_train, digits.y_train, probe=probe(digits)).start()
    assert job.join(60) and job.status == "completed"
    bare = mlp.train(FAST, digits.X_train, digits.y_train).run()
    np.testing.assert_array_equal(job.model.network.params, bare.model.params)
    snapshot = job.snapshot
    assert snapshot.epoch == 5 and snapshot.ratios.shape == (5, 2) and snapshot.strip_proba.shape == (20, 10)
    np.testing.assert_array_equal(snapshot.first_weights, job.model.network.weights[0])


def test_pause_then_one_more_epoch_then_resume(digits):
    job = paused_job(digits)
    n = len(job.records)
    time.sleep(0.3)
    assert len(job.records) == n and job.status == "paused" and not job.done
    assert job.snapshot.epoch == n              # the views show the epoch it paused after
    job.step()
    wait_for(lambda: len(job.records) == n + 1 and job.status == "paused")
    time.sleep(0.3)
    assert len(job.records) == n + 1            # exactly one
    assert job.snapshot.epoch == n + 1
    job.resume()
    wait_for(lambda: len(job.records) >= n + 3)
    assert job.status == "running"
    job.stop()
    assert job.join(30) and job.status == "stopped"


def test_a_paused_run_frees_its_slot_and_queues_to_resume(digits):
    queue = TrainingQueue(slots=1)
    first = paused_job(digits, queue=queue)
    other = TrainingJob(FAST, digits.X_train, digits.y_train, queue).start()
    assert other.join(60) and other.status == "completed"      # trained while the first was paused
    blocker = TrainingJob(LONG, digits.X_train, digits.y_train, queue).start()
    wait_for(lambda: blocker.status == "running")
    n = len(first.records)
    first.resume()
    wait_for(lambda: first.status == "queued")
    assert first.ahead() == 1 and not first.done
    time.sleep(0.3)
    assert len(first.records) == n
    blocker.stop()
    wait_for(lambda: len(first.records) > n)
    first.stop()
    assert blocker.join(30) and first.join(30)


def test_paused_time_is_not_training_time(digits):
    job = paused_job(digits, config=LONG.replace(hidden_layer_sizes=(8,)), epochs=2)
    n, before = len(job.records), job.records[-1].elapsed
    time.sleep(1.5)
    job.step()
    wait_for(lambda: job.status == "paused" and len(job.records) > n)
    assert job.paused_s >= 1.4
    assert job.records[-1].elapsed - before < 1.0     # an epoch of an 8-unit net, not the pause
    job.stop()
    assert job.join(30)
    assert job.model.history == job.records


def test_stop_while_paused_and_the_pause_limit(digits):
    job = paused_job(digits, epochs=2)    # one epoch finished: a pause may also land before the first
    job.stop()
    assert job.join(30) and job.status == "stopped" and job.model is not None
    job = paused_job(digits)
    job.pause_limit = 0.3
    assert job.join(30) and job.status == "stopped" and job.paused_out
    assert re.search(r"Stopped after [\d.]+ minutes paused, at epoch \d+", job.message)


def test_slow_motion_spaces_the_epochs(digits):
    job = TrainingJob(FAST.replace(epochs=3, hidden_layer_sizes=(8,)), digits.X_train, digits.y_train)
    job.set_slow_motion(True)
    started = time.monotonic()
    assert job.start().join(30) and job.status == "completed"
    assert time.monotonic() - started >= 2 * SLOW_MOTION_S            # three epochs: two waits at least
    gaps = np.diff([r.elapsed for r in job.records])
    assert np.all(gaps >= 0.9 * SLOW_MOTION_S)                        # the waits count as training time


def test_updates_per_epoch_follows_the_config():
    config = TrainConfig(batch_size=32)
    assert updates_per_epoch(config, 1347) == 43
    assert updates_per_epoch(config.replace(shifts=True, augment=2), 1347) == 295     # 7 copies
    assert updates_per_epoch(config.replace(validation_fraction=0.2), 1000) == 25


def test_strip_marks_the_wrong_answers():
    X = np.zeros((3, 64))
    proba = np.eye(10)[[1, 2, 3]] * 0.9 + 0.01
    html = live_charts.strip_html(X, np.array([1, 5, 3]), proba)
    assert html.count('class="right"') == 2 and html.count('class="wrong"') == 1
    assert "2 · 91% (is 5)" in html and "1 · 91%" in html


def test_tiles_share_one_symmetric_scale():
    w = np.zeros((64, 3))
    w[0, 0], w[1, 1] = 1.0, -1.0
    mosaic = np.asarray(live_charts.tile_mosaic(w, 1.0))
    palette = np.array(live_charts._tile_palette()).reshape(-1, 3)
    cols, scale = live_charts.tile_layout(3)
    cell = 8 * scale + 2 + live_charts.TILE_GAP
    assert mosaic.shape == (8 * scale + 2, 3 * cell - live_charts.TILE_GAP)
    top_left = [mosaic[1 + scale // 2, k * cell + 1 + scale // 2] for k in range(3)]
    red, blue, zero = (palette[i] for i in top_left)
    assert red[0] > red[2] and blue[2] > blue[0] and tuple(palette[top_left[2]]) == tuple(palette[126])
    assert mosaic[0, 8 * scale + 3] == live_charts.WHITE     # a gap between tiles
    assert live_charts.colour_limit(np.r_[np.ones(999), 50.0]) == pytest.approx(1.0)   # one outlier is clipped


def test_the_time_limit_counts_training_not_pauses(digits):
    slow = LONG.replace(hidden_layer_sizes=(64,), batch_size=16)     # ~4 s of training: past the limit
    job = TrainingJob(slow, digits.X_train, digits.y_train, time_limit=1.0).start()
    wait_for(lambda: len(job.records) >= 1)
    job.pause()
    wait_for(lambda: job.status == "paused")
    n = len(job.records)
    time.sleep(1.5)                                  # past the limit in wall time, paused
    assert job.status == "paused" and not job.limited
    job.resume()
    assert job.join(30) and job.status == "stopped" and job.limited
    assert len(job.records) > n                      # it went on training after the pause
    assert 0.5 < job.records[-1].elapsed < 1.5       # about the limit's second of training, pause left out
