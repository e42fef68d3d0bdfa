"""Accuracy, per-digit recall and confusion matrix of a model on folders of handwritten digits.

Each folder holds image files and a labels.csv with rows `filename,label`. Images go through
`mlp.preprocess.image_to_digit`, exactly as the app's draw/upload path does.

    python scripts/eval_handwriting.py /work/shared/data/handwriting-dev/*/
    python scripts/eval_handwriting.py --model my_model.npz some/folder
    python scripts/eval_handwriting.py some/folder --augment 8 --epochs 30 --seeds 0 1 2
    python scripts/eval_handwriting.py --model default_model.npz --tta some/folder
    python scripts/eval_handwriting.py --preset drawing --seeds 0 1 2 --tta some/folder

Without --model it evaluates the product's default model (`mlp.default_model()`); with
--preset/--augment/--epochs/--hidden/--seeds it trains a preset ("default" unless --preset) with
those changes on the load_digits training split (one model per seed, probabilities averaged)
and evaluates that.
--tta averages each model's probabilities over `mlp.preprocess.digit_variants` of every image
(what `predict_image_proba` does in the app) instead of using `image_to_digit` alone.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one core, steady timings

import argparse
import csv
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlp import default_model, load_model, train  # noqa: E402
from mlp.datasets import load_digits_split  # noqa: E402
from mlp.model import TrainedModel  # noqa: E402
from mlp.preprocess import ImageError, digit_variants, image_to_digit  # noqa: E402
from mlp.presets import PRESETS  # noqa: E402


def read_folder(folder: Path, variants: bool = False) -> tuple:
    """(X (n, 64) or (n, k, 64) 0..16, y (n,), failures [(filename, message)]) for a folder.

    With `variants`, each image gives its k `digit_variants` instead of one digit.
    """
    rows, labels, failures = [], [], []
    render = digit_variants if variants else image_to_digit
    with open(folder / "labels.csv", newline="") as handle:
        for record in csv.DictReader(handle):
            try:
                digit = render(folder / record["filename"])
                rows.append(digit.reshape(-1, 64) if variants else digit.ravel())
                labels.append(int(record["label"]))
            except ImageError as exc:
                failures.append((record["filename"], str(exc)))
    X = np.array(rows) if rows else np.zeros((0, 64))
    return X, np.array(labels, dtype=int), failures


def build_models(args) -> list:
    """The models to average: a saved one, the default one, or freshly trained variants."""
    if args.model:
        return [load_model(args.model)]
    changes = {k: v for k, v in (("augment", args.augment), ("epochs", args.epochs)) if v is not None}
    if args.hidden:
        changes["hidden_layer_sizes"] = tuple(args.hidden)
    if not changes and args.preset is None and args.seeds == [0]:
        return [default_model()]
    X_train, _, y_train, _ = load_digits_split()
    models = []
    for seed in args.seeds:
        config = dataclasses.replace(PRESETS[args.preset or "default"], seed=seed, **changes)
        start = time.perf_counter()
        models.append(TrainedModel.from_run(train(config, X_train, y_train).run()))
        print(f"trained seed {seed}: {config} in {time.perf_counter() - start:.1f} s")
    return models


def report(name: str, predicted: np.ndarray, y: np.ndarray) -> float:
    """Print accuracy, per-digit recall and the confusion matrix; return the worst recall."""
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (y, predicted), 1)
    recall = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    print(f"\n== {name}: accuracy {np.mean(predicted == y):.3f} on {len(y)} images, "
          f"worst recall {recall.min():.2f} (digit {recall.argmin()})")
    print("true\\pred " + " ".join(f"{k:4d}" for k in range(10)) + "   recall")
    for k in range(10):
        print(f"{k:9d} " + " ".join(f"{v:4d}" for v in confusion[k]) + f"   {recall[k]:.2f}")
    return float(recall.min())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders with labels.csv")
    parser.add_argument("--model", help="a saved model file (default: mlp.default_model())")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="train this preset (default: default)")
    parser.add_argument("--augment", type=int, help="re-rendered copies per training digit")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer sizes")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one model per seed")
    parser.add_argument("--tta", action="store_true",
                        help="average over each image's digit_variants (as predict_image_proba)")
    args = parser.parse_args(argv)

    models = build_models(args)
    _, X_test, _, y_test = load_digits_split()

    def proba(X):
        """Summed probabilities (n, classes) of X (n, 64), or of X (n, k, 64) over its k variants."""
        flat = X.reshape(-1, 64)
        p = sum(m.predict_proba(flat) for m in models)
        return p.reshape(X.shape[:-1] + (-1,)).mean(axis=1) if X.ndim == 3 else p

    classes = models[0].classes_
    print(f"load_digits held-out accuracy: {np.mean(classes[proba(X_test).argmax(1)] == y_test):.4f}")
    for folder in args.folders:
        X, y, failures = read_folder(folder, args.tta)
        for filename, message in failures:
            print(f"{folder.name}/{filename}: not classified ({message})")
        if len(y):
            report(folder.name, classes[proba(X).argmax(1)], y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
