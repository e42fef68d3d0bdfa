"""Dense vs static sparse vs SET on held-out digits: accuracy and training time.

    python benchmarks/bench_set.py [--fractions 0.10 0.05] [--epochs 40] [--seeds 5]

Hidden layers (256, 128), ReLU, softmax output, Adam; ``load_digits`` split 75/25 stratified
(random_state=0). Each sparse budget keeps at most that fraction of the dense net's weights (biases
stay dense; the output layer stays dense, as in SET's reference code), with SET's ε chosen to fill
it. All modes use the same settings; only ``connectivity`` differs. The learning rate 0.01 is the
best of 1e-3, 3e-3 and 1e-2 for the dense net too. Times cover ``run.run()`` (SET's per-epoch
evolution included), modes interleaved per seed. Both wall-clock and CPU time are shown; with one
BLAS thread the run is single-threaded, so CPU time is what the wall-clock would be on an idle
machine, and the time goal is checked on it.
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

HIDDEN = (256, 128)


class Result:
    """One mode's runs: accuracies, wall and CPU seconds, the last run's layer sizes."""

    def __init__(self):
        self.acc, self.wall, self.cpu, self.stats = [], [], [], None

    def add(self, config, X_tr, y_tr, X_te, y_te):
        run = train(config, X_tr, y_tr)
        start, start_cpu = time.perf_counter(), time.process_time()
        run.run()
        self.wall.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - start_cpu)
        self.acc.append(100 * TrainedModel.from_run(run).score(X_te, y_te))
        self.stats = layer_stats(run.model)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.10],
                        help="sparse budgets: weights kept / dense weights")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--zeta", type=float, default=0.3)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    sizes = (X.shape[1], *HIDDEN, 10)
    base = TrainConfig(hidden_layer_sizes=HIDDEN, optimizer="adam", learning_rate=args.learning_rate,
                       epochs=args.epochs, batch_size=32, alpha=1e-4, zeta=args.zeta)
    print(f"hidden {HIDDEN}, Adam lr {args.learning_rate:g}, {args.epochs} epochs, batch 32, L2 1e-4, ζ {args.zeta}; "
          f"{len(X_tr)} train / {len(X_te)} held-out digits; {args.seeds} seeds")

    eps = {f: epsilon_for_fraction(sizes, f) for f in args.fractions}
    runs = {("dense", None): Result()}
    for f in args.fractions:
        runs[("static", f)], runs[("set", f)] = Result(), Result()
    for seed in range(args.seeds):
        for (mode, f), result in runs.items():
            extra = {} if f is None else {"set_epsilon": eps[f]}
            result.add(base.replace(connectivity=mode, seed=seed, **extra), X_tr, y_tr, X_te, y_te)

    dense = runs[("dense", None)]
    dense_cpu = statistics.median(dense.cpu)
    print("\naccuracy in % of the held-out digits (mean and median over seeds); times: medians")
    print(f"{'mode':8} {'ε':>6} {'weights':>15} {'mean':>6} {'median':>6} {'min':>6} {'max':>6} "
          f"{'wall s':>7} {'cpu s':>6} {'cpu/dense':>9}   per seed")
    for (mode, f), r in runs.items():
        w, dw = sum(s.weights for s in r.stats), sum(s.dense_weights for s in r.stats)
        a, c = np.array(r.acc), statistics.median(r.cpu)
        e = "" if f is None else f"{eps[f]:.2f}"
        print(f"{mode:8} {e:>6} {w:>6} ({w / dw:5.1%}) {a.mean():6.2f} {np.median(a):6.2f} {a.min():6.2f} "
              f"{a.max():6.2f} {statistics.median(r.wall):7.2f} {c:6.2f} {c / dense_cpu:8.2f}x   "
              + " ".join(f"{v:.2f}" for v in a))

    for f in args.fractions:
        s, st = runs[("set", f)], runs[("static", f)]
        print(f"\nbudget {f:.0%}: per layer " + "; ".join(
            f"{x.n_in}->{x.n_out} {x.weights}/{x.dense_weights} ({x.density:.1%})" for x in s.stats))
        goals = [
            ("SET within 1 point of dense", np.mean(dense.acc) - np.mean(s.acc) <= 1.0),
            ("SET ahead of static sparse", np.mean(s.acc) > np.mean(st.acc)),
            ("SET CPU time <= 1.5x dense", statistics.median(s.cpu) <= 1.5 * dense_cpu),
        ]
        for name, ok in goals:
            print(f"  {'met   ' if ok else 'MISSED'} {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
