"""Re-rendering speed: how long `mlp.augment.augment` takes for the default model's recipe.

    python benchmarks/bench_augment.py [--copies 8] [--repeats 3]

The `drawing` and `best` presets re-render every one of the 1,347 training digits eight times
(~11k renders) before training, so this is time a visitor waits when they pick "Best accuracy".
Prints the median wall time over the repeats and the renders per second (one BLAS thread, as the
app runs). It used to be a timed test (under 5 s for 1,200 renders); timing belongs here, where a
loaded machine cannot fail the suite.
"""
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"   # before NumPy loads, as the app does

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlp.augment import augment  # noqa: E402
from mlp.datasets import load_digits_split  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=8, help="re-rendered copies of every training digit")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    X_train, _, y_train, _ = load_digits_split()
    times = []
    for seed in range(args.repeats):
        start = time.perf_counter()
        augment(X_train, y_train, args.copies, np.random.default_rng(seed))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    renders = len(X_train) * args.copies
    print(f"{renders} renders ({len(X_train)} digits x {args.copies}): median {median:.2f} s "
          f"over {args.repeats} repeats ({renders / median:,.0f} renders/s; all: "
          f"{', '.join(f'{t:.2f}' for t in times)} s)")


if __name__ == "__main__":
    main()
