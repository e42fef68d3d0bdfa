"""Turn a drawn or photographed digit into an 8x8 load_digits-style array.

`load_digits` (UCI optdigits) cropped each scanned digit to its bounding box, scaled it into a
32x32 binary bitmap and counted the ink in 4x4 blocks (0..16 per cell). `image_to_digit`
repeats those steps on any image; `normalise_ink`, the last stage, is shared with
`mlp.augment` so training and input render alike. Every step and the measurements behind its
constants: docs/image-path.md.
"""

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
# Our own decoded-pixel limit, far below Pillow's global one (~89 Mpx); checked per open so no
# global state changes. JPEGs are decoded at reduced scale first (draft), so phone photos pass.
MAX_PIXELS = 4_000_000
WORK_SIDE = 200        # longest side (px) at which we threshold and find connected components
NORM_SIDE = 64         # side (px) of the square ink map handed to `normalise_ink`
BITMAP = 32            # optdigits bitmap side (px)
BOX_WIDTH = 20.0       # widest digit (px of 32), measured from load_digits column spans
WIDTH_GAIN = 1.6       # thin digits are widened: width = min(BOX_WIDTH, gain * aspect * 32)
MIN_WIDTH = 6.0        # narrowest digit (px of 32)
INK_PIXELS = 340       # on-pixels per 32x32 bitmap (load_digits: 310 +- 35); best on the dev set
BLUR_SIGMA = 0.8       # px at 32x32; lets the ink-count threshold thicken thin strokes
SPECK_FRACTION = 0.05  # components smaller than this share of the largest one are specks
DESKEW = 1.0           # share of the moment slant sheared away (0 = off)
SLANT_TARGET = 0.0     # slant (x px per y px) that digits are sheared to
MASS_CENTRE = 4.0      # input path: px of 32 the box may move to centre the ink's mass
# `open_loops` (input path only), sizes in px of a 32-row digit: hollow ink deeper than
# BLOB_DEPTH half-strokes if BLOB_AREA px of it; widen holes of LOOP_AREA px right of
# LOOP_MIN_X of the width by LOOP_GROW px; fill holes left of it below CURL_MIN_Y (2s' curls).
BLOB_DEPTH = 2.0
BLOB_AREA = 2.0
LOOP_GROW = 1.0
LOOP_AREA = (2.0, 37.5)
LOOP_MIN_X = 0.4
CURL_MIN_Y = 0.6
# scipy.ndimage is imported in the functions that use it: at module level it adds ~0.4 s to
# `import mlp`.
EIGHT = np.ones((3, 3), bool)                            # 8-connected: ink
FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)   # 4-connected: background


class ImageError(ValueError):
    """An input we cannot turn into a digit; the message is meant for the user."""


class BlankImageError(ImageError):
    """The image holds no digit (empty canvas, plain paper, all black)."""


def image_to_digit(image) -> np.ndarray:
    """Return the digit in `image` as an (8, 8) float64 array of 0..16 block counts.

    `image` is a PIL image, raw file bytes, a path (str or Path), or a numpy array of shape
    (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA. Raises BlankImageError when there is no
    digit and ImageError for anything unreadable.
    """
    ink = _ink_map(_to_pil(image))
    crop = _digit_crop(ink)
    return normalise_ink(open_loops(_square(crop))[None], centre_shift=MASS_CENTRE)[0]


# Test-time variants: thinner and thicker strokes, narrower and wider boxes (averaged by
# `predict_image_proba`).
VARIANT_INK = (280, INK_PIXELS, 400)
VARIANT_WIDTHS = (18.0, 22.0)


def digit_variants(image) -> np.ndarray:
    """Return (k, 8, 8) float64 renderings of the digit in `image`, 0..16; [0] is image_to_digit's.

    The crop is rendered with each stroke target in VARIANT_INK and, at INK_PIXELS, each box
    width in VARIANT_WIDTHS. Raises the same errors as `image_to_digit`.
    """
    square = open_loops(_square(_digit_crop(_ink_map(_to_pil(image)))))[None]
    inks = sorted(VARIANT_INK, key=lambda v: v != INK_PIXELS)  # the plain rendering first
    parts = [normalise_ink(square, ink, centre_shift=MASS_CENTRE) for ink in inks]
    parts += [normalise_ink(square, box_width=width, centre_shift=MASS_CENTRE)
              for width in VARIANT_WIDTHS]
    return np.concatenate(parts)


def predict_image_proba(model, image) -> np.ndarray:
    """Class probabilities (n_classes,) for the digit in `image`, averaged over its variants.

    `model` is anything with ``predict_proba`` taking (n, 64) rows on the 0..16 scale (a
    TrainedModel, an MLPClassifier, default_model()). Raises ImageError / BlankImageError.
    """
    return variants_proba(model, digit_variants(image))


def variants_proba(model, variants: np.ndarray) -> np.ndarray:
    """Class probabilities (n_classes,): the mean of ``model``'s over (k, 8, 8) variants."""
    proba = np.asarray(model.predict_proba(np.asarray(variants).reshape(-1, 64)), dtype=np.float64)
    return proba.mean(axis=0)


def is_blank(image) -> bool:
    """True when `image` (any input `image_to_digit` accepts) holds no digit."""
    try:
        image_to_digit(image)
    except BlankImageError:
        return True
    return False


# ----------------------------------------------------------------------------- opening

def _to_pil(image) -> Image.Image:
    """Open any accepted input as a loaded, upright PIL image."""
    if isinstance(image, Image.Image):
        return _decode(image)
    if isinstance(image, np.ndarray):
        return _from_array(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise ImageError(f"No image file at {path}.")
        data = path.read_bytes()
    else:
        raise ImageError(f"Cannot read an image from a {type(image).__name__}.")
    if not data:
        raise ImageError("The file is empty (0 bytes).")
    return _decode(io.BytesIO(data))


def _decode(source) -> Image.Image:
    """Open (a file-like object) or finish loading (a PIL image), as ImageError on failure."""
    with warnings.catch_warnings():
        # A decompression bomb is refused, not merely warned about. (catch_warnings swaps
        # the process-wide filters for the duration; Pillow's own limit still applies.)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = source if isinstance(source, Image.Image) else Image.open(source, formats=FORMATS)
            if im.format == "JPEG":
                im.draft(im.mode, (1024, 1024))  # decode big photos at 1/2..1/8 scale
            _check_size(im)
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # animations (GIF, WebP, APNG): the first frame
            im.load()
            return ImageOps.exif_transpose(im)
        except ImageError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise ImageError("The image is too large to process.") from exc
        except UnidentifiedImageError as exc:
            raise ImageError("This file is not an image we can read "
                             "(PNG, JPEG, WebP, BMP or GIF).") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError("The image file is damaged or incomplete.") from exc


def _check_size(im: Image.Image) -> Image.Image:
    """Refuse images with more than MAX_PIXELS pixels or no pixels at all."""
    width, height = im.size
    if width * height > MAX_PIXELS:
        raise ImageError("The image is too large to process.")
    if width * height == 0:
        raise ImageError("The image has no pixels.")
    return im


def _from_array(array: np.ndarray) -> Image.Image:
    """Wrap a bool/int/float (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array as a PIL image."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    modes = {1: "L", 3: "RGB", 4: "RGBA"}  # by channel count
    key = 1 if a.ndim == 2 else (a.shape[2] if a.ndim == 3 else 0)
    if key not in modes:
        raise ImageError(f"Expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {a.shape}.")
    if a.shape[0] * a.shape[1] == 0:
        raise ImageError("The image has no pixels.")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise ImageError("The image is too large to process.")
    return Image.fromarray(_to_uint8(a), modes[key])


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """uint8 pixels from bool, float (0..1, or 0..255 if larger) or integer (scaled if > 255)."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ImageError(f"Cannot read pixels of type {a.dtype}.")
    f = a.astype(np.float64)
    if not np.isfinite(f).all():
        raise ImageError("The image has invalid (NaN or infinite) pixels.")
    top = f.max(initial=0.0)
    if np.issubdtype(a.dtype, np.floating) and top <= 1.0:
        f = f * 255.0
    elif top > 255.0:
        f = f * (255.0 / top)  # e.g. 16-bit scans
    return np.clip(np.rint(f), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- ink map

def _ink_map(im: Image.Image) -> np.ndarray:
    """Return a float (H, W) map in [0, 1], 1 = ink, at most WORK_SIDE px on its long side.

    Transparent images use alpha as ink (a canvas stroke); opaque ones are flattened to gray,
    their smooth background is subtracted and the ink polarity is detected.
    """
    im = _shrink(_standard_mode(im))
    if im.mode == "RGBA":
        rgba = np.asarray(im, dtype=np.float64) / 255.0
        alpha = rgba[:, :, 3]
        if alpha.min() < 0.9 and _opaque_is_plain(rgba):
            return _stretch(alpha)
        gray = np.asarray(_flatten(im).convert("L"), dtype=np.float64) / 255.0
    else:
        gray = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    return _gray_ink(gray)


def _standard_mode(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to L, RGB or RGBA (16-bit and float scaled by their range)."""
    if im.mode in ("L", "RGB", "RGBA"):
        return im
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return Image.fromarray(_to_uint8(np.asarray(im, dtype=np.float64)), "L")
    if im.mode in ("LA", "PA", "P", "RGBa", "La") or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, 1


def _shrink(im: Image.Image) -> Image.Image:
    """Downscale (area average) so the long side is at most WORK_SIDE px."""
    scale = WORK_SIDE / max(im.size)
    if scale >= 1.0:
        return im
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.BOX)


def _opaque_is_plain(rgba: np.ndarray) -> bool:
    """True when the visible pixels are one flat colour, so the drawing lives in alpha."""
    visible = rgba[:, :, 3] > 0.5
    if not visible.any():
        return True
    lum = rgba[:, :, :3][visible].mean(axis=1)
    return float(lum.std()) < 0.1


def _flatten(im: Image.Image) -> Image.Image:
    """Composite a partly transparent image onto white."""
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, im).convert("RGB")


def _stretch(ink: np.ndarray) -> np.ndarray:
    """Scale an ink map so its strongest ink is 1 (faint pens still threshold at 0.5)."""
    top = float(ink.max())
    if top < 0.1:
        raise BlankImageError("No digit found in the image. Draw a digit first.")
    return np.clip(ink / top, 0.0, 1.0)


def _gray_ink(gray: np.ndarray) -> np.ndarray:
    """Ink map of a gray picture: background-subtracted, polarity-fixed, contrast-stretched."""
    residual = gray - _background(gray)
    noise = 1.4826 * float(np.median(np.abs(residual)))  # robust sigma of the paper
    bright = residual[residual > 3 * noise + 0.02].sum()
    dark = -residual[residual < -3 * noise - 0.02].sum()
    ink = residual if bright > dark else -residual
    ink = np.clip(ink, 0.0, None)
    level = float(np.percentile(ink[ink > 0], 99)) if (ink > 0).any() else 0.0
    if level < 0.12:  # less than ~30 gray levels of contrast: plain paper or a flat colour
        raise BlankImageError("No digit found in the image. Draw a digit first.")
    cut = max(_otsu(ink), 3 * noise + 0.02)  # Otsu, but never inside the paper's noise
    # Scale so the cut lands on 0.5, the level every later stage thresholds at.
    return np.clip(0.5 * ink / cut, 0.0, 1.0)


def _background(gray: np.ndarray) -> np.ndarray:
    """Fit a smooth (quadratic) paper surface to gray (H, W), ignoring ink outliers."""
    h, w = gray.shape
    yy, xx = np.mgrid[0:h, 0:w]
    yy, xx = yy / max(h - 1, 1) - 0.5, xx / max(w - 1, 1) - 0.5
    basis = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1)
    step = max(1, max(h, w) // 64)  # a 64 px grid is plenty for a smooth surface
    b, g = basis[::step, ::step].reshape(-1, 6), gray[::step, ::step].ravel()
    coef = np.array([np.median(g), 0, 0, 0, 0, 0])
    fit = b @ coef
    for _ in range(4):  # refit on pixels that look like paper
        r = g - fit
        spread = max(3 * 1.4826 * float(np.median(np.abs(r - np.median(r)))), 0.03)
        keep = np.abs(r - np.median(r)) <= spread
        if keep.sum() < 12:
            break
        coef, *_ = np.linalg.lstsq(b[keep], g[keep], rcond=None)
        fit = b @ coef
    return basis @ coef


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of non-negative values (between-class variance maximised)."""
    hist, edges = np.histogram(values, bins=128, range=(0.0, float(values.max()) + 1e-9))
    p = hist / hist.sum()
    centers = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * centers)
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1.0 - w0))
    between[~np.isfinite(between)] = 0.0
    return float(centers[int(np.argmax(between))])


# ----------------------------------------------------------------------------- cropping

def _digit_crop(ink: np.ndarray) -> np.ndarray:
    """Crop an ink map (H, W) to the bounding box of its digit, dropping small specks."""
    from scipy import ndimage
    mask = ink >= 0.5
    labels, _ = ndimage.label(mask, EIGHT)
    sizes = np.bincount(labels.ravel())[1:]
    if not sizes.size or sizes.max() < 4:
        raise BlankImageError("No digit found in the image. Draw a digit first.")
    keep = np.flatnonzero(sizes >= SPECK_FRACTION * sizes.max()) + 1
    digit = np.isin(labels, keep)
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    # Ink of dropped specks inside the box would come back at the later threshold.
    near = ndimage.binary_dilation(digit, EIGHT, iterations=2)
    return np.where(near[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], crop, 0.0)


def _square(crop: np.ndarray) -> np.ndarray:
    """Centre an ink crop (h, w) in a square and resample it to (NORM_SIDE, NORM_SIDE).

    The aspect ratio survives as the ink's extent inside the square, which `normalise_ink`
    measures again.
    """
    im = Image.fromarray((crop * 255).astype(np.uint8), "L")
    resample = Image.Resampling.BOX if max(crop.shape) > NORM_SIDE else Image.Resampling.BILINEAR
    square = ImageOps.pad(im, (NORM_SIDE, NORM_SIDE), resample, color=0)
    return np.asarray(square, dtype=np.float64) / 255.0


def open_loops(square: np.ndarray) -> np.ndarray:
    """Normalise the loops of an ink map (S, S) in [0, 1]; a new array (see BLOB_DEPTH...).

    Solid blobs are hollowed, small loops right of LOOP_MIN_X of the width are widened and
    curls left of it in the lower part are filled. Sizes are in px of a 32-row digit (the ink's
    bounding-box height is taken as 32). Holes are background (ink < 0.5) not 4-connected to
    the border.
    """
    from scipy import ndimage
    square = np.asarray(square, dtype=np.float64).copy()
    mask = square >= 0.5
    if not mask.any():
        return square
    top, bottom, left, right = _boxes(mask[None])[0]
    scale = (bottom - top + 1) / BITMAP
    # 1. hollow solid blobs
    depth = _depth(mask)
    ridge = mask & (ndimage.maximum_filter(depth, footprint=FOUR, mode="constant") == depth)
    deep = depth > BLOB_DEPTH * np.median(depth[ridge])
    if deep.sum() / scale ** 2 >= BLOB_AREA:
        square[deep] = 0.0
    # 2. widen small loops right of LOOP_MIN_X
    labels, sizes, centre_x, _ = _holes(square >= 0.5)
    rel_x = (centre_x - left) / (right - left + 1)
    area = sizes / scale ** 2
    chosen = (area >= LOOP_AREA[0]) & (area <= LOOP_AREA[1]) & (rel_x >= LOOP_MIN_X)
    if chosen.any():
        chosen_holes = np.isin(labels, np.flatnonzero(chosen) + 1)
        grow = max(1, round(LOOP_GROW * scale))
        widened = ndimage.binary_dilation(chosen_holes, FOUR, iterations=grow)
        square[widened] = 0.0
    # 3. fill curls: low holes left of LOOP_MIN_X
    labels, sizes, centre_x, centre_y = _holes(square >= 0.5)
    curls = ((centre_x - left) / (right - left + 1) < LOOP_MIN_X) \
        & ((centre_y - top) / (bottom - top + 1) >= CURL_MIN_Y)
    if curls.any():
        square[np.isin(labels, np.flatnonzero(curls) + 1)] = 1.0
    return square


def _holes(mask: np.ndarray) -> tuple:
    """Enclosed background of a bool (H, W) ink mask: (labels, sizes, centre x, centre y)."""
    from scipy import ndimage
    # Ink is 8-connected, so the background is 4-connected (binary_fill_holes' default): a
    # stroke touching only diagonally still closes a loop.
    holes = ndimage.binary_fill_holes(mask) & ~mask
    labels, count = ndimage.label(holes, EIGHT)
    if not count:
        return labels, np.zeros(0), np.zeros(0), np.zeros(0)
    sizes = np.bincount(labels.ravel())[1:]
    centre_y, centre_x = np.array(ndimage.center_of_mass(holes, labels, range(1, count + 1))).T
    return labels, sizes, centre_x, centre_y


def _depth(mask: np.ndarray) -> np.ndarray:
    """How many erosions each pixel of a bool (H, W) mask survives (alternating 4- and
    8-neighbourhoods, an octagonal distance to the background); 0 off the mask."""
    from scipy import ndimage
    depth = np.zeros(mask.shape, dtype=np.int32)
    current, step = mask.copy(), 0
    while current.any():
        depth += current
        current = ndimage.binary_erosion(current, EIGHT if step % 2 else FOUR)
        step += 1
    return depth


# ----------------------------------------------------------------------------- normalising

def normalise_ink(ink: np.ndarray, ink_pixels=None, box_width: float = BOX_WIDTH,
                  centre_shift: float = 0.0) -> np.ndarray:
    """Render ink maps the optdigits way: (n, S, S) floats in [0, 1] -> (n, 8, 8) 0..16.

    Each map is sheared upright (DESKEW), cut to the bounding box of its ink (>= 0.5),
    stretched to fill the 32 rows and width_for(aspect) columns of a 32x32 bitmap, thickened
    or thinned so that about `ink_pixels` (scalar or (n,) array; default INK_PIXELS) pixels
    are on, and counted in 4x4 blocks. Maps with no ink give all zeros. `box_width` is the
    widest digit (px of 32). With `centre_shift` > 0 the box is moved sideways, by at most
    that many px, so the ink's centre of mass lands on the middle column (see MASS_CENTRE).
    """
    ink = np.asarray(ink, dtype=np.float64)
    ink_pixels = INK_PIXELS if ink_pixels is None else ink_pixels
    if DESKEW:
        ink = _deskew(ink, DESKEW)
    boxes = _boxes(ink >= 0.5)
    soft = _fit_boxes(ink, boxes, order=1, box_width=box_width, centre_shift=centre_shift)
    blurred = _blur(soft, BLUR_SIGMA)
    target = np.broadcast_to(np.asarray(ink_pixels, dtype=np.float64), (ink.shape[0],))
    wanted = target
    for _ in range(2):
        bitmap = _keep_brightest(blurred, soft, wanted)
        # Thickening grows the outline past the box; fit again so rows 0..31 hold ink, and
        # correct the pixel budget for the stretch that this second fit causes.
        bitmap = _fit_boxes(bitmap, _boxes(bitmap >= 0.5), order=0, box_width=box_width,
                            centre_shift=centre_shift) >= 0.5
        wanted = wanted * target / np.maximum(bitmap.sum(axis=(1, 2)), 1)
    return bitmap.reshape(-1, 8, 4, 8, 4).sum(axis=(2, 4)).astype(np.float64)


def width_for(aspect: np.ndarray, box_width: float = BOX_WIDTH) -> np.ndarray:
    """Target width (px of 32) for bounding-box aspect ratios width/height."""
    return np.clip(WIDTH_GAIN * aspect * BITMAP, MIN_WIDTH, box_width)


def _boxes(mask: np.ndarray) -> np.ndarray:
    """Bounding boxes (n, 4) = top, bottom, left, right (inclusive) of bool (n, H, W) masks."""
    n, h, w = mask.shape
    rows, cols = mask.any(axis=2), mask.any(axis=1)
    empty = ~rows.any(axis=1)
    top = np.where(empty, 0, rows.argmax(axis=1))
    bottom = np.where(empty, h - 1, h - 1 - rows[:, ::-1].argmax(axis=1))
    left = np.where(empty, 0, cols.argmax(axis=1))
    right = np.where(empty, w - 1, w - 1 - cols[:, ::-1].argmax(axis=1))
    return np.stack([top, bottom, left, right], axis=1)


def _fit_boxes(images: np.ndarray, boxes: np.ndarray, order: int, box_width: float = BOX_WIDTH,
               centre_shift: float = 0.0) -> np.ndarray:
    """Resample each box of images (n, H, W) onto a 32x32 bitmap, full height, centred.

    order 1 = bilinear, 0 = nearest. With `centre_shift` > 0 each box moves sideways (by at
    most that many px, staying on the bitmap) towards putting the centre of mass of the ink
    in its columns on the middle column. Returns (n, 32, 32) floats.
    """
    from scipy import ndimage
    n, h, w = images.shape
    top, bottom, left, right = (boxes[:, i].astype(np.float64) for i in range(4))
    box_h, box_w = bottom - top + 1, right - left + 1
    width = width_for(box_w / box_h, box_width)
    scale_y = box_h / BITMAP
    offset_y = top + 0.5 * scale_y - 0.5   # output row r reads the source at offset_y + r * scale_y
    col0 = (BITMAP - width) / 2
    if centre_shift:
        xs = np.arange(w, dtype=np.float64)
        in_box = (xs[None, :] >= left[:, None]) & (xs[None, :] <= right[:, None])
        cols = images.sum(axis=1) * in_box
        mass = cols.sum(axis=1)
        cx = cols @ xs / np.maximum(mass, 1e-9)
        wanted = BITMAP / 2 - (cx + 0.5 - left) * width / box_w  # col0 putting cx mid-bitmap
        shift = np.where(mass > 0, np.clip(wanted - col0, -centre_shift, centre_shift), 0.0)
        col0 = np.clip(col0 + shift, 0.0, BITMAP - width)
    scale_x = box_w / width
    # Output pixel centre c + 0.5 reads the source at left + (c + 0.5 - col0) * scale_x - 0.5.
    offset_x = left + (0.5 - col0) * scale_x - 0.5
    steps = np.arange(BITMAP)
    if order == 0:  # a gather of the nearest pixels: 3x faster here than affine_transform
        yi = np.clip(np.rint(offset_y[:, None] + steps * scale_y[:, None]), 0, h - 1).astype(int)
        xi = np.clip(np.rint(offset_x[:, None] + steps * scale_x[:, None]), 0, w - 1).astype(int)
        out = images[np.arange(n)[:, None, None], yi[:, :, None], xi[:, None, :]]
    else:  # one affine_transform per image: 2x faster here than a batched map_coordinates
        out = np.empty((n, BITMAP, BITMAP))
        for i in range(n):
            ndimage.affine_transform(images[i], (scale_y[i], scale_x[i]),
                                     (offset_y[i], offset_x[i]), output=out[i], order=1,
                                     mode="nearest")
    out_cols = steps + 0.5
    inside_x = (out_cols[None, :] >= col0[:, None]) & (out_cols[None, :] <= (col0 + width)[:, None])
    return np.where(inside_x[:, None, :], out, 0.0)


def _blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of (n, H, W) images with zero padding, within 3 sigma."""
    from scipy import ndimage
    return ndimage.gaussian_filter(images, sigma, mode="constant", radius=max(1, round(3 * sigma)),
                                   axes=(1, 2))


def _keep_brightest(blurred: np.ndarray, soft: np.ndarray, ink_pixels) -> np.ndarray:
    """Binary (n, 32, 32): the `ink_pixels` brightest blurred pixels of each image.

    Ranking the blurred map grows or shrinks every stroke evenly, which is the stroke-width
    normalisation; the sharp map breaks ties so thin strokes keep their centre line.
    """
    n = blurred.shape[0]
    score = (blurred + 1e-3 * soft).reshape(n, -1)
    k = np.clip(np.broadcast_to(np.asarray(ink_pixels), (n,)).astype(int), 1, score.shape[1])
    cut = np.take_along_axis(np.sort(score, axis=1), (score.shape[1] - k)[:, None], axis=1)
    on = (score >= cut) & (score > 1e-6)
    return on.reshape(blurred.shape).astype(np.float64)


def _deskew(ink: np.ndarray, amount: float) -> np.ndarray:
    """Shear ink maps (n, S, S) so their second-moment slant becomes SLANT_TARGET.

    Returns (n, S, 3S/2): the canvas is widened so sheared digits stay whole. Only x moves,
    so each row is a 1-D linear interpolation.
    """
    n, h, w = ink.shape
    ys, xs = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    mass = np.maximum(ink.sum(axis=(1, 2)), 1e-9)
    row_mass = ink.sum(axis=2)
    cy = row_mass @ ys / mass
    dy = ys[None, :] - cy[:, None]
    # sum(ink * (x - cx) * dy) = sum(ink * x * dy) because sum(ink * dy) = 0.
    mu11 = (np.einsum("nyx,x->ny", ink, xs) * dy).sum(axis=1) / mass
    mu02 = np.maximum((row_mass * dy ** 2).sum(axis=1) / mass, 1e-9)
    slant = amount * (mu11 / mu02 - SLANT_TARGET)
    wide = w + w // 2
    # Output (y, x) reads the source at x - w/4 + slant * (y - cy), zero off the image. One
    # np.interp over all rows laid end to end, a zero column between them: 2.5x faster here
    # than an affine_transform per image.
    src_x = (np.arange(wide) - w / 4)[None, None, :] + (slant[:, None] * dy)[:, :, None]
    padded = np.pad(ink, ((0, 0), (0, 0), (1, 1))).ravel()
    row_start = (np.arange(n * h, dtype=np.float64) * (w + 2) + 1).reshape(n, h, 1)
    return np.interp(row_start + np.clip(src_x, -1.0, w), np.arange(padded.size), padded)
