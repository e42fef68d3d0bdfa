"""Your own handwriting, on the Draw tab: "Right?" under each answer, the confirmed and corrected
drawings as the visitor's own small data set (a grid to prune, a file to download and load again),
how well the current model reads them, and a one-click fine-tune with before/after.

Everything is this visitor's: the digits and small values in `st.session_state`, the fine-tune
and its result (models) in their LabState, freed with it when they leave. Nothing reaches another
visitor or the shared default model (the fine-tune trains a copy). The logic is in `ui.handwriting_core`.
"""
from __future__ import annotations

import base64
import io
import time

import numpy as np
import streamlit as st
from PIL import Image

from ui import charts, model_choice
from ui import handwriting_core as core
from ui.session import LabState, evaluate

KEY = "handwriting"


def collection() -> core.Handwriting:
    """This visitor's set (created empty on first use)."""
    return st.session_state.setdefault(KEY, core.Handwriting())


def current_model(state: LabState):
    """The model that answers on Draw (the visitor's choice, with any switched-off units)."""
    return model_choice.chosen(state).model


def confirm(answer: int, digit, token: str) -> None:
    """Under an answer: one click says it is right, one click on another digit corrects it; either
    adds the 8×8 digit with that label to the visitor's set. `token` names this drawing or upload,
    so each is added once."""
    ss = st.session_state
    hw = collection()
    with st.container(key="hw_confirm"):
        if ss.get("hw_token") == token:
            st.caption(f"Added to your digits as a **{ss['hw_label']}** ({len(hw)} so far, below). "
                       "Clear the canvas and draw another.")
            return
        if hw.full:
            st.caption(f"Your set is full ({core.MAX_DIGITS} digits): remove some below to add more.")
            return
        st.markdown("**Right?** Your answer adds this digit to your own set below.")
        label = None
        if st.button(f"✓ Yes, it's a {answer}", key="hw_yes"):
            label = answer
        fix = st.segmented_control("No, it's a…", [d for d in range(10) if d != answer],
                                   key=f"hw_fix_{token[:12]}")
        if fix is not None:
            label = int(fix)
        if label is not None:
            hw.add(digit, label)
            ss["hw_token"], ss["hw_label"] = token, label
            st.rerun()    # the whole page: the set below shows the new digit


def _png_url(x) -> str:
    out = io.BytesIO()
    Image.fromarray(charts.digit_image(x, 4)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def show(state: LabState, digits) -> None:
    hw = collection()
    st.divider()
    st.subheader("Your own handwriting")
    st.caption("The default model learned from scikit-learn's 1,797 digits, written by a few dozen people, "
               "so styles it never saw trip it up. Answer **Right?** under each drawing and your digits "
               "collect here (only in this browser tab, never shared). Then teach the model your style.")
    left, right = st.columns([1.4, 1], gap="large")
    with right:
        _files(hw)
    with left:
        if not len(hw):
            st.info("No digits yet: draw one above and answer **Right?**, or load a file of your digits.")
            return
        _table(state, hw)
    _finetune(state, hw, digits)


def _table(state: LabState, hw: core.Handwriting) -> None:
    import pandas as pd

    model = current_model(state)
    read = np.asarray(model.predict(hw.X))
    right = int(np.sum(read == hw.y))
    st.metric("The current model reads", f"{right} of {len(hw)} of your digits ({right / len(hw):.0%})",
              help="Every digit in your set, read by the model that answers above (a fine-tuned model "
                   "has trained on some of them: the fine-tune's own test below is the fair one).")
    frame = pd.DataFrame({"digit": [_png_url(x) for x in hw.X], "label": hw.y, "read as": read,
                          "right?": np.where(read == hw.y, "✓", "✗")})
    event = st.dataframe(frame, key="hw_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                         height="content" if len(hw) <= 10 else 420, row_height=40, width="stretch",
                         column_config={"digit": st.column_config.ImageColumn("digit", width="small")})
    rows = event["selection"]["rows"] if event else []        # item access: AppTest injects plain dicts
    if st.button(f"Remove {len(rows)} selected" if rows else "Remove selected", key="hw_remove",
                 disabled=not rows, help="Tick rows in the table (left edge) to remove drawings that went wrong."):
        hw.remove(rows)
        st.session_state.pop("hw_table", None)
        st.rerun()


def _files(hw: core.Handwriting) -> None:
    if len(hw):
        st.download_button(f"Download your {len(hw)} digits (.npz)", core.to_bytes(hw),
                           file_name=f"my-digits-{len(hw)}.npz", mime="application/octet-stream",
                           key="hw_download", help="Plain arrays, no pickle: load it here again later.")
    f = st.file_uploader("Load a file of your digits", type=["npz"], key="hw_file",
                         help=f"A file downloaded here (at most {core.MAX_DIGITS} digits). "
                              "Adds its digits to your set.")
    ss = st.session_state
    if f is not None and ss.get("hw_file_id") != f.file_id:
        ss["hw_file_id"] = f.file_id
        try:
            added = hw.extend(core.from_bytes(f.getvalue()))
            ss["hw_file_note"] = ("success", f"Added {added} digits from {f.name}.")
        except core.HandwritingFileError as e:
            ss["hw_file_note"] = ("error", f"Could not load {f.name}: {e}.")
        st.rerun()
    if f is not None and ss.get("hw_file_note"):
        kind, text = ss["hw_file_note"]
        getattr(st, kind)(text)


def collect(state: LabState, digits) -> bool:
    """If a fine-tune has ended: its model becomes this visitor's (or its error is kept to show)."""
    ss = st.session_state
    job = state.finetune
    if job is None or not job.done:
        return False
    state.finetune = None
    if job.error:
        ss["hw_error"] = job.error
        return True
    result = job.result
    state.model = result.model
    state.model_name = f"{ss.pop('hw_job_name', 'the model')} + your {result.n_trained} digits"
    state.evaluation = evaluate(result.model, digits.X_test, digits.y_test)
    state.finetune_result, ss["hw_error"] = result, None
    return True


def _progress(state: LabState, digits) -> None:
    """Ticks while the fine-tune trains; reruns the page once it has ended."""
    if collect(state, digits):
        st.rerun(scope="app")
    job = state.finetune
    if job is not None:
        st.caption(f"⚙️ Fine-tuning on your digits… ({time.monotonic() - job.started:.0f} s)")


def _finetune(state: LabState, hw: core.Handwriting, digits) -> None:
    ss = st.session_state
    enough = len(hw) >= core.MIN_TO_FINETUNE
    st.markdown("**Teach the model your style**")
    st.caption(f"Continues training a copy of the current model for {core.FINETUNE_EPOCHS} epochs on the "
               f"training digits plus your own, repeated so they make up about {core.OWN_SHARE:.0%} of what it "
               f"sees. {core.TEST_SHARE:.0%} of your digits are kept apart to test it fairly."
               + ("" if enough else f" Needs at least {core.MIN_TO_FINETUNE} digits."))
    job = state.finetune
    if st.button("Fine-tune on my digits", key="hw_finetune", type="primary",
                 disabled=not enough or state.training or job is not None):
        name = state.model_name if state.model is not None else "the default model"
        state.finetune = job = core.FinetuneJob(current_model(state), hw, digits.X_train, digits.y_train,
                                                digits.X_test, digits.y_test)
        ss["hw_job_name"] = name
    if job is not None:
        st.fragment(run_every=None if job.done else 0.5)(_progress)(state, digits)
    if ss.get("hw_error"):
        st.error(ss["hw_error"])
    result = state.finetune_result
    if result is None:
        return
    import pandas as pd

    st.dataframe(pd.DataFrame({
        "tested on": [f"your {result.n_own_test} digits kept apart", f"{len(digits.y_test)} held-out load_digits"],
        "before": [result.own_before, result.digits_before], "after": [result.own_after, result.digits_after],
    }), hide_index=True, key="hw_before_after", column_config={
        "before": st.column_config.NumberColumn(format="percent"),
        "after": st.column_config.NumberColumn(format="percent")})
    st.caption("Your kept-apart digits show the gain; held-out load_digits shows any cost. The fine-tuned "
               "model now answers on every tab; the shared default model is unchanged.")
