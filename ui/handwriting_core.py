"""A visitor's own handwriting as a small data set, its file format, and fine-tuning a model on it.

Pure (no Streamlit): `Handwriting` holds 8×8 digits (values 0..16, as the network sees them) with
their labels, bounded at MAX_DIGITS; `to_bytes` / `from_bytes` write and read it as a pickle-free
``.npz``, checked like model files (sizes capped before anything is read, one plain sentence per
problem); `finetune` continues training a copy of a model on load_digits plus the visitor's
digits, oversampled so a few dozen count, and reports before/after on digits it never trained on.
"""
from __future__ import annotations

import io
import json
import math
import threading
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

import mlp
from mlp import TrainConfig, TrainedModel

FORMAT = "mlp-lab-handwriting"
VERSION = 1
MAX_DIGITS = 500
MAX_FILE_BYTES = 512 * 1024
_MAX_MEMBER = {"meta.npy": 4096, "X.npy": MAX_DIGITS * 64 * 8 + 256, "y.npy": MAX_DIGITS * 8 + 256}
MIN_TO_FINETUNE = 6        # a few for the fine-tune, a few kept apart to test it
TEST_SHARE = 0.3           # of the visitor's digits, kept apart from each fine-tune
OWN_SHARE = 0.25           # the visitor's digits' share of the fine-tune's training set (oversampled)
FINETUNE_EPOCHS = 5
# Above this many parameters only the output layer is fine-tuned, on the hidden layer's fixed
# answers: the default model (64-4608-10, ~345k) took ~40 s to fine-tune whole on a busy 2-core box.
HEAD_ONLY_PARAMS = 100_000


class HandwritingFileError(ValueError):
    """A handwriting file that MLP Lab did not write, or that is damaged."""


@dataclass
class Handwriting:
    """A visitor's own digits: X (n, 64) float32 in 0..16 (row-major 8×8), y (n,) int labels 0..9."""

    X: np.ndarray = field(default_factory=lambda: np.zeros((0, 64), np.float32))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def full(self) -> bool:
        return len(self) >= MAX_DIGITS

    def add(self, digit, label: int) -> bool:
        """Append one 8×8 digit (any shape with 64 values, 0..16) with its label; False if full."""
        if self.full:
            return False
        x = np.clip(np.asarray(digit, dtype=np.float32).reshape(1, 64), 0, 16)
        label = int(label)
        if not 0 <= label <= 9:
            raise ValueError(f"a digit's label is 0..9, got {label}")
        self.X = np.concatenate([self.X, x])
        self.y = np.concatenate([self.y, [label]])
        return True

    def extend(self, other: Handwriting) -> int:
        """Append another set's digits up to MAX_DIGITS; return how many were added."""
        room = max(0, MAX_DIGITS - len(self))
        self.X = np.concatenate([self.X, other.X[:room].astype(np.float32)])
        self.y = np.concatenate([self.y, other.y[:room].astype(np.int64)])
        return min(room, len(other))

    def remove(self, indices) -> None:
        keep = np.ones(len(self), bool)
        keep[[i for i in indices if 0 <= i < len(self)]] = False
        self.X, self.y = self.X[keep], self.y[keep]

    def __repr__(self):
        return f"Handwriting({len(self)} digits)"


def to_bytes(hw: Handwriting) -> bytes:
    """The set as a ``.npz``: meta (JSON), X (n, 64) float32, y (n,) int8; no pickled objects."""
    out = io.BytesIO()
    meta = json.dumps({"format": FORMAT, "version": VERSION, "n": len(hw)})
    np.savez_compressed(out, meta=np.array(meta), X=hw.X.astype(np.float32), y=hw.y.astype(np.int8))
    return out.getvalue()


def from_bytes(data: bytes) -> Handwriting:
    """Read a file written by `to_bytes`; HandwritingFileError with one plain sentence otherwise."""
    def need(ok, sentence):
        if not ok:
            raise HandwritingFileError(sentence)

    not_ours = "it is not a handwriting file saved by MLP Lab"
    need(len(data) <= MAX_FILE_BYTES, f"it is {len(data) / 1024:.0f} KB; a handwriting file of "
                                      f"{MAX_DIGITS} digits is at most {MAX_FILE_BYTES // 1024} KB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {i.filename: i for i in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise HandwritingFileError(not_ours) from None
    need(set(members) == set(_MAX_MEMBER), not_ours)
    for name, info in members.items():   # uncompressed sizes, before anything is unpacked
        need(info.file_size <= _MAX_MEMBER[name], f"it holds more than {MAX_DIGITS} digits or is damaged")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta, X, y = npz["meta"], npz["X"], npz["y"]
    except ValueError:
        raise HandwritingFileError(f"{not_ours} (it holds Python objects, not plain arrays)") from None
    except Exception:  # noqa: BLE001 -- any unreadable archive gets the same sentence
        raise HandwritingFileError(f"{not_ours}, or it is damaged") from None
    try:
        info = json.loads(str(meta[()])) if meta.shape == () else None
    except (ValueError, TypeError):
        info = None
    need(isinstance(info, dict) and info.get("format") == FORMAT, not_ours)
    need(info.get("version") == VERSION, f"it was written by a newer MLP Lab (version {info.get('version')})")
    need(X.ndim == 2 and X.shape[1] == 64 and X.dtype.kind == "f", "its digits are not 8×8 images")
    need(y.shape == (len(X),) and y.dtype.kind in "iu", "it has not one whole-number label per digit")
    need(np.all(np.isfinite(X)) and X.min(initial=0) >= 0 and X.max(initial=0) <= 16,
         "its pixel values are not all between 0 and 16")
    need(np.all((y >= 0) & (y <= 9)), "its labels are not all digits 0 to 9")
    return Handwriting(X.astype(np.float32), y.astype(np.int64))


def kept_apart(n: int, seed: int = 0) -> np.ndarray:
    """Which of n digits are tested, never trained on, by a fine-tune: a fixed random TEST_SHARE
    (at least one, and at least one left to train on)."""
    k = min(max(1, round(TEST_SHARE * n)), n - 1)
    test = np.zeros(n, bool)
    test[np.random.default_rng(seed).permutation(n)[:k]] = True
    return test


def accuracy(model, X, y) -> float | None:
    return float(np.mean(model.predict(X) == y)) if len(y) else None


@dataclass
class FinetuneResult:
    """A fine-tuned model and its accuracies before/after: on the visitor's kept-apart digits
    (`own_*`, n_own_test of them) and on the held-out load_digits (`digits_*`)."""

    model: TrainedModel
    n_trained: int
    n_own_test: int
    own_before: float
    own_after: float
    digits_before: float
    digits_after: float


def finetune_config(model: TrainedModel) -> TrainConfig:
    """A short continuation of `model`'s training: its loss and output, Adam at 1e-3, no
    augmentation or validation split, a handful of epochs (measured on a 64-unit model and three
    new "styles" of 60 digits: 3e-4 gained half as much on the kept-apart ones, 3e-3 cost more
    held-out accuracy)."""
    base = model.config or TrainConfig(output_activation=model.network.activations[-1].name)
    return base.replace(optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=FINETUNE_EPOCHS,
                        augment=0, shifts=False, validation_fraction=0.0, early_stopping=False,
                        weight_gradient="mean", connectivity="dense" if model.network.mask is None
                        else "static", seed=0)


class FinetuneStopped(Exception):
    """The fine-tune was stopped (its visitor left): there is no result."""


def _train(config, X, y, net, on_run):
    run = mlp.train(config, X, y, model=net)
    if on_run is not None:
        on_run(run)
    run.run()
    if run.status == "stopped":   # nothing else stops a fine-tune: only FinetuneJob.stop()
        raise FinetuneStopped
    if not run.history or run.status == "diverged":
        raise ValueError(run.message or "the fine-tune ended before its first epoch")
    return run.model


def _tuned_network(model: TrainedModel, X, y, on_run=None):
    """A fine-tuned copy of model.network: whole, or for a big network its output layer alone."""
    net, config = model.network, finetune_config(model)
    if net.params.size <= HEAD_ONLY_PARAMS or net.mask is not None or len(net.sizes) < 3:
        return _train(config, X, y, net.copy(), on_run)
    hidden = net.forward(X)[-2]              # what the output layer sees, fixed while it trains
    head = mlp.Network(net.sizes[-2:], [net.activations[-1]], dtype=net.dtype, input_scale=1.0)
    head.layers[0][...] = net.layers[-1]
    head = _train(config.replace(hidden_layer_sizes=()), hidden, y, head, on_run)
    tuned = net.copy()
    tuned.layers[-1][...] = head.layers[0]
    return tuned


def finetune(model: TrainedModel, hw: Handwriting, X_digits, y_digits, X_test, y_test,
             seed: int = 0, on_run=None) -> FinetuneResult:
    """Continue training a copy of `model` on (X_digits, y_digits) plus the visitor's digits not
    kept apart, repeated so they make up about OWN_SHARE of the set; `model` is left unchanged.

    X_*: (n, 64) raw 0..16; (X_test, y_test): load_digits' held-out part, never trained on.
    `on_run(run)` is called with the `mlp` training run before it trains, so a caller can stop() it;
    a stopped fine-tune raises FinetuneStopped.
    """
    if len(hw) < MIN_TO_FINETUNE:
        raise ValueError(f"needs at least {MIN_TO_FINETUNE} of your digits, has {len(hw)}")
    test = kept_apart(len(hw), seed)
    own_X, own_y = hw.X[~test].astype(float), hw.y[~test]
    repeat = max(1, math.ceil(OWN_SHARE / (1 - OWN_SHARE) * len(y_digits) / len(own_y)))
    X = np.concatenate([np.asarray(X_digits, float), np.repeat(own_X, repeat, axis=0)])
    y = np.concatenate([np.asarray(y_digits), np.repeat(own_y, repeat)])
    tuned = TrainedModel(_tuned_network(model, X, y, on_run), np.asarray(model.classes).copy(), model.config,
                         list(model.history))
    X_own, y_own = hw.X[test], hw.y[test]
    return FinetuneResult(tuned, int(len(own_y)), int(len(y_own)),
                          accuracy(model, X_own, y_own), accuracy(tuned, X_own, y_own),
                          accuracy(model, X_test, y_test), accuracy(tuned, X_test, y_test))


class FinetuneJob:
    """`finetune` in a background thread (it never calls Streamlit): `done`, then `result` (a
    FinetuneResult) or `error` (a sentence). The set's arrays are copied first, so the visitor
    may keep adding or removing digits meanwhile. `stop()` ends it before its next batch."""

    def __init__(self, model: TrainedModel, hw: Handwriting, X_digits, y_digits, X_test, y_test):
        snapshot = Handwriting(hw.X.copy(), hw.y.copy())
        self.started = time.monotonic()
        self.result: FinetuneResult | None = None
        self.error: str | None = None
        self.stop_requested = False
        self._run = None
        self._thread = threading.Thread(target=self._work, args=(model, snapshot, X_digits, y_digits, X_test, y_test),
                                        name="mlp-lab-finetune", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the fine-tune to end before its next batch; it then has an error, no result. Thread-safe."""
        self.stop_requested = True
        if self._run is not None:
            self._run.stop()

    def _started(self, run) -> None:
        # Set the run before reading the flag (stop() does the reverse), so a stop is never missed.
        self._run = run
        if self.stop_requested:
            run.stop()

    def _work(self, *args):
        try:
            self.result = finetune(*args, on_run=self._started)
        except FinetuneStopped:
            self.error = "The fine-tune was stopped."
        except Exception as e:  # noqa: BLE001 -- shown to the visitor as a sentence, never a traceback
            self.error = f"Could not fine-tune: {e}."
        finally:
            self._run = None   # its copies of the data and the network: freed now

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done

    def __repr__(self):
        return f"FinetuneJob(done={self.done})"
