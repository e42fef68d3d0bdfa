"""Dense vs static sparse vs SET on held-out digits: accuracy, training time, and issue 7's goal.

    python benchmarks/bench_set.py [--fractions 0.05] [--seeds 40] [--first-seed 0] [--no-shifts]
                                   [--epochs 40] [--learning-rate 0.01] [--zeta 0.3]
                                   [--new-weight-std 0.1] [--optimizer adam] [--momentum 0.9]
                                   [--nesterov] [--batch-size 32] [--l2 1e-4]
                                   [--sparse-init sparse-fan-in|dense-fan-in]

Hidden layers (256, 128), ReLU, softmax output, Adam, batch 32, L2 1e-4, and the app's default
recipe's half-pixel shifts (four shifted copies of every training digit; ``--no-shifts`` trains on
the digits alone); ``load_digits`` split 75/25 stratified (random_state=0), so 450 held-out digits
and one digit is 0.22 point. Each sparse budget keeps at most that fraction of the dense net's
weights (biases stay dense; the output layer stays dense, as in SET's reference code), with SET's
ε chosen to fill it. All modes use the same settings; only ``connectivity`` differs. Times cover
``run.run()`` (SET's per-epoch evolution included), modes interleaved per seed; with one BLAS
thread a run is single-threaded, so CPU time is what the wall-clock would be on an idle machine,
and the time goal is checked on it.

The default budget is 5%, where SET meets the goal. The results, and why these settings (learning
rate, epochs, shifts), are in docs/set.md, with the other budgets and settings measured. The
default is 40 seeds (about 11 minutes on one core; 2 without shifts) because the differences are
a digit or two: with 5 to 20 seeds they can change sign from one seed set to the next. For each
budget the script prints a PASS or FAIL line for each condition of the goal: SET's mean accuracy
within 1 point of dense; SET ahead of static sparse by more than one held-out digit (mean of the
per-seed differences, shown with its standard error and how many seeds SET won and lost); SET's
median CPU time at most 1.5x dense's. ``--first-seed`` runs fresh seeds, to check a result on
seeds it was not picked on.
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

import mlp.sparse  # noqa: E402
from mlp import TrainConfig, TrainedModel, train  # noqa: E402
from mlp.network import Network  # noqa: E402
from mlp.sparse import epsilon_for_fraction, layer_densities, layer_stats, sparsify  # noqa: E402
from mlp.training import Training  # noqa: E402

HIDDEN = (256, 128)
BUDGETS = (0.05,)


class Result:
    """One mode's runs: accuracies, wall and CPU seconds, the last run's layer sizes."""

    def __init__(self):
        self.acc, self.wall, self.cpu, self.stats = [], [], [], None

    def add(self, config, X_tr, y_tr, X_te, y_te, sparse_init="sparse-fan-in"):
        if config.connectivity == "dense" or sparse_init == "sparse-fan-in":
            run = train(config, X_tr, y_tr)
        else:
            run = dense_fan_in_run(config, X_tr, y_tr)
        start, start_cpu = time.perf_counter(), time.process_time()
        run.run()
        self.wall.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - start_cpu)
        self.acc.append(100 * TrainedModel.from_run(run).score(X_te, y_te))
        self.stats = layer_stats(run.model)


def dense_fan_in_run(config, X, y):
    """A run whose sparse layers start with the dense net's weights, masked (not rescaled).

    ``build_network`` draws a sparse layer's weights for its effective fan-in p · n_in (1/√p
    larger than a dense layer's); SET's reference code draws them for the dense fan-in n_in
    (He-uniform, sqrt(6 / n_in)), the scale of its regrown weights. One generator per seed, as
    ``build_network`` uses it (net, masks, then training), though the masks drawn differ from its.
    """
    rng = np.random.default_rng(config.seed)
    sizes = (X.shape[1], *config.hidden_layer_sizes, len(np.unique(y)))
    net = Network(sizes, (*config.hidden_activations(), config.output_activation), seed=rng,
                  dtype=config.dtype, input_scale=config.input_scale)
    dense_params = net.params.copy()
    sparsify(net, layer_densities(sizes, config.set_epsilon, config.density, config.sparse_output), rng,
             keep_init=True)
    net.params[...] = dense_params * net.mask
    return Training(config, X, y, model=net, rng=rng)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=list(BUDGETS),
                        help="sparse budgets: weights kept / dense weights")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--zeta", type=float, default=0.3)
    parser.add_argument("--new-weight-std", type=float, default=mlp.sparse.NEW_WEIGHT_STD,
                        help="standard deviation of SET's regrown weights (mlp.sparse.NEW_WEIGHT_STD)")
    parser.add_argument("--optimizer", choices=("adam", "momentum", "sgd"), default="adam",
                        help="the same optimiser for every mode (momentum: SGD with momentum, as SET's paper)")
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum of --optimizer momentum")
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum (--optimizer momentum)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--l2", type=float, default=1e-4, help="L2 strength (alpha), scikit-learn's scaling")
    parser.add_argument("--shifts", action=argparse.BooleanOptionalAction, default=True,
                        help="train every mode on the half-pixel-shifted copies too, 5x the digits "
                             "(the default, as the app's default recipe)")
    parser.add_argument("--sparse-init", choices=("sparse-fan-in", "dense-fan-in"), default="sparse-fan-in",
                        help="sparse layers' initial weights: drawn for the effective fan-in p·n_in "
                             "(mlp's rule) or the dense net's, masked (SET's reference code)")
    args = parser.parse_args(argv)
    # evolve() reads the module constant at each call, so this changes the regrown weights only.
    mlp.sparse.NEW_WEIGHT_STD = args.new_weight_std

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    digit = 100 / len(y_te)
    sizes = (X.shape[1], *HIDDEN, 10)
    base = TrainConfig(hidden_layer_sizes=HIDDEN, optimizer=args.optimizer, learning_rate=args.learning_rate,
                       momentum=args.momentum, nesterov=args.nesterov, epochs=args.epochs,
                       batch_size=args.batch_size, alpha=args.l2, zeta=args.zeta, shifts=args.shifts)
    opt = {"adam": "Adam", "sgd": "SGD",
           "momentum": f"SGD momentum {args.momentum:g}{' (Nesterov)' if args.nesterov else ''}"}[args.optimizer]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"hidden {HIDDEN}, {opt} lr {args.learning_rate:g}, {args.epochs} epochs, batch {args.batch_size}, "
          f"L2 {args.l2:g}, {'half-pixel shifts, ' if args.shifts else ''}sparse init {args.sparse_init}, "
          f"ζ {args.zeta}, regrown weights N(0, {args.new_weight_std:g}²); {len(X_tr)} train / {len(X_te)} "
          f"held-out digits; seeds {seeds.start}..{seeds.stop - 1}")
    print("budgets (weights kept / dense weights): " + ", ".join(f"{100 * f:g}%" for f in args.fractions))

    eps = {f: epsilon_for_fraction(sizes, f) for f in args.fractions}
    runs = {("dense", None): Result()}
    for f in args.fractions:
        runs[("static", f)], runs[("set", f)] = Result(), Result()
    for seed in seeds:
        for (mode, f), result in runs.items():
            extra = {} if f is None else {"set_epsilon": eps[f]}
            result.add(base.replace(connectivity=mode, seed=seed, **extra), X_tr, y_tr, X_te, y_te,
                       args.sparse_init)

    dense = runs[("dense", None)]
    dense_cpu = statistics.median(dense.cpu)
    print("\naccuracy in % of the held-out digits over seeds (sd: standard deviation); times: medians")
    print(f"{'mode':8} {'ε':>6} {'weights':>15} {'mean':>6} {'sd':>5} {'min':>6} {'max':>6} "
          f"{'wall s':>7} {'cpu s':>6} {'cpu/dense':>9}")
    for (mode, f), r in runs.items():
        w, dw = sum(s.weights for s in r.stats), sum(s.dense_weights for s in r.stats)
        a, c = np.array(r.acc), statistics.median(r.cpu)
        e = "" if f is None else f"{eps[f]:.2f}"
        sd = a.std(ddof=1) if len(a) > 1 else 0.0
        print(f"{mode:8} {e:>6} {w:>6} ({w / dw:5.1%}) {a.mean():6.2f} {sd:5.2f} {a.min():6.2f} "
              f"{a.max():6.2f} {statistics.median(r.wall):7.2f} {c:6.2f} {c / dense_cpu:8.2f}x")

    met_anywhere = False
    for f in args.fractions:
        s, st = runs[("set", f)], runs[("static", f)]
        gap = np.mean(dense.acc) - np.mean(s.acc)
        diff = np.array(s.acc) - np.array(st.acc)
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        ratio = statistics.median(s.cpu) / dense_cpu
        print(f"\nbudget {100 * f:g}% (ε {eps[f]:.2f}): per layer " + "; ".join(
            f"{x.n_in}->{x.n_out} {x.weights}/{x.dense_weights} ({x.density:.1%})" for x in s.stats))
        goals = [
            (gap <= 1.0, f"SET within 1 point of dense: SET {np.mean(s.acc):.2f}% vs dense "
                         f"{np.mean(dense.acc):.2f}% ({-gap:+.2f})"),
            (len(diff) > 1 and diff.mean() > digit,
             f"SET ahead of static sparse by more than one held-out digit ({digit:.2f}): "
                                  f"SET {np.mean(s.acc):.2f}% vs static {np.mean(st.acc):.2f}%, per seed "
                                  f"{diff.mean():+.2f} ± {se:.2f}, SET better on {np.sum(diff > 0)} seeds, "
                                  f"worse on {np.sum(diff < 0)}" + ("" if len(diff) > 1 else "; one seed: no verdict")),
            (ratio <= 1.5, f"SET CPU time <= 1.5x dense: {ratio:.2f}x"),
        ]
        for ok, text in goals:
            print(f"  {verdict(ok)}  {text}")
        met_anywhere |= f <= 0.10 + 1e-9 and all(ok for ok, _ in goals)
    print(f"\ngoal (all three at one budget <= 10%): {verdict(met_anywhere)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
