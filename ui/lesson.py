"""The blog post's lesson: one click trains the post's network with the MSE gradient it published
and with the correct one, one after the other, and shows the two results side by side."""
from __future__ import annotations

import streamlit as st

from ui import texts
from ui.presets import PRESETS
from ui.session import LabState, TrainingJob

POST = "The original blog post"
LABELS = {"mse_as_published": "The post's gradient, σ′ at the output", "mse": "The correct gradient, σ′ at the input"}


def configs() -> list:
    """The two runs of the lesson: the post as published, then the same with the correct MSE."""
    post = PRESETS[POST].config
    return [post, post.replace(loss="mse")]


def _start(state: LabState, config, digits) -> int:
    from ui.training_view import training_queue  # the server's one queue, as the Train button uses

    state.job = TrainingJob(config, digits.X_train, digits.y_train, training_queue(),
                            run_id=state.next_run_id()).start()
    state.notice = None
    return state.job.id


def start(state: LabState, digits) -> None:
    """Button callback: train the first of the lesson's runs; `advance` starts the second."""
    first, *rest = configs()
    st.session_state["lesson"] = {"ids": [_start(state, first, digits)], "pending": rest}


def advance(state: LabState, digits) -> bool:
    """Once the lesson's current run has ended and joined the history, start its next one."""
    lesson = st.session_state.get("lesson")
    if not lesson or not lesson["pending"] or state.training:
        return False
    if not any(r.id == lesson["ids"][-1] for r in state.runs):
        return False                      # not collected yet
    if state.job is None or state.job.id != lesson["ids"][-1]:
        lesson["pending"] = []            # the visitor started a run of their own meanwhile: give up
        return False
    lesson["ids"].append(_start(state, lesson["pending"].pop(0), digits))
    return True


def show(state: LabState, digits) -> None:
    lesson = st.session_state.get("lesson")
    active = bool(lesson and (lesson["pending"] or state.training))
    with st.expander(f"The {texts.POST_YEAR} blog post's lesson: a wrong derivative that helped",
                     expanded=bool(lesson) or st.session_state.get("preset") == POST), \
            st.container(key="post_lesson"):
        st.markdown(f"This lab started from {texts.POST_LINK}. Its network (64-15-10, ReLU then sigmoid, "
                    "mean squared error) learned well, but its MSE gradient had a slip. One click trains "
                    "it both ways, one after the other, on the same digits and seed.")
        st.button("Train the post's network both ways", key="lesson_train", on_click=start,
                  args=(state, digits), disabled=state.training, type="secondary")
        runs = {r.id: r for r in state.runs}
        done = [runs[i] for i in (lesson or {}).get("ids", []) if i in runs]
        if lesson:
            cols = st.columns(2)
            for col, config in zip(cols, configs()):
                run = next((r for r in done if r.config.loss == config.loss), None)
                with col:
                    if run is None:
                        col.metric(LABELS[config.loss], "training…" if active else "–")
                    else:
                        acc = "–" if run.test_accuracy is None else f"{run.test_accuracy:.1%}"
                        col.metric(LABELS[config.loss], acc, help=f"Run {run.id}: held-out accuracy")
        st.markdown(f"**Why?** {texts.POST_REASON}")
        if len(done) == 2:
            st.caption("Both runs are in the run history below: pick the *validation accuracy* curve to "
                       "watch the correct gradient stall.")
