"""Tests for scripts/build_default_model.py: merged networks average their members' logits."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mlp import TrainConfig, load_model, model_to_bytes, train
from mlp.model import TrainedModel

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_default_model.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_default_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def members():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 16, (120, 64))
    y = (X[:, :32].sum(axis=1) > X[:, 32:].sum(axis=1)).astype(int) + 2 * (X[:, 0] > 8)
    config = TrainConfig(hidden_layer_sizes=(7,), epochs=3, batch_size=16)
    return X, [TrainedModel.from_run(train(config.replace(seed=s), X, y).run()) for s in (0, 1, 2)]


def test_merged_probabilities_are_the_softmax_of_the_mean_logit(build, members):
    X, models = members
    merged = build.merge(models, dtype="float64")
    assert tuple(merged.network.sizes) == (64, 21, 4)
    logits = np.mean([np.log(m.predict_proba(X)) for m in models], axis=0)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(merged.predict_proba(X), expected, rtol=1e-9, atol=1e-12)


def test_merged_model_survives_a_float32_file(build, members):
    X, models = members
    merged = build.merge(models)
    loaded = load_model(model_to_bytes(merged), n_features=64)
    assert loaded.network.dtype == np.float32
    np.testing.assert_allclose(loaded.predict_proba(X), merged.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(loaded.classes_, models[0].classes_)


def test_merge_refuses_networks_that_do_not_line_up(build, members):
    X, models = members
    y = np.arange(len(X)) % 3
    other = TrainedModel.from_run(train(TrainConfig(hidden_layer_sizes=(5,), epochs=1), X, y).run())
    with pytest.raises(ValueError):
        build.merge([models[0], other])
