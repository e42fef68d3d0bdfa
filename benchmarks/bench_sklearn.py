"""mlp.MLPClassifier against scikit-learn's MLPClassifier on load_digits: time per epoch, accuracy.

    python benchmarks/bench_sklearn.py [--repeats 5] [--configs abc] [--profile]

Both estimators get identical parameters and data (load_digits / 16, a stratified 25% held-out
split with random_state=0) and are trained in turn, A B A B ..., in this one process, with
random_state = 0, 1, 2, ... for the repeats. Printed per configuration: the median time per
epoch (fit time / n_iter_) of each, their ratio, the mean held-out accuracy of each, and the
achieved GFLOP/s of the training math against a large matrix product's GFLOP/s measured here.
``--profile`` prints where mlp's time goes (cProfile) for each configuration.
"""
import os

# One BLAS thread, set before NumPy loads: on a 2-core machine two threads bring nothing when it
# is quiet and are many times slower when it is shared.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import cProfile
import pstats
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlp import MLPClassifier  # noqa: E402

# The configurations of issue 3. (a) is the original post's network and schedule: plain SGD at
# scikit-learn's usual step size 0.01 (the post's 1e-3 was for summed, not mean, gradients).
CONFIGS = {
    "a": ("post: (15,) relu, sgd lr=0.01 no momentum, batch 15, 100 epochs",
          dict(hidden_layer_sizes=(15,), activation="relu", solver="sgd", momentum=0.0, learning_rate_init=0.01,
               batch_size=15, max_iter=100)),
    "b": ("(128, 64) relu, adam lr=1e-3, batch 32, 50 epochs",
          dict(hidden_layer_sizes=(128, 64), activation="relu", solver="adam", batch_size=32, max_iter=50)),
    "c": ("(256,) relu, adam lr=1e-3, batch 200, up to 200 epochs (default stopping rule)",
          dict(hidden_layer_sizes=(256,), activation="relu", solver="adam", batch_size=200, max_iter=200)),
}


def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


def train_flops_per_sample(sizes) -> int:
    """Multiply-adds × 2 of one training step per sample: forward, weight gradient, and the
    backward product to every layer but the first (biases folded in, as the engine computes)."""
    flops = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        flops += 2 * (n_in + 1) * n_out * 2  # forward and weight gradient
        if i:
            flops += 2 * n_in * n_out        # delta for the layer below
    return flops


def matmul_gflops(dtype, n=1536, repeats=3) -> float:
    """GFLOP/s of one large n × n matrix product, best of a few."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    best = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fit_timed(estimator, X, y):
    """(seconds per epoch, estimator) for one fit."""
    seconds = _timed(lambda: estimator.fit(X, y))
    return seconds / estimator.n_iter_, estimator


def run(config_keys, repeats, profile):
    X_train, X_test, y_train, y_test = digits_split()
    peak = {dt: matmul_gflops(dt) for dt in ("float32", "float64")}
    print(f"large matmul, 1 thread: float32 {peak['float32']:.1f} GFLOP/s, float64 {peak['float64']:.1f} GFLOP/s")
    print(f"load_digits / 16: {len(X_train)} train, {len(X_test)} held out; {repeats} repeats, interleaved\n")
    for key in config_keys:
        title, params = CONFIGS[key]
        times = {"sklearn": [], "mlp": []}
        accs = {"sklearn": [], "mlp": []}
        epochs = {"sklearn": [], "mlp": []}
        for seed in range(repeats):
            for name, cls in (("sklearn", SklearnMLP), ("mlp", MLPClassifier)):
                per_epoch, est = fit_timed(cls(random_state=seed, **params), X_train, y_train)
                times[name].append(per_epoch)
                accs[name].append(est.score(X_test, y_test))
                epochs[name].append(est.n_iter_)
        t_sk, t_ours = statistics.median(times["sklearn"]), statistics.median(times["mlp"])
        sizes = (X_train.shape[1], *params["hidden_layer_sizes"], 10)
        flop_epoch = train_flops_per_sample(sizes) * len(X_train)
        dtype = MLPClassifier().dtype
        print(f"({key}) {title}")
        print(f"    sklearn {t_sk * 1e3:7.2f} ms/epoch   mlp {t_ours * 1e3:7.2f} ms/epoch   "
              f"ratio {t_sk / t_ours:5.2f}x")
        print(f"    held-out accuracy: sklearn {100 * np.mean(accs['sklearn']):.2f}%   "
              f"mlp {100 * np.mean(accs['mlp']):.2f}%   (mean of {repeats}; epochs run: "
              f"sklearn {epochs['sklearn']}, mlp {epochs['mlp']})")
        print(f"    achieved: sklearn {flop_epoch / t_sk / 1e9:5.2f} GFLOP/s (float64, peak {peak['float64']:.1f})   "
              f"mlp {flop_epoch / t_ours / 1e9:5.2f} GFLOP/s ({dtype}, peak {peak[dtype]:.1f})\n")
        if profile:
            profiler = cProfile.Profile()
            est = MLPClassifier(random_state=0, **params)
            profiler.runcall(est.fit, X_train, y_train)
            stats = pstats.Stats(profiler)
            print(f"    profile of one mlp fit ({est.n_iter_} epochs, {stats.total_tt:.3f} s with the profiler on):")
            stats.sort_stats("tottime").print_stats(12)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", default="abc", help="which configurations, e.g. 'ac'")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of mlp per configuration")
    args = parser.parse_args(argv)
    unknown = set(args.configs) - set(CONFIGS)
    if unknown or args.repeats < 1:
        parser.error(f"configs are letters from {''.join(CONFIGS)} and repeats >= 1")
    warnings.simplefilter("ignore", ConvergenceWarning)
    run(args.configs, args.repeats, args.profile)


if __name__ == "__main__":
    main()
