"""mlp.MLPClassifier and MLPRegressor against their oracles, scikit-learn's, and scikit-learn's own checks."""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.neural_network import MLPRegressor as SklearnRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlp import MLPClassifier, MLPRegressor, TrainConfig, Training
from mlp.estimator import EXPECTED_FAILED_CHECKS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.slow   # ~200 of scikit-learn's API checks: a few seconds together
@parametrize_with_checks([MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                                        random_state=0),
                          MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0),
                          MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01,
                                       random_state=0),
                          MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def start_from(est, X, y, coefs, intercepts):
    """Fit ``est`` once (to set it up), then put the given weights in, ready for a warm start."""
    est.set_params(max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    return est


def fit_quietly(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def same_start(X, y, params, seed=1):
    """Both estimators set up on (X, y) and given the same random starting weights."""
    rng = np.random.default_rng(seed)
    n_out = 1 if len(np.unique(y)) == 2 else len(np.unique(y))
    sizes = [X.shape[1], *params["hidden_layer_sizes"], n_out]
    coefs = [rng.uniform(-0.3, 0.3, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    intercepts = [rng.uniform(-0.3, 0.3, b) for b in sizes[1:]]
    theirs = start_from(SklearnMLP(**params), X, y, coefs, intercepts)
    ours = start_from(MLPClassifier(dtype="float64", **params), X, y, coefs, intercepts)
    return theirs, ours


def assert_same_weights(theirs, ours, tol):
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=tol)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_one_sgd_step_matches_sklearn(digits, activation):
    """Softmax + cross-entropy, 10 classes, L2 on: one full-batch SGD step gives sklearn's weights."""
    X, y = digits
    params = dict(hidden_layer_sizes=(12, 7), activation=activation, solver="sgd", momentum=0.0,
                  learning_rate_init=0.05, alpha=0.01, batch_size=len(X), shuffle=False)
    theirs, ours = same_start(X, y, params)
    before = [c.copy() for c in ours.coefs_]
    fit_quietly(theirs, X, y)
    fit_quietly(ours, X, y)
    assert_same_weights(theirs, ours, 1e-10)
    assert not np.allclose(before[0], ours.coefs_[0])  # the step did move the weights
    assert ours.out_activation_ == theirs.out_activation_ == "softmax"


@pytest.mark.parametrize("solver,extra", [("sgd", dict(momentum=0.9, nesterovs_momentum=True)),
                                          ("sgd", dict(momentum=0.5, nesterovs_momentum=False)),
                                          ("adam", dict(beta_1=0.8, beta_2=0.99))])
def test_several_epochs_of_minibatches_match_sklearn(digits, solver, extra):
    """Unshuffled minibatches over 3 epochs: the same weights and the same loss_curve_ (sklearn's
    mean batch loss with its L2 term) for every optimiser."""
    X, y = digits
    params = dict(hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, alpha=0.001, batch_size=64,
                  shuffle=False, **extra)
    theirs, ours = same_start(X, y, params)
    theirs.set_params(max_iter=3)
    ours.set_params(max_iter=3)
    fit_quietly(theirs, X, y)
    fit_quietly(ours, X, y)
    assert_same_weights(theirs, ours, 1e-9)
    np.testing.assert_allclose(ours.loss_curve_[-3:], theirs.loss_curve_[-3:], rtol=1e-10)


def test_two_classes_use_one_logistic_unit_like_sklearn(digits):
    X, y = digits
    keep = np.isin(y, [3, 8])
    X, y = X[keep], np.where(y[keep] == 3, "three", "eight")
    params = dict(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, learning_rate_init=0.1, batch_size=len(X),
                  shuffle=False)
    theirs, ours = same_start(X, y, params)
    fit_quietly(theirs, X, y)
    fit_quietly(ours, X, y)
    assert_same_weights(theirs, ours, 1e-10)
    assert ours.n_outputs_ == 1 and ours.out_activation_ == "logistic"
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-12)
    assert (ours.predict(X) == theirs.predict(X)).all()


def test_partial_fit_continues_from_coefs_like_sklearn(digits):
    """partial_fit keeps the optimiser's state and starts from whatever coefs_ holds."""
    X, y = digits
    params = dict(hidden_layer_sizes=(9,), solver="adam", batch_size=100, shuffle=False, learning_rate_init=0.01)
    theirs, ours = SklearnMLP(**params), MLPClassifier(dtype="float64", **params)
    classes = np.unique(y)
    theirs.partial_fit(X, y, classes=classes)
    ours.partial_fit(X, y, classes=classes)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]      # both now continue from sklearn's weights
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    ours._optimizer.m[...] = 0  # and the same (sklearn's) Adam state, rebuilt below
    ours._optimizer.v[...] = 0
    ours._optimizer.t = theirs._optimizer.t
    net = ours._network()
    for views, state in ((net.layer_views(ours._optimizer.m), theirs._optimizer.ms),
                         (net.layer_views(ours._optimizer.v), theirs._optimizer.vs)):
        n = len(views)
        for view, w, b in zip(views, state[:n], state[n:]):
            view[:-1], view[-1] = w, b
    opt = ours._optimizer   # ours keeps the moments unnormalised: m / (1 - β₁), v / (1 - β₂)
    opt.m /= 1 - opt.beta_1
    opt.v /= 1 - opt.beta_2
    for _ in range(2):
        theirs.partial_fit(X, y)
        ours.partial_fit(X, y)
    assert_same_weights(theirs, ours, 1e-9)
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert ours.t_ == theirs.t_ == 3 * len(X)


def test_stopping_rule_matches_sklearn(digits):
    """With a tol no epoch can beat, both stop after n_iter_no_change + 1 epochs."""
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), tol=10.0, n_iter_no_change=3, max_iter=50, random_state=0)
    theirs = fit_quietly(SklearnMLP(**params), X, y)
    ours = fit_quietly(MLPClassifier(**params), X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 5
    assert len(ours.loss_curve_) == 5 and ours.best_loss_ == min(ours.loss_curve_)
    assert ours.validation_scores_ is None


def test_early_stopping_restores_the_best_epoch(digits):
    """Early stopping on validation accuracy keeps the weights of the best epoch: the same weights
    as a run (same random_state, so the same split and batches) that ends at that epoch."""
    X, y = digits
    params = dict(hidden_layer_sizes=(10,), early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                  learning_rate_init=0.01, max_iter=60, random_state=3)
    est = fit_quietly(MLPClassifier(**params), X, y)
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ == len(est.loss_curve_) and est.n_iter_ < 60
    assert est.best_validation_score_ == max(scores) and est.best_loss_ is None
    best_epoch = int(np.argmax(scores)) + 1
    short = fit_quietly(MLPClassifier(**{**params, "max_iter": best_epoch}), X, y)
    assert_same_weights(short, est, 0)


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([-5, 10, 42])])
def test_any_labels(labels):
    X, y_idx = make_classification(120, 6, n_informative=4, n_classes=3, random_state=0)
    y = labels[y_idx]
    est = MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.05, max_iter=60, random_state=0).fit(X, y)
    assert (est.classes_ == np.sort(labels)).all()
    assert set(est.predict(X)) <= set(labels) and est.score(X, y) > 0.8
    proba = est.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert (est.classes_[proba.argmax(axis=1)] == est.predict(X)).all()


def test_pipeline_grid_search_and_cross_validation(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), batch_size=32, max_iter=30,
                                                         random_state=0))
    ours = cross_val_score(pipe, X, y, cv=3).mean()
    theirs = cross_val_score(make_pipeline(StandardScaler(), SklearnMLP(hidden_layer_sizes=(16,), batch_size=32,
                                                                        max_iter=30, random_state=0)), X, y, cv=3)
    assert ours > 0.7 and abs(ours - theirs.mean()) < 0.02  # chance: 0.1; 100 training digits per fold
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__activation": ["relu", "tanh"]},
                        cv=2).fit(X, y)
    assert grid.best_score_ > 0.6  # 150 training digits per fold
    copy = clone(grid.best_estimator_)
    assert copy.get_params()["mlpclassifier__alpha"] == grid.best_params_["mlpclassifier__alpha"]
    assert not hasattr(copy[-1], "coefs_")


def test_per_layer_activations_and_mse_loss(digits):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(20, 12), activation=("tanh", "relu"), loss="mse",
                        learning_rate_init=0.01, max_iter=40, random_state=0).fit(X, y)
    assert [c.shape for c in est.coefs_] == [(64, 20), (20, 12), (12, 10)]
    assert est.score(X, y) > 0.8


def test_dtype_follows_the_input_unless_given(digits):
    """scikit-learn's rule (float32 input trains in float32, anything else in float64); our dtype= overrides."""
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    exact = fit_quietly(MLPClassifier(**params), X, y)
    fast = fit_quietly(MLPClassifier(**params), X.astype(np.float32), y)
    forced = fit_quietly(MLPClassifier(dtype="float32", **params), X, y)
    assert exact.coefs_[0].dtype == np.float64 and exact.predict_proba(X).dtype == np.float64
    assert fast.coefs_[0].dtype == forced.coefs_[0].dtype == np.float32
    assert fast.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(fast.coefs_[0], exact.coefs_[0], atol=1e-4)
    np.testing.assert_array_equal(forced.coefs_[0], fast.coefs_[0])


def test_warm_start_continues_and_fit_restarts(digits):
    X, y = digits
    est = fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0), X, y)
    first = [c.copy() for c in est.coefs_]
    fit_quietly(est, X, y)  # no warm start: the same fresh start, the same result
    assert_same_weights(type("W", (), {"coefs_": first, "intercepts_": []})(), est, 0)
    est.set_params(warm_start=True)
    fit_quietly(est, X, y)
    assert len(est.loss_curve_) == 6 and not np.allclose(est.coefs_[0], first[0])
    with pytest.raises(ValueError, match="same classes"):
        est.fit(X[y < 5], y[y < 5])


@pytest.mark.parametrize("params,message", [
    (dict(solver="newton"), "solver"), (dict(activation="softplus"), "activation"),
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"), (dict(batch_size=0), "batch_size"),
    (dict(activation=("relu",), hidden_layer_sizes=(4, 4)), "activations"), (dict(loss="hinge"), "loss"),
    (dict(dtype="float16"), "dtype"), (dict(momentum=1.5), "momentum")])
def test_bad_parameters_get_a_clear_message(digits, params, message):
    X, y = digits
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params).fit(X, y)


def test_divergence_is_a_clear_error(digits):
    """scikit-learn's sentence for non-finite weights, plus ours on when and what to change."""
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, learning_rate_init=1e6, max_iter=5,
                        random_state=0, dtype="float32")
    with pytest.raises(ValueError, match=r"non-finite parameter weights.*diverged at epoch \d.*lower learning rate"):
        est.fit(X * 1e20, y)


@pytest.mark.parametrize("params", [dict(solver="adam"), dict(solver="sgd", learning_rate="invscaling"),
                                    dict(solver="adam", early_stopping=True, validation_fraction=0.2),
                                    dict(solver="lbfgs")])
def test_same_random_state_gives_sklearns_fit(digits, params):
    """Drawn from scikit-learn's stream in its order (weights, split, epoch orders): a float64 fit
    with the same random_state ends with scikit-learn's weights, for the classifier and the regressor."""
    X, y = digits
    common = dict(hidden_layer_sizes=(12,), max_iter=8, random_state=3, **params)
    for ours, theirs, target in ((MLPClassifier(**common), SklearnMLP(**common), y),
                                 (MLPRegressor(**common), SklearnRegressor(**common), y / 9.0)):
        fit_quietly(ours, X, target)
        fit_quietly(theirs, X, target)
        assert ours.n_iter_ == theirs.n_iter_
        assert_same_weights(theirs, ours, 1e-8)


def test_sample_weight_counts_like_repeated_rows_with_lbfgs(digits):
    X, y = digits
    weights = np.random.default_rng(0).integers(0, 3, len(y))
    params = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=40, random_state=0)
    weighted = fit_quietly(MLPClassifier(**params), X, y, sample_weight=weights)
    repeated = fit_quietly(MLPClassifier(**params), np.repeat(X, weights, axis=0), np.repeat(y, weights))
    theirs = fit_quietly(SklearnMLP(**params), X, y, sample_weight=weights)
    assert_same_weights(theirs, weighted, 1e-8)
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-6)


def test_sparse_input_trains_like_dense_without_densifying(digits):
    from scipy import sparse

    X, y = digits
    params = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0, batch_size=50)
    dense = fit_quietly(MLPClassifier(**params), X, y)
    csr = fit_quietly(MLPClassifier(**params), sparse.csr_matrix(X), y)
    assert_same_weights(dense, csr, 1e-10)
    np.testing.assert_array_equal(csr.predict(sparse.csc_matrix(X)), dense.predict(X))


def test_cosine_schedule_decays_to_zero_over_max_iter(digits):
    X, y = digits
    est = fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate="cosine", max_iter=10,
                                    n_iter_no_change=100, learning_rate_init=0.1, random_state=0), X, y)
    assert est.n_iter_ == 10 and est._optimizer.learning_rate == pytest.approx(0.0, abs=1e-12)
    half = fit_quietly(clone(est).set_params(max_iter=20), X, y)
    assert half._optimizer.learning_rate == pytest.approx(0.0, abs=1e-12)
    config = TrainConfig(hidden_layer_sizes=(8,), epochs=4, schedule="cosine", learning_rate=0.1)
    run = Training(config, X, y)
    rates = []
    for _ in run:
        rates.append(run.optimizer.learning_rate)
    np.testing.assert_allclose(rates, [0.1 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(1, 5)], atol=1e-12)


def test_dropout_trains_with_masks_and_predicts_with_every_unit(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(32,), max_iter=30, learning_rate_init=0.01, random_state=0)
    plain = fit_quietly(MLPClassifier(**params), X, y)
    dropped = fit_quietly(MLPClassifier(dropout=0.3, **params), X, y)
    again = fit_quietly(MLPClassifier(dropout=0.3, **params), X, y)
    assert_same_weights(dropped, again, 0)                    # seeded from random_state: repeatable
    assert not np.allclose(dropped.coefs_[0], plain.coefs_[0])
    np.testing.assert_array_equal(dropped.predict_proba(X), dropped.predict_proba(X))   # no masks at predict
    assert dropped.score(X, y) > 0.8
    reg = fit_quietly(MLPRegressor(dropout=(0.2,), **params), X, y / 9.0)
    assert reg.score(X, y / 9.0) > 0.3
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(dropout=1.5).fit(X, y)
