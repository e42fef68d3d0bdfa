"""scikit-learn's own tests of its MLP estimators, run against ``mlp.MLPClassifier``/``MLPRegressor``.

The test file ships inside the installed scikit-learn wheel
(``sklearn/neural_network/tests/test_mlp.py``). It is read from there at test time (never
copied into this repository), its one import of scikit-learn's estimators is switched to ours,
and its test functions become this module's, so pytest collects them with their own
parametrizations and fixtures. A test that cannot apply to our estimators goes in
``EXPECTED_FAILED`` with a one-line reason (then it must fail: strict xfail); the goal is none.
"""
import importlib.util
import os
import types
from pathlib import Path

import numpy as np
import pytest

SKLEARN = Path(importlib.util.find_spec("sklearn").submodule_search_locations[0])
SOURCE = SKLEARN / "neural_network" / "tests" / "test_mlp.py"
THEIR_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
OUR_IMPORT = "from mlp import MLPClassifier, MLPRegressor"
pytestmark = pytest.mark.slow   # ~55 of scikit-learn's tests: several seconds together

# test name (as collected, without parameters) -> why it cannot apply to our estimators.
EXPECTED_FAILED: dict[str, str] = {}


def _load_their_tests() -> types.ModuleType:
    """scikit-learn's test module, executed with its estimator import switched to ours."""
    text = SOURCE.read_text()
    if text.count(THEIR_IMPORT) != 1:  # scikit-learn changed its file: fail loudly, never test theirs
        raise RuntimeError(f"{SOURCE} no longer imports its estimators as {THEIR_IMPORT!r}")
    module = types.ModuleType("sklearn_test_mlp_on_ours")
    module.__file__ = str(SOURCE)
    exec(compile(text.replace(THEIR_IMPORT, OUR_IMPORT), str(SOURCE), "exec"), module.__dict__)
    return module


_THEIRS = _load_their_tests()
for _name, _test in vars(_THEIRS).items():
    if _name.startswith("test_") and callable(_test):
        if _name in EXPECTED_FAILED:
            _test = pytest.mark.xfail(strict=True, reason=EXPECTED_FAILED[_name])(_test)
        globals()[_name] = _test


@pytest.fixture
def global_random_seed():
    """scikit-learn's fixture (its conftest): the seed from SKLEARN_TESTS_GLOBAL_RANDOM_SEED, 42 by default."""
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42").split("-")[0])


def test_their_tests_run_on_our_estimators():
    """The switch took: every estimator their tests construct is ours."""
    import mlp

    assert _THEIRS.MLPClassifier is mlp.MLPClassifier and _THEIRS.MLPRegressor is mlp.MLPRegressor
    assert len([n for n in vars(_THEIRS) if n.startswith("test_")]) >= 40
    assert np.all(EXPECTED_FAILED.keys() <= set(vars(_THEIRS)))
