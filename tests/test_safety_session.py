"""Runs and sessions on a shared page (issue 17): Stop, the time limit and a departed visitor act
within about a second, even mid-epoch or while the augmented copies are built; what a visitor
held is freed when they leave; the visitor's latest choice of model wins."""
import time

import numpy as np
import pytest

import mlp
from mlp import TrainConfig, TrainedModel
from st_helpers import show_tab
from ui.data import split_digits
from ui.session import MAX_RUNS, LabState, SessionRegistry, TrainingJob, collect

# An epoch of this takes several seconds here: a stop that waited for the epoch's end would show.
HEAVY = TrainConfig(hidden_layer_sizes=(512, 512, 512, 512), epochs=50, batch_size=64, seed=0)
FAST = TrainConfig(hidden_layer_sizes=(32,), learning_rate=1e-2, epochs=3, batch_size=64, seed=3)


@pytest.fixture(scope="module")
def digits():
    return split_digits()


@pytest.fixture(scope="module")
def many(digits):
    """The training digits 16 times over: a HEAVY epoch then takes seconds even on a quiet machine."""
    return np.tile(digits.X_train, (16, 1)), np.tile(digits.y_train, 16)


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def seconds_to_end(job) -> float:
    t = time.monotonic()
    assert job.join(30)
    return time.monotonic() - t


def test_stop_mid_epoch_acts_within_a_second_and_says_no_epoch_ran(many):
    job = TrainingJob(HEAVY, *many).start()
    wait_for(lambda: job.status == "running")
    time.sleep(0.5)
    job.stop()
    assert seconds_to_end(job) < 2.0   # an epoch here takes several seconds
    assert job.status == "stopped" and job.records == [] and job.model is None
    assert "no epoch ran" in job.message and "last finished epoch" not in job.message


def test_time_limit_acts_mid_epoch(many):
    job = TrainingJob(HEAVY, *many, time_limit=0.5).start()
    wait_for(lambda: job.training_started is not None)
    started = job.training_started
    assert job.join(30)
    assert time.monotonic() - started < 2.5
    assert job.status == "stopped" and job.limited and "limit" in job.message and "no epoch ran" in job.message


def test_stop_while_the_copies_are_built_acts_within_a_second_with_progress(digits):
    job = TrainingJob(HEAVY.replace(augment=8), digits.X_train, digits.y_train).start()
    wait_for(lambda: (job.preparing_progress or 0) > 0)
    assert job.status == "preparing" and 0 < job.preparing_progress < 0.2
    job.stop()
    assert seconds_to_end(job) < 2.0   # an epoch here takes several seconds
    assert job.status == "stopped" and job.model is None
    assert "prepared" in job.message and "last finished epoch" not in job.message


def test_the_engine_stopped_mid_epoch_keeps_the_last_finished_epoch(digits):
    run = mlp.train(TrainConfig(hidden_layer_sizes=(64,), epochs=5, seed=2), digits.X_train, digits.y_train)
    next(run)
    after_one = run.model.params.copy()
    step, steps = run.optimizer.step, []

    def step_then_stop(params, grads):   # stop() as another thread would call it, 3 batches into epoch 2
        step(params, grads)
        steps.append(1)
        if len(steps) == 3:
            run.stop()

    run.optimizer.step = step_then_stop
    assert list(run) == []
    assert len(steps) == 3, "the run went on past the batch it was stopped in"
    assert run.status == "stopped" and run.epoch == 1 and len(run.history) == 1
    np.testing.assert_array_equal(run.model.params, after_one)
    assert "last finished epoch" in run.message


def test_a_finished_job_lets_go_of_its_data_and_workspace(digits):
    job = TrainingJob(FAST.replace(shifts=True), digits.X_train, digits.y_train).start()
    assert job.join(60) and job.status == "completed"
    assert job._X is None and job._y is None and job._run is None and job.model is not None


def test_a_departed_visitors_run_and_finetune_stop_and_their_state_is_freed(digits, many):
    from ui import handwriting_core as hc

    registry = SessionRegistry(stop_after=2.0, free_after=15.0)
    here, gone = LabState(), LabState()
    for lab in (here, gone):
        lab.job = TrainingJob(HEAVY, digits.X_train, digits.y_train).start()
        lab.model = TrainedModel.from_run(mlp.train(FAST, digits.X_train, digits.y_train).run())
    hw = hc.Handwriting(digits.X_test[:12].astype(np.float32), digits.y_test[:12])
    gone.finetune = finetune = hc.FinetuneJob(gone.model, hw, *many, digits.X_test, digits.y_test)
    registry.touch("here", here, now=0.0)
    registry.touch("gone", gone, now=0.0)
    active = {"here"}.__contains__
    assert registry.sweep(active, now=1.0) == [] and not gone.job.stop_requested   # a blink is forgiven
    assert not finetune.done
    registry.sweep(active, now=2.5)
    assert gone.job.stop_requested and not here.job.stop_requested
    assert gone.job.join(5) and finetune.join(5) and finetune.result is None
    assert registry.sweep(active, now=16.0) == ["gone"]
    assert gone.job is None and gone.model is None and gone.runs == [] and len(registry) == 1
    assert here.model is not None and not here.job.done
    here.job.stop()
    assert here.job.join(5)


def test_release_frees_the_shelf_edits_views_and_finetune_and_stops_the_finetune(digits, many):
    """What used to wait in st.session_state for Streamlit's own two-minute expiry is the LabState's,
    so the sweeper's release() frees it, and a fine-tune training for nobody stops within a second."""
    from ui import handwriting_core as hc
    from ui import model_choice

    small = mlp.train(TrainConfig(hidden_layer_sizes=(256, 256), epochs=1), digits.X_train, digits.y_train).run()
    lab = LabState(model=TrainedModel.from_run(small), model_name="your run 1")
    hw = hc.Handwriting(digits.X_test[:12].astype(np.float32), digits.y_test[:12])
    lab.shelf = {"m1": ("Your run 1", lab.model)}
    model_choice.push_edit(lab, "m1", 0, 3, 0.0)
    lab.edited_model = (("m1", (((0, 3), 0.0),)), lab.model)
    lab.live_views = {"tiles": (("tiles", 1, 5, "now"), (b"png", 1.0), 0.0)}
    lab.finetune_result = object()
    lab.finetune = job = hc.FinetuneJob(lab.model, hw, *many, digits.X_test, digits.y_test)
    wait_for(lambda: job._run is not None)                             # training, an epoch of seconds ahead
    lab.release()
    assert lab.shelf == {} and lab.unit_edits == {} and lab.live_views == {}
    assert lab.edited_model is None and lab.finetune is None and lab.finetune_result is None
    assert lab.model is None and "cleared" in lab.notice[1]
    assert seconds_to_end(job) < 1.0 and job.result is None and job.error == "The fine-tune was stopped."


def test_a_visitor_who_comes_back_in_time_keeps_everything(digits):
    registry = SessionRegistry(stop_after=2.0, free_after=15.0)
    lab = LabState(model=TrainedModel.from_run(mlp.train(FAST, digits.X_train, digits.y_train).run()))
    registry.touch("s", lab, now=0.0)
    registry.sweep(lambda s: False, now=10.0)
    registry.sweep(lambda s: True, now=11.0)     # reconnected
    assert registry.sweep(lambda s: False, now=20.0) == [] and lab.model is not None


def test_a_model_loaded_while_a_run_trains_is_kept_when_the_run_ends(digits):
    lab = LabState()
    lab.job = TrainingJob(FAST, digits.X_train, digits.y_train).start()
    loaded = TrainedModel.from_run(mlp.train(FAST.replace(seed=9), digits.X_train, digits.y_train).run())
    lab.model, lab.model_name, lab.model_chosen = loaded, "file mine.npz", time.monotonic()
    assert lab.job.join(60)
    assert collect(lab, digits.X_test, digits.y_test)
    assert lab.model is loaded and lab.model_name == "file mine.npz"
    assert lab.runs[-1].test_accuracy is not None and "keeps file mine.npz" in lab.notice[1]


def test_the_run_history_is_bounded(digits):
    lab = LabState()
    for _ in range(MAX_RUNS + 3):
        lab.job = TrainingJob(FAST.replace(epochs=1), digits.X_train[:200], digits.y_train[:200]).start()
        assert lab.job.join(30)
        collect(lab, digits.X_test, digits.y_test)
    assert len(lab.runs) == MAX_RUNS and lab.runs[-1].id == lab.job.id


# ---- through the page (AppTest) -------------------------------------------------------------------

APP = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def at():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120).run()


def test_a_model_file_loaded_during_training_wins_on_the_page(at, digits):
    at.slider(key="epochs").set_value(200).run()
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    mine = TrainedModel.from_run(mlp.train(FAST, digits.X_train, digits.y_train).run())
    show_tab(at, "Inspect")
    at.file_uploader(key="model_file").set_value(("mine.npz", mlp.model_to_bytes(mine), "application/octet-stream"))
    at.run()
    assert lab.training and lab.model_name == "file mine.npz"
    show_tab(at, "Train")
    wait_for(lambda: len(lab.job.records) >= 1)
    lab.job.stop()                       # a stopped run with a finished epoch has a usable model
    assert lab.job.join(30)
    at.run()
    assert not at.exception
    assert lab.model_name == "file mine.npz" and lab.runs[-1].id == lab.job.id
    assert any("keeps file mine.npz" in e.value for e in at.info)


def test_an_error_inside_a_view_is_a_sentence_not_a_traceback(at, digits):

    lab = at.session_state["lab"]
    lab.model = TrainedModel.from_run(mlp.train(FAST, digits.X_train, digits.y_train).run())
    lab.model.network.weights[0] = np.zeros((3, 3))      # does not fit a digit's 64 pixels: predicting fails
    at.session_state["model_choice"] = "broken"
    lab.shelf = {"broken": ("Broken model", lab.model)}
    show_tab(at, "Inspect")
    assert not at.exception
    assert any("Something went wrong in the Inspect tab" in e.value for e in at.error)
    assert at.title[0].value == "MLP Lab"


def test_a_released_visitor_is_back_on_the_default_model_and_told_why(at, digits):
    from ui import model_choice

    lab = at.session_state["lab"]
    lab.model = TrainedModel.from_run(mlp.train(FAST, digits.X_train, digits.y_train).run())
    lab.model_name = "your run 1"
    show_tab(at, "Draw")
    key = next(iter(lab.shelf))
    at.radio(key="draw_model").set_value(key).run()
    model_choice.push_edit(lab, key, 0, 3, 0.0)          # a unit switched off: an edited copy answers
    at.run()
    assert at.session_state["model_choice"] == key and lab.edited_model is not None
    lab.release()                        # what the sweeper does FREE_AFTER_S after the page went away
    at.run()
    assert not at.exception and lab.shelf == {} and lab.edited_model is None
    assert at.radio(key="draw_model").value == "default" and at.session_state["model_choice"] == "default"
    show_tab(at, "Train")
    assert any("its runs and models were cleared" in e.value for e in at.info)


def test_a_hosts_setting_is_read_and_a_wrong_one_refused_by_name(monkeypatch):
    from ui.session import host_setting

    monkeypatch.delenv("MLP_LAB_FREE_AFTER_S", raising=False)
    assert host_setting("MLP_LAB_FREE_AFTER_S", 15.0) == 15.0
    monkeypatch.setenv("MLP_LAB_FREE_AFTER_S", " 2.5 ")
    assert host_setting("MLP_LAB_FREE_AFTER_S", 15.0) == 2.5
    for wrong in ("abc", "-1", "nan"):
        monkeypatch.setenv("MLP_LAB_FREE_AFTER_S", wrong)
        with pytest.raises(ValueError, match=f"MLP_LAB_FREE_AFTER_S must be a number ≥ 0, not '{wrong}'"):
            host_setting("MLP_LAB_FREE_AFTER_S", 15.0)
