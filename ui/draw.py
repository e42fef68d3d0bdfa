"""The Draw tab: a canvas and an image upload, the 8x8 image the network sees, its answer and
the ten probabilities. It all lives in one fragment, so a stroke reruns only this tab."""
from __future__ import annotations

import hashlib
import io

import numpy as np
import streamlit as st
from PIL import Image, ImageOps

from mlp.preprocess import BlankImageError, ImageError, digit_variants, variants_proba
from ui import charts, explain_view, handwriting, model_choice, texts
from ui.errors import guarded
from ui.session import LabState

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
CANVAS_SIDE = 280
THUMB_SIDE = 224   # px: the upload is shown 112 px wide, sharp on a HiDPI screen
TOOLBAR_ROOM = 44   # px above the canvas for its toolbar


REMOUNT = "canvas_remount"   # the Draw tab was closed: the canvas mounts afresh on the next visit


def show(state: LabState) -> None:
    st.fragment(guarded(_panel, "the Draw tab"))(state)


def closed() -> None:
    """The Draw tab is not drawn in this run (another tab is open): its canvas is unmounted."""
    st.session_state[REMOUNT] = True


def read_input(source, data) -> tuple:
    """((k, 8, 8) renderings or None, message or None) for canvas pixels or uploaded bytes.

    [0] is the digit exactly as `image_to_digit` makes it (what the page shows); the model's
    answer is its mean over all k renderings, which reads real handwriting better."""
    try:
        return digit_variants(data), None
    except BlankImageError:
        return None, "Draw a digit" if source == "canvas" else "This image looks empty: no digit found in it."
    except ImageError as e:
        return None, str(e)


def thumbnail(data: bytes) -> Image.Image | None:
    """A small RGB(A) copy of an uploaded image for display, whatever its mode (16-bit gray,
    float, CMYK, palette...), or None if it cannot be shown. Browsers and st.image take only
    8-bit images, so wide modes are stretched to 0..255."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.draft("RGB", (THUMB_SIDE, THUMB_SIDE))   # JPEG: decode at a fraction of the size
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I", "F") or im.mode.startswith("I;16"):
                a = np.asarray(im, dtype=np.float64)
                span = float(np.ptp(a)) or 1.0
                im = Image.fromarray(((a - a.min()) * (255.0 / span)).astype(np.uint8), "L")
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
            im.thumbnail((THUMB_SIDE, THUMB_SIDE))
            return im
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def _panel(state: LabState) -> None:
    from streamlit_drawable_canvas import st_canvas  # needs the Streamlit runtime; never import at module level

    ss = st.session_state
    choice = _choose_model(state)
    left, right = st.columns([1, 1.3], gap="large")
    with left:
        st.subheader("Draw a digit")
        st.caption("Draw one digit, large. Point at the canvas and its toolbar (undo, clear) appears above it.")
        # The toolbar slides up above the canvas on hover: a spacer keeps it off the caption, and
        # the stroke-width slider sits below the canvas, where the toolbar never goes.
        st.container(height=TOOLBAR_ROOM, border=False, key="toolbar_room")
        if ss.pop(REMOUNT, False):
            # Back from another tab: the canvas mounts again with the visitor's drawing on it (kept
            # fixed while the tab stays open: a changed initial drawing would redraw the canvas).
            ss["canvas_initial"] = ss.get("canvas_json")
        canvas = st_canvas(stroke_width=st.session_state.get("stroke_width", 22), stroke_color="#111111",
                           background_color="#ffffff", width=CANVAS_SIDE, height=CANVAS_SIDE,
                           initial_drawing=ss.get("canvas_initial"), return_image_data=True, key="canvas")
        st.slider("Stroke width", 8, 40, 22, key="stroke_width",
                  help="How thick the pen draws. Around 20 looks like a marker on 8×8 digits; very thin "
                       "strokes nearly vanish when the drawing shrinks to 8×8 pixels.")
        upload = st.file_uploader("…or upload a photo of one", type=UPLOAD_TYPES, key="upload")

    pixels = canvas.image_data
    if pixels is not None:
        ss["canvas_json"], ss["canvas_pixels"] = canvas.json_data, pixels
    elif ss.get("canvas_initial"):
        pixels = ss.get("canvas_pixels")   # the remounted drawing, until the canvas sends it again
    digest = hashlib.sha1(pixels.tobytes()).hexdigest() if pixels is not None else None
    if digest != ss.get("canvas_digest"):
        ss["canvas_digest"] = digest
        if digest is not None:
            ss["draw_source"] = "canvas"       # the drawing changed since the last run: it answers
    if upload is None:
        ss.pop("upload_id", None)
        ss["upload_digit"], ss["upload_error"], ss["upload_thumb"] = None, None, None
        if ss.get("draw_source") == "upload":
            ss["draw_source"] = "canvas"
    elif upload.file_id != ss.get("upload_id"):
        ss["upload_id"] = upload.file_id
        ss["upload_digit"], ss["upload_error"] = read_input("upload", upload.getvalue())
        ss["upload_thumb"] = thumbnail(upload.getvalue()) if ss["upload_digit"] is not None else None
        # A good upload answers; a bad one leaves the drawing (and its answer) as they were.
        ss["draw_source"] = "upload" if ss["upload_digit"] is not None else "canvas"

    source = ss.get("draw_source", "canvas")
    if source == "upload":
        digit, message = ss["upload_digit"], None
    else:
        digit, message = read_input("canvas", pixels) if pixels is not None else (None, "Draw a digit")
    upload_error = ss.get("upload_error") if upload is not None else None

    with right:
        if upload_error:
            st.error(f"Could not read {upload.name}: {upload_error}")
        with st.container(key="prediction"):
            _prediction(choice, source, digit, message, upload)
    if digit is not None:
        explain_view.show(state, choice, digit)


def _choose_model(state: LabState) -> model_choice.Chosen:
    """The model picker above the canvas, and what the visitor should know about the choice."""
    with st.container(key="answer_model"):
        choice = model_choice.selector(state, "draw_model", "Which model answers",
                                       help="The default model ships with MLP Lab; your runs and loaded files join "
                                            "the list. Training never changes this choice.")
        newest = model_choice.newest_other(state, choice.key)
        if newest:
            st.caption(f"{newest} is ready: pick it above to let it answer.")
        note = explain_view.augment_note(choice)
        if note:
            st.warning(note, icon="✏️")
    return choice


def _prediction(choice: model_choice.Chosen, source, variants, message, upload) -> None:
    if variants is None:
        st.subheader("Your digit will appear here" if message == "Draw a digit" else "No digit")
        st.caption(message if message != "Draw a digit" else
                   "Draw one on the canvas or upload a photo; the network's answer appears here.")
        return
    model = choice.model
    who = f"Answered by the **{choice.label.lower()}**" if choice.is_default else f"Answered by **{choice.label}**"
    who += " with your edits (see *Take it apart* below)." if choice.edits else "."
    proba = variants_proba(model, variants)
    digit = variants[0]
    classes = list(np.asarray(model.classes_ if hasattr(model, "classes_") else model.classes))
    best = int(np.argmax(proba))
    a, b = st.columns([1, 1.6])
    with a:
        st.image(charts.digit_image(digit, 14), caption="What the network sees (8×8)", width=112)
        thumb = st.session_state.get("upload_thumb")
        if source == "upload" and upload is not None and thumb is not None:
            st.image(thumb, caption="Your upload", width=112)
    threshold = st.session_state.get("confidence_threshold", 0.0)
    with b:
        if proba[best] < threshold:
            st.markdown("### I don't know")
            st.markdown(f"Best guess **{classes[best]}**, {proba[best]:.0%} sure: below your {threshold:.0%} "
                        "threshold (Inspect → Confidence)")
        else:
            st.markdown(f"### It's a **{classes[best]}**")
            st.markdown(f"{proba[best]:.0%} sure · from the {'upload' if source == 'upload' else 'drawing'}")
        st.caption(who)
    # Static: the bars carry their percentages, and a static chart draws faster after each stroke.
    st.plotly_chart(charts.probability_figure(proba, classes), key="proba_chart",
                    config={"displayModeBar": False, "staticPlot": True})
    st.caption(texts.PROBABILITIES)
    ss = st.session_state
    token = f"upload-{ss.get('upload_id')}" if source == "upload" else f"canvas-{ss.get('canvas_digest')}"
    handwriting.confirm(int(classes[best]), digit, token)
