"""Save and load trained models as a single ``.npz`` file, never with pickle.

The file is a NumPy zip archive holding plain arrays only:

- ``meta``: a JSON string — format version, layer sizes, activation names, input scale,
  class labels, training config and per-epoch history;
- ``layer_0`` … ``layer_{L-1}``: each layer's (n_in + 1, n_out) weights with the bias as last row,
  in the model's dtype or, when ``meta["storage"]`` says "float16", rounded to half precision
  (half the file; the model still computes in its dtype);
- ``mask`` (sparse nets only): the 0/1 connectivity laid out like the parameters.

``load_model`` reads the zip directory and every ``.npy`` header first and checks names, shapes,
dtypes and sizes against caps before reading an array (object arrays, i.e. pickles, are never
read), then checks every key, name and value before building anything; any problem raises
``ModelFileError`` with a plain sentence.
"""
from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np

from .activations import ACTIVATIONS
from .model import TrainedModel
from .network import Network, parameter_count
from .training import EpochRecord, TrainConfig

FORMAT = "mlp-lab-model"
VERSION = 1
# Caps checked before anything is allocated. The sidebar's largest network (4 x 512 units) has
# ~0.83 M parameters and the default model 0.35 M; 2 M leaves a margin and bounds a file at 16 MB.
MAX_PARAMS = 2_000_000
MAX_LAYERS = 32
MAX_WIDTH = 16_384          # units per layer: bounds a forward pass over the held-out digits
MAX_META_BYTES = 4_000_000  # the JSON description (stored as UTF-32): a 200-epoch history is ~0.1 MB
MAX_MEMBERS = 2 * MAX_LAYERS + 2
READ_CHUNK = 1 << 20


class ModelFileError(ValueError):
    """A model file that is not one this program wrote, or is damaged."""


def save_model(model: TrainedModel, file, storage: str | None = None) -> None:
    """Write ``model`` to ``file`` (a path or a writable binary file object) as ``.npz``.

    ``storage="float16"`` stores the weights rounded to half precision: half the size, for
    shipped files (the default model's answers do not change); loading gives the model's own
    dtype back. Weights beyond float16's range (±65504) raise ValueError.
    """
    if storage not in (None, "float16"):
        raise ValueError(f"storage must be None or 'float16', got {storage!r}")
    net = model.network
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "sizes": list(net.sizes),
        "activations": [a.name for a in net.activations],
        "input_scale": net.input_scale,
        "dtype": net.dtype.name,
        "classes": np.asarray(model.classes).tolist(),
        "config": None if model.config is None else model.config.to_dict(),
        "history": [_record_dict(r) for r in model.history],
    }
    arrays = {f"layer_{i}": layer for i, layer in enumerate(net.layers)}
    if storage:
        meta["storage"] = storage
        with np.errstate(over="ignore"):   # out of range becomes inf, refused just below
            arrays = {k: v.astype(np.float16) for k, v in arrays.items()}
        if not all(np.all(np.isfinite(v)) for v in arrays.values()):
            raise ValueError("the weights exceed float16's range; save without storage='float16'")
    if net.mask is not None:
        arrays["mask"] = net.mask
    arrays["meta"] = np.array(json.dumps(meta))
    if isinstance(file, (str, Path)):
        with open(file, "wb") as fh:
            np.savez(fh, **arrays)
    else:
        np.savez(file, **arrays)


def model_to_bytes(model: TrainedModel) -> bytes:
    """The ``.npz`` file's bytes (for a download button)."""
    buf = io.BytesIO()
    save_model(model, buf)
    return buf.getvalue()


def _record_dict(r) -> dict:
    return {k: getattr(r, k) for k in r.__dataclass_fields__}


def load_model(file, n_features: int | None = None, probe=None, max_params: int = MAX_PARAMS) -> TrainedModel:
    """Read a model written by ``save_model`` from a path, a binary file object or bytes.

    ``n_features``: the number of inputs the caller needs (64 for digits); None accepts any.
    ``probe``: optional raw inputs (n, n_features); a model whose outputs on them are not finite
    (weights near float's limits) is refused. ``max_params``: the largest model accepted.
    Raises ModelFileError for anything that is not a complete, valid model file. The zip directory
    and every array's header are checked before any array is read, so a hostile file (a zip bomb,
    a header declaring 10^12 elements) costs no more memory than the model it claims to be.
    """
    if isinstance(file, (bytes, bytearray, memoryview)):
        file = io.BytesIO(bytes(file))
    try:
        with zipfile.ZipFile(file) as archive:
            arrays = _read_arrays(archive, max_params)
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, KeyError):
        # Anything zipfile or the .npy reader trips on: not a zip, a bad CRC, an unknown compression.
        raise ModelFileError("This is not a model file saved by MLP Lab (.npz), or it is damaged.") from None
    model = _build(arrays, n_features, max_params)
    if probe is not None:
        _check_outputs(model, probe)
    return model


def _read_arrays(archive: zipfile.ZipFile, max_params: int) -> dict:
    """Every member's array, after its name, size and .npy header have been checked against caps."""
    def need(ok, message):
        if not ok:
            raise ModelFileError(message)

    members = archive.infolist()
    need(0 < len(members) <= MAX_MEMBERS, "This is not a model file saved by MLP Lab: its archive does not hold "
                                          "a model's arrays.")
    need(all(m.filename.endswith(".npy") for m in members),
         "The file holds something other than NumPy arrays: not a model file saved by MLP Lab.")
    # The declared inflated size bounds what zipfile will ever inflate (it stops there), so these
    # caps hold even for a member whose compressed data would inflate to gigabytes.
    weight_bytes = max_params * 8
    need(sum(m.file_size for m in members) <= 2 * weight_bytes + MAX_META_BYTES + MAX_MEMBERS * 4096,
         "The file would inflate to more than any MLP Lab model can be: refused.")
    headers = {}
    for m in members:
        with archive.open(m) as fh:
            headers[m.filename[:-4]] = (m, *_header(fh, m))
    meta = headers.get("meta")
    need(meta is not None, "The file has no model description ('meta'): not an MLP Lab model file.")
    n_values = sum(math.prod(shape) for name, (_, shape, _, _) in headers.items() if name != "meta")
    need(n_values <= 2 * max_params, f"The file holds {n_values:,} numbers; an MLP Lab model has at most "
                                     f"{max_params:,} parameters (and as many mask entries).")
    need(meta[3].kind == "U" and meta[1] == () and meta[3].itemsize <= MAX_META_BYTES,
         "The model description is not text of a sensible size.")
    arrays = {}
    for name, (m, shape, fortran, dtype) in headers.items():
        with archive.open(m) as fh:
            _header(fh, m)
            arrays[name] = _read_data(fh, shape, fortran, dtype)
    return arrays


def _header(fh, member) -> tuple:
    """(shape, fortran_order, dtype) from a member's .npy header, refusing objects and odd sizes."""
    version = np.lib.format.read_magic(fh)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise ModelFileError(f"The array {member.filename} has an unknown .npy version {version}.")
    shape, fortran, dtype = read(fh)
    if dtype.hasobject:
        raise ModelFileError("The file holds pickled Python objects, which are never loaded.")
    if dtype.kind not in "fU" or len(shape) > 2:
        raise ModelFileError(f"The member {member.filename} is not an array of numbers or text.")
    declared = math.prod(shape) * dtype.itemsize
    if declared != member.file_size - fh.tell():
        raise ModelFileError(f"The size of {member.filename} does not match its header: the file is damaged.")
    return shape, fortran, dtype


def _read_data(fh, shape, fortran, dtype) -> np.ndarray:
    """The array's bytes read in bounded chunks straight into its buffer."""
    out = np.empty(shape, dtype, order="F" if fortran else "C")
    view = memoryview(out.reshape(-1, order="A").view(np.uint8)) if out.size else memoryview(b"")
    done = 0
    while done < len(view):
        chunk = fh.read(min(READ_CHUNK, len(view) - done))
        if not chunk:
            raise ModelFileError("The file ends early: it is damaged.")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    return out


def _check_outputs(model: TrainedModel, probe) -> None:
    """Refuse weights whose outputs on ``probe`` overflow (finite, yet near float's limits)."""
    probe = np.asarray(probe, dtype=float)
    with np.errstate(all="ignore"):
        finite = all(np.all(np.isfinite(model.network.output(probe[k:k + 64]))) for k in range(0, len(probe), 64))
    if not finite:
        raise ModelFileError("The model's weights overflow: its outputs on the held-out digits are not finite numbers.")


def _parse_meta(text: str) -> dict:
    """JSON without Infinity/NaN or absurd nesting: a ModelFileError, never an OverflowError."""
    def refuse(name):
        raise ModelFileError(f"The model description holds {name}, which no MLP Lab model file has.")

    def finite_float(s):
        v = float(s)
        if not math.isfinite(v):
            refuse(s)
        return v

    try:
        return json.loads(text, parse_constant=refuse, parse_float=finite_float)
    except (ValueError, RecursionError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError("The model description is not valid JSON (or is nested absurdly deep).") from None


def _build(arrays: dict, n_features, max_params: int) -> TrainedModel:
    def need(ok, message):
        if not ok:
            raise ModelFileError(message)

    need("meta" in arrays, "The file has no model description ('meta'): not an MLP Lab model file.")
    meta_arr = arrays["meta"]
    need(meta_arr.dtype.kind == "U" and meta_arr.shape == (), "The model description is not text.")
    meta = _parse_meta(str(meta_arr))
    need(isinstance(meta, dict) and meta.get("format") == FORMAT, "The file is not an MLP Lab model file.")
    need(meta.get("version") == VERSION,
         f"Unsupported model file version {meta.get('version')!r} (this program reads {VERSION}).")
    sizes, acts = meta.get("sizes"), meta.get("activations")
    need(isinstance(sizes, list) and 2 <= len(sizes) <= MAX_LAYERS + 1
         and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_WIDTH for s in sizes),
         f"The layer sizes in the file are not a list of at most {MAX_LAYERS + 1} whole numbers "
         f"from 1 to {MAX_WIDTH:,}.")
    need(isinstance(acts, list) and len(acts) == len(sizes) - 1 and all(a in ACTIVATIONS for a in acts),
         f"The activations in the file must be one per layer, each one of {sorted(ACTIVATIONS)}.")
    n_params = parameter_count(sizes)
    need(n_params <= max_params, f"The model is too large: {n_params:,} parameters, where MLP Lab's largest "
                                 f"networks have under {max_params:,}.")
    classes = meta.get("classes")
    need(isinstance(classes, list) and len(classes) == sizes[-1] and len(set(map(str, classes))) == len(classes)
         and all(isinstance(c, (int, float, str)) and not isinstance(c, bool) for c in classes),
         f"The file must list {sizes[-1]} distinct class labels, one per output unit.")
    if n_features is not None:
        need(sizes[0] == n_features, f"The model takes {sizes[0]} inputs; this needs {n_features} (8×8 digits).")
    dtype = meta.get("dtype")
    need(dtype in ("float32", "float64"), "The weights' dtype must be float32 or float64.")
    storage = meta.get("storage")
    need(storage in (None, "float16"), "The weights' storage must be float16 if given.")
    stored = storage or dtype
    scale = meta.get("input_scale")
    need(isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0,
         "The input scale must be a positive number.")
    expected = {f"layer_{i}" for i in range(len(sizes) - 1)} | {"meta"}
    extra = set(arrays) - expected - {"mask"}
    missing = expected - set(arrays)
    need(not missing and not extra, f"The file's arrays do not match its layers (missing {sorted(missing)}, "
                                    f"unexpected {sorted(extra)}).")
    config = None
    if meta.get("config") is not None:
        try:
            config = TrainConfig.from_dict(meta["config"]).validate()
        except (TypeError, ValueError, AttributeError, OverflowError) as e:
            raise ModelFileError(f"The training settings in the file are invalid: {e}.") from None
    history = []
    try:
        history = [EpochRecord(**r) for r in meta.get("history") or []]
    except (TypeError, AttributeError):
        raise ModelFileError("The training history in the file is malformed.") from None

    net = Network(sizes, acts, seed=0, dtype=dtype, input_scale=float(scale))
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = arrays[f"layer_{i}"]
        need(layer.shape == (n_in + 1, n_out), f"Layer {i} has shape {layer.shape}; the sizes say {(n_in + 1, n_out)}.")
        need(layer.dtype == np.dtype(stored), f"Layer {i} is {layer.dtype}; the file says {stored}.")
        need(bool(np.all(np.isfinite(layer))), f"Layer {i} holds NaN or infinite weights.")
        net.layers[i][...] = layer
    if "mask" in arrays:
        mask = arrays["mask"]
        fits = mask.shape == net.params.shape and mask.dtype == net.params.dtype
        need(fits and bool(np.all((mask == 0) | (mask == 1))),
             "The connectivity mask does not fit the layers or is not 0/1.")
        need(bool(np.all(net.params[mask == 0] == 0)), "Weights outside the connectivity mask are not zero.")
        net.mask = mask.copy()
    labels = np.array(classes)
    return TrainedModel(net, labels, config, history)
