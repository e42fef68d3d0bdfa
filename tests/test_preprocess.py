"""Tests for mlp.preprocess: any image in, an optdigits-style 8x8 array or ImageError out."""
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from mlp.preprocess import (
    INK_PIXELS,
    MASS_CENTRE,
    VARIANT_INK,
    VARIANT_WIDTHS,
    BlankImageError,
    ImageError,
    _deskew,
    digit_variants,
    image_to_digit,
    is_blank,
    normalise_ink,
    open_loops,
    predict_image_proba,
)

FIXTURES = Path(__file__).parent / "fixtures" / "handwriting"


def fixture_rows():
    with open(FIXTURES / "labels.csv", newline="") as handle:
        return [(row["filename"], int(row["label"])) for row in csv.DictReader(handle)]


def seven(size=(120, 160), ink=0, paper=255, box=(30, 20, 90, 140), width=9) -> Image.Image:
    """A gray picture of a 7: a bar and a slanted stem."""
    im = Image.new("L", size, paper)
    draw = ImageDraw.Draw(im)
    left, top, right, bottom = box
    draw.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=ink, width=width)
    return im


def png_bytes(im: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, **params)
    return buffer.getvalue()


def assert_digit(d):
    assert d.shape == (8, 8) and d.dtype == np.float64
    assert d.min() >= 0 and d.max() <= 16


# ---- real handwriting ---------------------------------------------------------------------

@pytest.mark.parametrize("filename,label", fixture_rows())
def test_fixture_images_give_full_height_digits(filename, label):
    d = image_to_digit(FIXTURES / filename)
    assert_digit(d)
    assert d[0].any() and d[7].any(), "ink should span all 8 rows, as in load_digits"
    # Stroke width is normalised to about INK_PIXELS on-pixels (thin "1"s widen a bit more).
    assert 0.7 * INK_PIXELS < d.sum() < 1.35 * INK_PIXELS


def test_canvas_and_photo_renderings_of_a_digit_agree():
    # The same MNIST digit as a transparent canvas and as a noisy, off-centre JPEG photo.
    # (The photo crops some digits at the edge, so one pair may differ more.)
    gaps = []
    for name, _ in fixture_rows():
        if name.startswith("canvas_rgba_"):
            photo = name.replace("canvas_rgba_", "photo_like_").replace(".png", ".jpg")
            gaps.append(np.abs(image_to_digit(FIXTURES / name) - image_to_digit(FIXTURES / photo)).mean())
    assert np.median(gaps) < 0.6 and max(gaps) < 3.0, gaps


# ---- input kinds and modes ----------------------------------------------------------------

def test_every_input_kind_gives_the_same_digit(tmp_path):
    im = seven()
    path = tmp_path / "seven.png"
    im.save(path)
    expected = image_to_digit(im)
    for source in (str(path), path, path.read_bytes(), np.asarray(im), np.asarray(im.convert("RGB"))):
        np.testing.assert_allclose(image_to_digit(source), expected)


def test_polarity_does_not_matter():
    dark_on_light = image_to_digit(seven(ink=20, paper=230))
    light_on_dark = image_to_digit(seven(ink=230, paper=20))
    assert np.abs(dark_on_light - light_on_dark).mean() < 0.5


def test_canvas_rgba_uses_alpha_as_ink():
    # The drawing canvas: white ink whose alpha is the stroke, on a transparent background.
    alpha = np.asarray(seven(ink=255, paper=0))
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = alpha
    assert np.abs(image_to_digit(rgba) - image_to_digit(seven())).mean() < 0.5


def test_position_and_size_do_not_matter():
    big = image_to_digit(seven(size=(400, 400), box=(100, 60, 300, 360), width=30))
    tiny_corner = image_to_digit(seven(size=(400, 400), box=(10, 10, 30, 40), width=3))
    assert np.abs(big - tiny_corner).mean() < 2.0


def test_specks_and_uneven_light_are_ignored():
    rng = np.random.default_rng(0)
    clean = image_to_digit(seven(ink=40, paper=200))
    im = np.asarray(seven(ink=40, paper=200), dtype=float)
    im += np.linspace(-40, 30, im.shape[1])[None, :]  # light falling off across the page
    im += rng.normal(0, 6, im.shape)
    im[5:8, 5:8] = 0  # a speck of dirt in a corner
    noisy = image_to_digit(np.clip(im, 0, 255).astype(np.uint8))
    assert np.abs(noisy - clean).mean() < 1.5


def test_exif_rotation_is_applied():
    upright = seven(size=(160, 160), box=(40, 20, 110, 140))
    sideways = upright.rotate(90, expand=True)  # stored rotated; Orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    data = png_bytes(sideways.convert("RGB"), format="JPEG", exif=exif, quality=95)
    assert np.abs(image_to_digit(data) - image_to_digit(upright)).mean() < 1.0


@pytest.mark.parametrize("mode", ["I;16", "I", "CMYK", "P", "LA", "1"])
def test_other_modes_are_converted(mode):
    im = seven()
    if mode in ("I;16", "I"):
        im = Image.fromarray(np.asarray(im).astype(np.uint16) * 257)  # 16-bit gray, mode I;16
        im = im if mode == "I;16" else im.convert("I")
        assert im.mode == mode
    else:
        im = im.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    d = image_to_digit(im if mode == "I" else png_bytes(im, format=fmt))  # PNG cannot hold I
    assert np.abs(d - image_to_digit(seven())).mean() < 1.0


def test_animated_gif_uses_first_frame():
    frames = [seven().convert("P"), Image.new("P", (120, 160), 255)]
    data = png_bytes(frames[0], format="GIF", save_all=True, append_images=frames[1:])
    assert np.abs(image_to_digit(data) - image_to_digit(seven())).mean() < 1.0


# ---- bad inputs ---------------------------------------------------------------------------

def test_bad_files_raise_image_error_with_a_message():
    png = png_bytes(seven(), format="PNG")
    cases = {
        b"": "empty",
        b"hello, this is text": "not an image",
        png[: len(png) // 2]: "damaged",
        png_bytes(seven(), format="TIFF"): "not an image",
    }
    for data, words in cases.items():
        with pytest.raises(ImageError, match=words):
            image_to_digit(data)


def test_missing_path_and_wrong_types_raise_image_error(tmp_path):
    with pytest.raises(ImageError, match="No image file"):
        image_to_digit(tmp_path / "nothing.png")
    with pytest.raises(ImageError):
        image_to_digit(12345)
    with pytest.raises(ImageError):
        image_to_digit(np.zeros((5, 5, 2)))


def test_decompression_bomb_is_refused():
    bomb = png_bytes(Image.new("1", (5000, 5000)), format="PNG")  # 25 Mpx in a few kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="too large"):
        image_to_digit(bomb)


def test_a_phone_sized_jpeg_is_decoded_at_reduced_scale():
    # 12 Mpx is over our 4 Mpx limit, but a JPEG can be decoded at half size (3 Mpx).
    photo = seven().resize((4032, 3024)).convert("RGB")
    small = seven().resize((403, 302))
    assert np.abs(image_to_digit(png_bytes(photo, format="JPEG")) - image_to_digit(small)).mean() < 1.5


@pytest.mark.parametrize("image", [
    Image.new("L", (50, 50), 255),
    Image.new("L", (50, 50), 0),
    Image.new("RGB", (80, 60), (120, 200, 30)),
    np.zeros((280, 280, 4), np.uint8),  # the empty drawing canvas
])
def test_blank_images_are_blank(image):
    with pytest.raises(BlankImageError, match="No digit found"):
        image_to_digit(image)
    assert is_blank(image)


def test_a_digit_is_not_blank():
    assert not is_blank(seven())


# ---- properties ---------------------------------------------------------------------------

def assert_digit_or_image_error(image):
    """image_to_digit gives a valid 8x8 digit or raises ImageError with a message; nothing else."""
    try:
        d = image_to_digit(image)
    except ImageError as exc:
        assert str(exc)
    else:
        assert_digit(d)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    height=st.integers(1, 90), width=st.integers(1, 90),
    channels=st.sampled_from([0, 3, 4]),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float64, bool]),
    seed=st.integers(0, 2**32 - 1), sparsity=st.floats(0, 1),
)
def test_any_array_gives_a_digit_or_image_error(height, width, channels, dtype, seed, sparsity):
    rng = np.random.default_rng(seed)
    shape = (height, width) + ((channels,) if channels else ())
    a = rng.random(shape) * (rng.random(shape) < sparsity)
    top = 255 if dtype is np.uint8 else 65535 if dtype is np.uint16 else 1
    a = (a > 0.5) if dtype is bool else (a * top).astype(dtype)
    assert_digit_or_image_error(a)


@settings(max_examples=25, deadline=None)
@given(mode=st.sampled_from(["L", "RGB", "RGBA", "P", "LA", "CMYK", "I;16"]),
       size=st.tuples(st.integers(1, 120), st.integers(1, 120)),
       fmt=st.sampled_from(["PNG", "JPEG", "WEBP", "BMP", "GIF"]), seed=st.integers(0, 10**6))
def test_any_encoded_image_gives_a_digit_or_image_error(mode, size, fmt, seed):
    rng = np.random.default_rng(seed)
    im = Image.fromarray((rng.random(size[::-1]) > 0.8).astype(np.uint8) * 255, "L").convert(mode)
    try:
        data = png_bytes(im, format=fmt)
    except (OSError, ValueError, KeyError):
        return  # Pillow cannot write this mode in this format; nothing to test
    assert_digit_or_image_error(data)


def test_normalise_ink_fills_rows_and_hits_the_ink_target():
    ink = np.zeros((3, 64, 64))
    ink[0, 10:50, 30:34] = 1  # a thin "1"
    ink[1, 5:60, 5:60] = 1
    ink[1, 15:50, 15:50] = 0  # a square "0"
    out = normalise_ink(ink)
    assert out.shape == (3, 8, 8)
    for d in out[:2]:
        assert d[0].any() and d[7].any()
        assert abs(d.sum() - INK_PIXELS) < 40
    assert not out[2].any(), "no ink in, no ink out"


# ---- test-time variants -------------------------------------------------------------------

def test_digit_variants_start_with_the_plain_digit_and_vary_ink_and_width():
    name, _ = fixture_rows()[0]
    variants = digit_variants(FIXTURES / name)
    assert variants.shape == (len(VARIANT_INK) + len(VARIANT_WIDTHS), 8, 8)
    np.testing.assert_array_equal(variants[0], image_to_digit(FIXTURES / name))
    for d in variants:
        assert_digit(d)
    inks = variants[:len(VARIANT_INK)].sum(axis=(1, 2))
    assert inks.min() < inks[0] < inks.max(), "thinner and thicker strokes than the plain one"
    assert len({d.tobytes() for d in variants}) == len(variants)
    with pytest.raises(BlankImageError):
        digit_variants(np.zeros((50, 50)))


class _CountingModel:
    """A stand-in with predict_proba: probability mass grows with the ink in the top rows."""

    def predict_proba(self, X):
        top = X.reshape(-1, 8, 8)[:, :2].sum(axis=(1, 2))
        return np.stack([top, 500 - top], axis=1) / 500


def test_predict_image_proba_averages_the_variants():
    image = seven()
    expected = _CountingModel().predict_proba(digit_variants(image).reshape(-1, 64)).mean(axis=0)
    got = predict_image_proba(_CountingModel(), image)
    np.testing.assert_allclose(got, expected)
    assert got.shape == (2,) and abs(got.sum() - 1) < 1e-9


# ---- centring on the centre of mass (the input path only) ------------------------------------


def _hooked_bar():
    """A 64x64 ink map: a thick vertical bar with a thin hook running off to the right at the top."""
    ink = np.zeros((64, 64))
    ink[4:60, 20:30] = 1.0          # the body
    ink[4:8, 30:50] = 1.0           # the hook
    return ink


def _column_centre(digit):
    cols = digit.sum(axis=0)
    return float(cols @ np.arange(8) / cols.sum())


def test_centre_shift_moves_the_body_to_the_middle():
    ink = _hooked_bar()[None]
    box = normalise_ink(ink)[0]
    mass = normalise_ink(ink, centre_shift=MASS_CENTRE)[0]
    assert abs(_column_centre(mass) - 3.5) < abs(_column_centre(box) - 3.5)
    assert box.sum() > 0 and abs(mass.sum() - box.sum()) < 0.1 * box.sum()


def test_centre_shift_is_off_by_default_and_on_in_the_input_path():
    ink = _hooked_bar()
    assert np.array_equal(normalise_ink(ink[None]), normalise_ink(ink[None], centre_shift=0.0))
    assert MASS_CENTRE > 0
    drawn = image_to_digit((ink * 255).astype(np.uint8))
    assert abs(_column_centre(drawn) - 3.5) < abs(_column_centre(normalise_ink(ink[None])[0]) - 3.5)


def _looped(hole_left, hole_width, hole_top=44, hole_height=8, side=64):
    """A 64x64 ink map: a full-height stem (columns 28-35) and an 8 px wide ring around a hole."""
    ink = np.zeros((side, side))
    ink[:, 28:36] = 1.0
    ink[hole_top - 8:hole_top + hole_height + 8, hole_left - 8:hole_left + hole_width + 8] = 1.0
    ink[hole_top:hole_top + hole_height, hole_left:hole_left + hole_width] = 0.0
    return ink


def test_open_loops_widens_a_small_loop_right_of_the_stem():
    ink = _looped(hole_left=40, hole_width=8)        # 8x8 px at 64 = 16 px of 32: small
    opened = open_loops(ink)
    assert (opened <= ink).all() and (opened[44:52, 40:48] == 0).all()
    removed = (ink >= 0.5) & (opened < 0.5)
    assert 0 < removed.sum() <= 12 * 12 - 8 * 8       # about 2 px (1 px of 32) around the hole
    assert removed[42:54, 38:50].sum() == removed.sum()


def test_open_loops_leaves_big_loops_and_open_shapes_alone():
    big = _looped(hole_left=36, hole_width=20)       # 8x20 at 64 = 40 px of 32: too big
    open_shape = np.zeros((64, 64))
    open_shape[:, 20:28] = 1.0
    for ink in (big, open_shape, np.zeros((64, 64))):
        assert np.array_equal(open_loops(ink), ink)


def test_open_loops_fills_a_low_curl_on_the_left():
    curl = _looped(hole_left=14, hole_width=6)       # centre at 35% of the width: a 2's curl
    opened = open_loops(curl)
    assert (opened[44:52, 14:20] == 1.0).all()
    assert np.array_equal(opened[curl >= 0.5], curl[curl >= 0.5])
    high = np.flipud(curl)                            # the same hole high up is left alone
    assert np.array_equal(open_loops(high), high)


def test_open_loops_hollows_a_solid_blob():
    ink = np.zeros((64, 64))
    ink[:, 40:46] = 1.0                               # a thin stem
    yy, xx = np.mgrid[0:64, 0:64]
    ink[(yy - 44) ** 2 + (xx - 30) ** 2 <= 16 ** 2] = 1.0   # a solid disc at its foot
    opened = open_loops(ink)
    assert (opened <= ink).all()
    assert opened[44, 30] == 0.0 and (opened[:20, 40:46] == 1.0).all()


def test_the_input_path_opens_loops():
    ink = _looped(hole_left=40, hole_width=8)
    drawn = image_to_digit((ink * 255).astype(np.uint8))
    plain = normalise_ink(ink[None], centre_shift=MASS_CENTRE)[0]
    opened = normalise_ink(open_loops(ink)[None], centre_shift=MASS_CENTRE)[0]
    assert not np.array_equal(plain, opened)
    np.testing.assert_array_equal(drawn, opened)


# ---- deskewing at the edge ------------------------------------------------------------------

def _slanted_o(left=0):
    """A 64x64 ink map: a wide, slanted ring whose leftmost ink is in column `left`."""
    yy, xx = np.mgrid[0:64, 0:64].astype(float)
    u, v = (xx - 32 - 0.3 * (yy - 32)) / 26, (yy - 32) / 28
    ring = (np.abs(np.hypot(u, v) - 0.8) < 0.15).astype(float)
    return np.roll(ring, left - int(np.flatnonzero(ring.any(axis=0))[0]), axis=1)


def test_deskew_moves_ink_along_rows_without_adding_any():
    ink = _slanted_o()[None]
    assert ink[0, :, 0].any() and not ink[0, :, -1].any(), "the ring touches the left edge only"
    sheared = _deskew(ink, 1.0)
    assert not np.allclose(sheared[0, :, 16:80], ink[0]), "a slanted ring is sheared"
    # A shear only slides each row sideways, and linear interpolation keeps a row's sum.
    np.testing.assert_allclose(sheared.sum(axis=2), ink.sum(axis=2), atol=1e-9)


def test_a_digit_touching_the_left_edge_renders_as_one_clear_of_it():
    edge, clear = _slanted_o(left=0), _slanted_o(left=4)
    assert edge[:, 0].any() and not clear[:, :4].any()
    difference = np.abs(normalise_ink(edge[None]) - normalise_ink(clear[None])).sum()
    assert difference <= 4, difference   # 8x8 counts; ~340 in all
