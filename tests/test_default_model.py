"""The shipped default model: loads safely, keeps load_digits accuracy, reads real handwriting."""
import csv
import json
from pathlib import Path

import numpy as np

from mlp import default_model
from mlp.datasets import load_digits_split
from mlp.preprocess import predict_image_proba

FIXTURES = Path(__file__).parent / "fixtures" / "handwriting"


def test_it_is_a_validated_digits_model():
    model = default_model()
    assert model.network.sizes[0] == 64 and list(model.classes_) == list(range(10))
    assert default_model() is model          # loaded once per process


def test_the_shipped_file_stores_half_precision_and_stays_small():
    from mlp.default import MODEL_FILE
    with np.load(MODEL_FILE, allow_pickle=False) as npz:
        assert json.loads(str(npz["meta"]))["storage"] == "float16"
        assert all(npz[k].dtype == np.float16 for k in npz.files if k.startswith("layer_"))
    assert MODEL_FILE.stat().st_size < 1_000_000
    assert default_model().network.dtype == np.float32      # computes in single precision


def test_it_keeps_98_percent_on_held_out_load_digits():
    _, X_test, _, y_test = load_digits_split()
    assert default_model().score(X_test, y_test) >= 0.98


def test_it_reads_the_handwriting_fixtures():
    # A few real handwritten digits (from the dev set, as ordinary image files): the file must
    # still match how mlp/preprocess.py renders digits, or these go wrong.
    with open(FIXTURES / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    model = default_model()
    right = [int(np.argmax(predict_image_proba(model, FIXTURES / r["filename"]))) == int(r["label"]) for r in rows]
    assert len(rows) >= 10 and np.mean(right) >= 0.7, right
