"""Dense vs static sparse vs SET on held-out digits: accuracy and training time.

    python benchmarks/bench_set.py [--epochs 40] [--seeds 5] [--fraction 0.10]

Hidden layers (256, 128), ReLU, softmax output, Adam; ``load_digits`` split 75/25 stratified
(random_state=0). The sparse runs keep at most ``--fraction`` of the dense net's weights (biases
stay dense; the output layer stays dense, as in SET's reference code), with SET's ε chosen to fill
that budget. All three modes use the same settings; only ``connectivity`` differs. Times cover
``run.run()`` (SET's per-epoch evolution included), modes interleaved per seed. Both wall-clock
and CPU time are shown; with one BLAS thread the run is single-threaded, so CPU time is what the
wall-clock would be on an idle machine and the time goal is checked on it.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlp import TrainConfig, TrainedModel, train  # noqa: E402
from mlp.sparse import epsilon_for_fraction, layer_stats  # noqa: E402

MODES = ("dense", "static", "set")
HIDDEN = (256, 128)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fraction", type=float, default=0.10, help="sparse weights / dense weights")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--zeta", type=float, default=0.3)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    sizes = (X.shape[1], *HIDDEN, 10)
    eps = epsilon_for_fraction(sizes, args.fraction)
    base = TrainConfig(hidden_layer_sizes=HIDDEN, optimizer="adam", learning_rate=args.learning_rate,
                       epochs=args.epochs, batch_size=32, alpha=1e-4, set_epsilon=eps, zeta=args.zeta)
    print(f"hidden {HIDDEN}, Adam lr {args.learning_rate:g}, {args.epochs} epochs, batch 32, "
          f"{len(X_tr)} train / {len(X_te)} test digits, {args.seeds} seeds; SET ε = {eps:.3f}, ζ = {args.zeta}")

    acc = {m: [] for m in MODES}
    secs = {m: [] for m in MODES}
    cpu = {m: [] for m in MODES}
    stats = {}
    for seed in range(args.seeds):
        for mode in MODES:
            run = train(base.replace(connectivity=mode, seed=seed), X_tr, y_tr)
            start, start_cpu = time.perf_counter(), time.process_time()
            run.run()
            secs[mode].append(time.perf_counter() - start)
            cpu[mode].append(time.process_time() - start_cpu)
            acc[mode].append(TrainedModel.from_run(run).score(X_te, y_te))
            stats[mode] = layer_stats(run.model)

    print("\nmedians over seeds for times; accuracies in % of the held-out digits")
    print(f"{'mode':8} {'weights':>15} {'acc mean':>9} {'median':>7} {'min':>6} {'max':>6} "
          f"{'wall s':>7} {'cpu s':>6} {'cpu vs dense':>12}")
    dense_cpu = statistics.median(cpu["dense"])
    for mode in MODES:
        w = sum(s.weights for s in stats[mode])
        dw = sum(s.dense_weights for s in stats[mode])
        a = np.array(acc[mode]) * 100
        t, c = statistics.median(secs[mode]), statistics.median(cpu[mode])
        print(f"{mode:8} {w:>6} ({w / dw:5.1%}) {a.mean():9.2f} {np.median(a):7.2f} {a.min():6.2f} {a.max():6.2f} "
              f"{t:7.2f} {c:6.2f} {c / dense_cpu:11.2f}x")
    print("\nper layer (weights present / dense):",
          "; ".join(f"{s.n_in}->{s.n_out}: {s.weights}/{s.dense_weights} ({s.density:.1%})" for s in stats["set"]))
    for mode in MODES:
        print(f"{mode:8} per seed: " + " ".join(f"{100 * a:.2f}" for a in acc[mode]))

    mean = {m: 100 * float(np.mean(acc[m])) for m in MODES}
    goals = [
        ("SET within 1 point of dense", mean["dense"] - mean["set"] <= 1.0),
        ("SET ahead of static sparse", mean["set"] > mean["static"]),
        ("SET CPU time <= 1.5x dense", statistics.median(cpu["set"]) <= 1.5 * dense_cpu),
    ]
    print()
    for name, ok in goals:
        print(f"{'met   ' if ok else 'MISSED'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
