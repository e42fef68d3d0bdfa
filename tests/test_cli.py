"""`python -m mlp`: trains, reports on held-out digits only, saves, and refuses bad flags plainly."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlp import load_model

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return subprocess.run([sys.executable, "-m", "mlp", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.slow   # a subprocess that imports scikit-learn and trains: a few seconds
def test_trains_reports_held_out_and_saves(tmp_path):
    path = tmp_path / "fast.npz"
    out = run("--preset", "fast", "--hidden", "32", "--epochs", "5", "--seed", "3", "--save", str(path))
    assert out.returncode == 0, out.stderr
    assert "450 digits never seen in training" in out.stdout
    accuracy = float(re.search(r"Held-out accuracy: ([\d.]+)", out.stdout).group(1))
    assert accuracy > 0.85
    assert len(re.findall(r"^epoch +\d+", out.stdout, re.M)) == 5
    model = load_model(path, n_features=64)
    assert model.network.sizes == (64, 32, 10) and model.config.seed == 3


def test_bad_settings_exit_2_with_a_sentence():
    out = run("--hidden", "0")
    assert out.returncode == 2 and out.stderr.startswith("error: hidden layer sizes")


def test_help_does_not_load_scikit_learn_or_scipy():
    # scikit-learn takes ~1.5 s to import, SciPy ~0.4 s: `import mlp` and `--help` stay fast without them.
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlp", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "usage: python -m mlp" in out.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert "mlp.training" in imported and not any(m.split(".")[0] in ("sklearn", "scipy") for m in imported)


def test_the_estimator_is_still_importable_from_mlp():
    import mlp
    from mlp.estimator import MLPClassifier
    assert mlp.MLPClassifier is MLPClassifier and "MLPClassifier" in dir(mlp)


@pytest.mark.slow
def test_divergence_is_reported_not_raised():
    out = run("--optimizer", "sgd", "--learning-rate", "1000", "--loss", "mse", "--output", "identity",
              "--epochs", "20", "--quiet")
    assert out.returncode == 1 and "lower learning rate" in out.stdout
