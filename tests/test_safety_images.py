"""Odd image uploads (issue 17): 16-bit and other wide modes are shown, not a traceback, and an
already-opened huge image gets ImageError like the byte path does."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mlp.preprocess import ImageError, image_to_digit
from st_helpers import show_tab
from ui.data import split_digits
from ui.draw import THUMB_SIDE, thumbnail

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def four(mode: str) -> Image.Image:
    """A held-out 4, 200 px tall, dark ink on white, in `mode` (16-bit modes span 0..65535)."""
    digits = split_digits()
    k = int(np.flatnonzero(digits.y_test == 4)[0])
    ink = np.kron(digits.X_test[k].reshape(8, 8) / 16, np.ones((25, 25)))
    if mode == "I;16":
        return Image.fromarray((65535 * (1 - ink)).astype(np.uint16))
    if mode == "I":
        return Image.fromarray((65535 * (1 - ink)).astype(np.int32))
    if mode == "F":
        return Image.fromarray((1 - ink).astype(np.float32), "F")
    return Image.fromarray((255 * (1 - ink)).astype(np.uint8), "L").convert(mode)


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode, fmt", [("I;16", "PNG"), ("I", "TIFF"), ("F", "TIFF"), ("CMYK", "JPEG"),
                                       ("P", "GIF"), ("LA", "PNG"), ("1", "BMP")])
def test_thumbnail_of_any_mode_is_a_displayable_8_bit_image(mode, fmt):
    thumb = thumbnail(encoded(four(mode), fmt))
    assert thumb is not None and thumb.mode in ("RGB", "RGBA") and max(thumb.size) <= THUMB_SIDE
    a = np.asarray(thumb.convert("L"), dtype=float)
    assert a.max() - a.min() > 100   # the digit is still visible: ink dark, paper light


def test_thumbnail_of_a_broken_file_is_none():
    assert thumbnail(b"\x89PNG not really") is None


def test_a_16_bit_upload_is_read_and_shown_without_a_traceback():
    at = show_tab(AppTest.from_file(APP, default_timeout=120).run(), "Draw")
    at.file_uploader(key="upload").set_value(("four16.png", encoded(four("I;16")), "image/png")).run()
    assert not at.exception
    prediction = " ".join(m.value for m in at.markdown)
    assert "It's a **4**" in prediction and "from the upload" in prediction
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert "Your upload" in captions


@pytest.mark.parametrize("size", [(5000, 5000), (20000, 10000)])
def test_an_already_opened_huge_image_gets_image_error(size):
    data = encoded(Image.new("1", size, 1))
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None    # the caller opened it under a laxer limit than ours
    try:
        opened = Image.open(io.BytesIO(data))
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    with pytest.raises(ImageError, match="too large"):
        image_to_digit(opened)
