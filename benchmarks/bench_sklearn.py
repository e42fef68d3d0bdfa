"""mlp's estimators against scikit-learn's on load_digits: time per epoch, accuracy, like with like.

    python benchmarks/bench_sklearn.py [--repeats 5] [--configs abcde] [--dtypes float32,float64] [--profile]

Both estimators get identical parameters and identical data (load_digits / 16, a stratified 25%
held-out split with random_state=0) in the same dtype: one table with float32 input (scikit-learn
then computes in float32 too, and so does ours: both follow the input's dtype) and one with
float64 input. They are trained in turn, A B A B ..., in this one process, with random_state =
0, 1, 2, ... for the repeats (both draw the same initial weights and batch orders from it, so
in float64 they train the same network). Configurations (a)-(c) are MLPClassifier with the
stochastic solvers, (d) MLPClassifier with solver="lbfgs", (e) MLPRegressor (Adam) fitting the
digit's value / 9. Printed per configuration and dtype: the median time per epoch (fit time /
n_iter_; for lbfgs per iteration) of each, their ratio, the mean held-out score (accuracy, R²)
of each, and the achieved GFLOP/s of the training math against a large matrix product's
GFLOP/s measured here. ``--profile`` prints where mlp's time goes (cProfile).
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
from sklearn.neural_network import MLPRegressor as SklearnRegressor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlp import MLPClassifier, MLPRegressor  # noqa: E402

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
    "d": ("(64,) relu, lbfgs, up to 100 iterations (time per iteration)",
          dict(hidden_layer_sizes=(64,), activation="relu", solver="lbfgs", max_iter=100)),
    "e": ("regressor: (64,) relu, adam lr=1e-3, batch 32, 30 epochs, target = digit / 9",
          dict(hidden_layer_sizes=(64,), activation="relu", solver="adam", batch_size=32, max_iter=30)),
}
REGRESSORS = {"e"}


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
    return seconds / max(estimator.n_iter_, 1), estimator


def run(config_keys, repeats, dtypes, profile):
    X_train, X_test, y_train, y_test = digits_split()
    peak = {dt: matmul_gflops(dt) for dt in dtypes}
    print("large matmul, 1 thread: " + ", ".join(f"{dt} {peak[dt]:.1f} GFLOP/s" for dt in dtypes))
    print(f"load_digits / 16: {len(X_train)} train, {len(X_test)} held out; {repeats} repeats, interleaved\n")
    for dtype in dtypes:
        print(f"=== both given {dtype} input ===\n")
        Xtr, Xte = X_train.astype(dtype), X_test.astype(dtype)
        for key in config_keys:
            title, params = CONFIGS[key]
            regression = key in REGRESSORS
            theirs, ours = (SklearnRegressor, MLPRegressor) if regression else (SklearnMLP, MLPClassifier)
            ytr, yte = (y_train / 9.0, y_test / 9.0) if regression else (y_train, y_test)
            times = {"sklearn": [], "mlp": []}
            scores = {"sklearn": [], "mlp": []}
            epochs = {"sklearn": [], "mlp": []}
            for seed in range(repeats):
                for name, cls in (("sklearn", theirs), ("mlp", ours)):
                    per_epoch, est = fit_timed(cls(random_state=seed, **params), Xtr, ytr)
                    # (scikit-learn's lbfgs hands back float64 weights even for float32 input; ours keep it)
                    assert name == "sklearn" or est.coefs_[0].dtype == np.dtype(dtype)
                    times[name].append(per_epoch)
                    scores[name].append(est.score(Xte, yte))
                    epochs[name].append(est.n_iter_)
            t_sk, t_ours = statistics.median(times["sklearn"]), statistics.median(times["mlp"])
            sizes = (X_train.shape[1], *params["hidden_layer_sizes"], 1 if regression else 10)
            flop_epoch = train_flops_per_sample(sizes) * len(X_train)
            unit = "iteration" if params.get("solver") == "lbfgs" else "epoch"
            score = "R²" if regression else "accuracy"
            print(f"({key}) {title}")
            print(f"    sklearn {t_sk * 1e3:7.2f} ms/{unit}   mlp {t_ours * 1e3:7.2f} ms/{unit}   "
                  f"ratio {t_sk / t_ours:5.2f}x")
            print(f"    held-out {score}: sklearn {np.mean(scores['sklearn']):.4f}   mlp {np.mean(scores['mlp']):.4f}"
                  f"   (mean of {repeats}; {unit}s run: sklearn {epochs['sklearn']}, mlp {epochs['mlp']})")
            print(f"    achieved: sklearn {flop_epoch / t_sk / 1e9:5.2f} GFLOP/s   mlp {flop_epoch / t_ours / 1e9:5.2f}"
                  f" GFLOP/s ({dtype}, peak {peak[dtype]:.1f})\n")
            if profile:
                profiler = cProfile.Profile()
                est = ours(random_state=0, **params)
                profiler.runcall(est.fit, Xtr, ytr)
                stats = pstats.Stats(profiler)
                print(f"    profile of one mlp fit ({est.n_iter_} {unit}s, {stats.total_tt:.3f} s with the profiler "
                      "on):")
                stats.sort_stats("tottime").print_stats(12)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--configs", default="abcde", help="which configurations, e.g. 'ac'")
    parser.add_argument("--dtypes", default="float32,float64", help="the input dtypes, one table each")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of mlp per configuration")
    args = parser.parse_args(argv)
    unknown = set(args.configs) - set(CONFIGS)
    dtypes = args.dtypes.split(",")
    if unknown or args.repeats < 1 or not set(dtypes) <= {"float32", "float64"}:
        parser.error(f"configs are letters from {''.join(CONFIGS)}, repeats >= 1, dtypes float32 and/or float64")
    warnings.simplefilter("ignore", ConvergenceWarning)
    run(args.configs, args.repeats, dtypes, args.profile)


if __name__ == "__main__":
    main()
