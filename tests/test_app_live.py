"""The Train tab's live views and run controls in AppTest (no browser): they appear with a run,
show its network, and Pause / +1 epoch / Resume / slow motion reach the training thread.
AppTest runs no fragment ticks, so each test reruns the script itself."""
import re

from test_app import at, chart  # noqa: F401 -- `at`: the page in AppTest, with fresh caches
from test_safety_session import wait_for


def tiles_html(at) -> str:
    return next(h.proto.body for h in at.get("html") if "first layer's weights" in h.proto.body)


def strip_html(at) -> str:
    return next(h.proto.body for h in at.get("html") if 'class="right"' in h.proto.body
                or 'class="wrong"' in h.proto.body)


def captions(at) -> str:
    return " ".join(c.value for c in at.caption) + " " + " ".join(m.value for m in at.markdown)


def test_the_views_show_the_finished_run(at):
    at.slider(key="n_layers").set_value(2).run()
    at.slider(key="epochs").set_value(4).run()
    at.button(key="train").click().run()
    job = at.session_state["lab"].job
    assert job.join(120) and job.status == "completed"
    at.run()
    assert not at.exception
    assert "Inside the network · after epoch 4" in captions(at)
    health = chart(at, "health_chart")
    assert [t["name"] for t in health["data"] if t.get("showlegend", True)] == ["hidden 1", "hidden 2", "output"]
    assert len(health["data"][0]["y"]) == 4                          # one ratio per epoch
    dead = [t for t in health["data"] if t.get("yaxis") == "y2"]
    assert len(dead) == 2 and len(dead[0]["y"]) == 5                 # ReLU layers only, from epoch 0
    histograms = chart(at, "histogram_chart")
    assert len(histograms["data"]) == 6                              # start and now, per layer
    assert strip_html(at).count("<img") == 20
    assert "Red pixels add" in captions(at) and "CS231n" in captions(at)
    now = tiles_html(at)
    at.segmented_control(key="tiles_mode").set_value("change").run()
    change = tiles_html(at)
    assert change != now and "increased" in change and "Colour is how much each weight changed" in captions(at)


def test_pause_one_more_epoch_resume_and_slow_motion(at):
    at.toggle(key="slow_motion").set_value(True).run()
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    job = lab.job
    assert job.slow_motion
    wait_for(lambda: len(job.records) >= 1)
    at.run()
    assert not at.button(key="pause").disabled and at.button(key="step").disabled
    at.button(key="pause").click().run()
    assert job.paused
    wait_for(lambda: job.status == "paused")
    at.run()
    n = len(job.records)
    assert re.search(rf"Paused after epoch {n} / {job.config.epochs}", captions(at))
    assert not at.button(key="step").disabled and at.button(key="resume")
    at.button(key="step").click().run()
    wait_for(lambda: len(job.records) == n + 1 and job.status == "paused")
    at.toggle(key="slow_motion").set_value(False).run()
    assert not job.slow_motion
    at.button(key="resume").click().run()
    assert not job.paused
    assert job.join(120) and job.status == "completed"
    at.run()
    assert not at.exception and f"after epoch {job.config.epochs}" in captions(at)
