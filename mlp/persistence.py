"""Save and load trained models as a single ``.npz`` file, never with pickle.

The file is a NumPy zip archive holding plain arrays only:

- ``meta``: a JSON string — format version, layer sizes, activation names, input scale,
  class labels, training config and per-epoch history;
- ``layer_0`` … ``layer_{L-1}``: each layer's (n_in + 1, n_out) weights with the bias as last row,
  in the model's dtype or, when ``meta["storage"]`` says "float16", rounded to half precision
  (half the file; the model still computes in its dtype);
- ``mask`` (sparse nets only): the 0/1 connectivity laid out like the parameters.

``load_model`` opens it with ``allow_pickle=False`` and checks every key, name, shape, dtype and
value before building anything; any problem raises ``ModelFileError`` with a plain sentence.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .activations import ACTIVATIONS
from .model import TrainedModel
from .network import Network, parameter_count
from .training import EpochRecord, TrainConfig

FORMAT = "mlp-lab-model"
VERSION = 1
MAX_PARAMS = 20_000_000   # far above anything the app trains; refuses absurd files before allocating


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


def load_model(file, n_features: int | None = None) -> TrainedModel:
    """Read a model written by ``save_model`` from a path, a binary file object or bytes.

    ``n_features``: the number of inputs the caller needs (64 for digits); None accepts any.
    Raises ModelFileError for anything that is not a complete, valid model file.
    """
    if isinstance(file, (bytes, bytearray, memoryview)):
        file = io.BytesIO(bytes(file))
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError) as e:
        why = "it holds pickled Python objects, which are never loaded" if "pickle" in str(e) else "it cannot be read"
        raise ModelFileError(f"This is not an MLP Lab model file (.npz), or it is damaged: {why}.") from None
    return _build(arrays, n_features)


def _build(arrays: dict, n_features) -> TrainedModel:
    def need(ok, message):
        if not ok:
            raise ModelFileError(message)

    need("meta" in arrays, "The file has no model description ('meta'): not an MLP Lab model file.")
    meta_arr = arrays["meta"]
    need(meta_arr.dtype.kind == "U" and meta_arr.shape == (), "The model description is not text.")
    try:
        meta = json.loads(str(meta_arr))
    except ValueError:
        raise ModelFileError("The model description is not valid JSON.") from None
    need(isinstance(meta, dict) and meta.get("format") == FORMAT, "The file is not an MLP Lab model file.")
    need(meta.get("version") == VERSION, f"Unsupported model file version {meta.get('version')!r} (this program reads {VERSION}).")
    sizes, acts = meta.get("sizes"), meta.get("activations")
    need(isinstance(sizes, list) and len(sizes) >= 2 and all(isinstance(s, int) and s >= 1 for s in sizes),
         "The layer sizes in the file are not a list of positive whole numbers.")
    need(isinstance(acts, list) and len(acts) == len(sizes) - 1 and all(a in ACTIVATIONS for a in acts),
         f"The activations in the file must be one per layer, each one of {sorted(ACTIVATIONS)}.")
    n_params = parameter_count(sizes)
    need(n_params <= MAX_PARAMS, f"The model is too large ({n_params:,} parameters).")
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
    need(isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0, "The input scale must be a positive number.")
    expected = {f"layer_{i}" for i in range(len(sizes) - 1)} | {"meta"}
    extra = set(arrays) - expected - {"mask"}
    missing = expected - set(arrays)
    need(not missing and not extra, f"The file's arrays do not match its layers (missing {sorted(missing)}, "
                                    f"unexpected {sorted(extra)}).")
    config = None
    if meta.get("config") is not None:
        try:
            config = TrainConfig.from_dict(meta["config"]).validate()
        except (TypeError, ValueError) as e:
            raise ModelFileError(f"The training settings in the file are invalid: {e}.") from None
    history = []
    try:
        history = [EpochRecord(**r) for r in meta.get("history") or []]
    except TypeError:
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
        need(mask.shape == net.params.shape and mask.dtype == net.params.dtype and bool(np.all((mask == 0) | (mask == 1))),
             "The connectivity mask does not fit the layers or is not 0/1.")
        need(bool(np.all(net.params[mask == 0] == 0)), "Weights outside the connectivity mask are not zero.")
        net.mask = mask.copy()
    labels = np.array(classes)
    return TrainedModel(net, labels, config, history)
