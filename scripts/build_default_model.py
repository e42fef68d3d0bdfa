"""Build the shipped default model: several seeds of one recipe merged into one network.

    python scripts/build_default_model.py mlp/default_model.npz [--seeds 0 1 ... 17] [--epochs N]

Each seed trains PRESETS["drawing"] (the default preset plus eight re-rendered copies of every
digit, 30 epochs) on the load_digits training split (never anything else). The
one-hidden-layer networks are then merged into one wider network whose logits are the mean of
theirs (hidden units side by side, output weights divided by the number of models), computing in
float32 and stored rounded to float16 (half the file; its answers on handwriting-dev and
load_digits are the same), so `mlp.load_model` reads it like any other model and it classifies
in one pass. Deterministic given the seeds.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one core, steady timings

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlp import save_model, train  # noqa: E402
from mlp.datasets import load_digits_split  # noqa: E402
from mlp.model import TrainedModel  # noqa: E402
from mlp.network import Network  # noqa: E402
from mlp.presets import PRESETS  # noqa: E402

MEMBERS = 18   # members: 18 x 256 hidden units, a 64-4608-10 network, ~0.7 MB as float16


def merge(models: list, dtype: str = "float32") -> TrainedModel:
    """One network whose logits are the mean of the models' logits (one hidden layer each)."""
    nets = [m.network for m in models]
    if any(len(n.sizes) != 3 or n.sizes[::2] != nets[0].sizes[::2] for n in nets):
        raise ValueError("merge needs networks with one hidden layer and the same inputs and outputs")
    sizes = [nets[0].sizes[0], sum(n.sizes[1] for n in nets), nets[0].sizes[2]]
    acts = [a.name for a in nets[0].activations]
    net = Network(sizes, acts, seed=0, dtype=dtype, input_scale=nets[0].input_scale)
    net.layers[0][...] = np.concatenate([n.layers[0] for n in nets], axis=1)
    net.layers[1][:-1] = np.concatenate([n.layers[1][:-1] for n in nets], axis=0) / len(nets)
    net.layers[1][-1] = np.mean([n.layers[1][-1] for n in nets], axis=0)
    # No single TrainConfig describes the merged net (the members were trained at their own
    # width), so it carries none; mlp.default documents the recipe.
    return TrainedModel(net, models[0].classes.copy(), None, [])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the .npz file to write")
    # Nine: handwriting-dev 89.4% (seeds 0-2) -> 90.0% on average; fifteen gained nothing more
    # then. With open_loops (mlp/preprocess.py), 18 members of 30 epochs: 9-member groups of 15
    # epochs 91.50 / 91.45, of 30 epochs 92.12 / 91.65 / 91.40 / 91.80 (seeds 0-8, 10-18, 19-27,
    # 28-36); 18 members 92.22 (0-17), 91.98 (19-36), 91.75 (10-27), and every digit's recall
    # >= 0.80 on all four renderings for 0-17 and 10-27 (19-36: one 9 short on small_gray).
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(MEMBERS)))
    parser.add_argument("--epochs", type=int, default=PRESETS["drawing"].epochs)
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test = load_digits_split()
    models = []
    for seed in args.seeds:
        config = dataclasses.replace(PRESETS["drawing"], seed=seed, epochs=args.epochs)
        start = time.process_time()
        models.append(TrainedModel.from_run(train(config, X_train, y_train).run()))
        print(f"seed {seed}: held-out {models[-1].score(X_test, y_test):.4f}, "
              f"{time.process_time() - start:.1f} s CPU")
    merged = merge(models)
    save_model(merged, args.output, storage="float16")
    print(f"merged {merged.network.sizes}: held-out {merged.score(X_test, y_test):.4f}, "
          f"{args.output.stat().st_size / 1024:.0f} KiB -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
