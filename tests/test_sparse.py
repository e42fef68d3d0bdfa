"""Sparse connectivity and SET: exact masks, the evolution step, training integration, save/load."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from mlp import Network, TrainConfig, TrainedModel, load_model, model_to_bytes, train
from mlp.losses import CrossEntropy, loss_value
from mlp.network import Backprop
from mlp.optimizers import Adam, Momentum
from mlp.sparse import (
    NEW_WEIGHT_STD,
    connection_counts,
    epsilon_for_fraction,
    erdos_renyi_density,
    evolve,
    input_connections,
    layer_densities,
    layer_stats,
    sparse_layers,
    sparsify,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def sparse_net(sizes=(6, 7, 5, 3), acts=("tanh", "relu", "softmax"), density=0.4, seed=0, sparse_output=True):
    rng = np.random.default_rng(seed)
    net = Network(sizes, acts, seed=rng)
    return sparsify(net, layer_densities(sizes, density=density, sparse_output=sparse_output), rng)


def absent(net):
    return net.mask == 0


# ---- densities -------------------------------------------------------------------------------

def test_erdos_renyi_density_follows_the_formula_and_caps_at_one():
    assert erdos_renyi_density(64, 256, 20) == pytest.approx(20 * 320 / (64 * 256))
    assert erdos_renyi_density(10, 10, 20) == 1.0
    assert layer_densities((64, 256, 128, 10), epsilon=5) == pytest.approx(
        (5 * 320 / 16384, 5 * 384 / 32768, 1.0))
    assert layer_densities((64, 256, 10), epsilon=5, sparse_output=True)[-1] == pytest.approx(5 * 266 / 2560)
    assert layer_densities((64, 256, 128, 10), density=0.1) == (0.1, 0.1, 1.0)


def test_epsilon_for_fraction_is_the_largest_within_budget():
    sizes = (64, 256, 128, 10)
    dense = 64 * 256 + 256 * 128 + 128 * 10
    eps = epsilon_for_fraction(sizes, 0.10)
    kept = lambda e: sum(connection_counts(sizes, layer_densities(sizes, e)))  # noqa: E731
    assert kept(eps) <= 0.10 * dense < kept(eps * 1.01)
    with pytest.raises(ValueError, match="dense"):
        epsilon_for_fraction((64, 10, 256), 0.01)   # the dense output layer alone is over 1 %


# ---- masks -----------------------------------------------------------------------------------

def test_sparsify_keeps_exact_counts_dense_biases_and_zero_absent_weights():
    sizes = (64, 256, 128, 10)
    dens = layer_densities(sizes, epsilon=5)
    rng = np.random.default_rng(3)
    net = sparsify(Network(sizes, ("relu", "relu", "softmax"), seed=rng), dens, rng)
    stats = layer_stats(net)
    assert [s.weights for s in stats] == list(connection_counts(sizes, dens))
    assert stats[-1].density == 1.0 and sparse_layers(net) == [0, 1]
    for b in net.biases_in(net.mask):
        assert np.all(b == 1)
    assert np.all(net.params[absent(net)] == 0)
    assert np.count_nonzero(net.params * net.weight_mask) == sum(s.weights for s in stats)
    assert net.n_params == sum(s.params for s in stats) < sum(s.dense_params for s in stats)
    # Same seed, same mask; another seed, another mask.
    rng2 = np.random.default_rng(3)
    twin = sparsify(Network(sizes, ("relu", "relu", "softmax"), seed=rng2), dens, rng2)
    assert np.array_equal(twin.mask, net.mask) and np.array_equal(twin.params, net.params)
    rng3 = np.random.default_rng(4)
    other = sparsify(Network(sizes, ("relu", "relu", "softmax"), seed=rng3), dens, rng3)
    assert not np.array_equal(other.mask, net.mask)


def test_sparse_init_keeps_the_spread_of_a_dense_layer():
    """Weights are drawn for the effective fan-in, so pre-activations spread like a dense net's."""
    rng = np.random.default_rng(0)
    x = rng.random((500, 64))
    dense = Network((64, 256, 10), ("relu", "softmax"), seed=1)
    sparse = sparse_net((64, 256, 10), ("relu", "softmax"), density=0.1, seed=1, sparse_output=False)
    spread = lambda net: np.std(x @ net.weights[0])  # noqa: E731
    assert spread(sparse) == pytest.approx(spread(dense), rel=0.15)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_masked_gradient_matches_finite_differences_and_is_zero_off_mask(alpha):
    net = sparse_net()
    rng = np.random.default_rng(1)
    net.params += rng.normal(0, 0.1, net.params.size) * net.mask   # biases off zero, mask kept
    x = rng.normal(0, 1, (9, 6))
    y = np.eye(3)[rng.integers(0, 3, 9)]

    def total_loss():
        w = net.params * net.weight_mask
        return loss_value(CrossEntropy, y, net.forward(x)[-1], net.activations[-1]) + 0.5 * alpha * (w @ w) / len(x)

    fast = Backprop(net, len(x))
    fast.gradient(fast.with_ones(x), y, CrossEntropy, alpha=alpha)
    grads = fast.grads.copy()
    present = np.flatnonzero(net.mask)
    assert 0 < present.size < net.params.size
    numeric = np.empty(present.size)
    h = 1e-6
    for j, i in enumerate(present):
        keep = net.params[i]
        net.params[i] = keep + h
        up = total_loss()
        net.params[i] = keep - h
        down = total_loss()
        net.params[i] = keep
        numeric[j] = (up - down) / (2 * h)
    assert np.linalg.norm(grads[present] - numeric) / np.linalg.norm(numeric) < 1e-6
    assert np.all(grads[absent(net)] == 0)


@pytest.mark.parametrize("optimizer,extra", [("sgd", {}), ("momentum", {}), ("momentum", {"nesterov": True}),
                                             ("adam", {})])
@pytest.mark.parametrize("connectivity", ["static", "set"])
def test_absent_weights_stay_exactly_zero_through_training(digits, optimizer, extra, connectivity):
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(32, 16), connectivity=connectivity, density=0.2, sparse_output=True,
                      optimizer=optimizer, learning_rate=0.05 if optimizer != "adam" else 1e-3, alpha=0.01,
                      epochs=4, seed=1, **extra)
    run = train(cfg, X[:400], y[:400])
    counts = [s.weights for s in layer_stats(run.model)]
    masks = []
    for _ in run:
        net = run.model
        assert np.all(net.params[absent(net)] == 0)
        assert [s.weights for s in layer_stats(net)] == counts
        masks.append(net.mask.copy())
    assert run.status == "completed"
    changed = [not np.array_equal(a, b) for a, b in zip(masks, masks[1:])]
    assert changed == [connectivity == "set"] * 3


# ---- the evolution step ----------------------------------------------------------------------

def test_evolve_removes_the_weights_closest_to_zero_on_each_side_and_regrows_as_many():
    pos_vals = np.array([0.5, 0.01, 0.9, 0.02, 0.3, 0.7, 0.03, 0.6, 0.8, 0.4])
    neg_vals = -pos_vals
    # A 6x5 layer holding those twenty weights in its first twenty positions, the rest absent.
    net2 = Network((6, 5, 2), ("relu", "softmax"), seed=0)
    net2.mask = np.ones_like(net2.params)
    m2 = net2.layer_views(net2.mask)[0][:-1].reshape(-1)
    w2 = net2.weights[0].reshape(-1)
    m2[...] = 0
    w2[...] = 0
    m2[:20] = 1
    w2[:10], w2[10:20] = pos_vals, neg_vals
    before_out = net2.weights[1].copy()
    opt = Adam(net2.params)
    opt.m[...] = 1.0
    opt.v[...] = 1.0
    changed = evolve(net2, 0.3, np.random.default_rng(0), opt)
    assert changed == [6]                                # 3 positive + 3 negative of 20
    assert np.count_nonzero(m2) == 20
    # The three smallest of each sign went: 0.01, 0.02, 0.03 and their negatives (indices 1, 3, 6).
    removed = {1, 3, 6, 11, 13, 16}
    kept = set(range(20)) - removed
    assert all(m2[i] == 1 for i in kept) and np.array_equal(w2[sorted(kept)],
                                                            np.concatenate([pos_vals, neg_vals])[sorted(kept)])
    added = set(np.flatnonzero(m2)) - kept
    assert len(added) == 6 and added <= removed | set(range(20, 30))
    assert np.all(w2[m2 == 0] == 0)
    new_w = w2[sorted(added)]
    assert np.all(new_w != 0) and np.all(np.abs(new_w) < 6 * NEW_WEIGHT_STD)
    # Moments reset where connections were removed or added, kept for survivors and other layers.
    touched = np.zeros(30, bool)
    touched[list(removed | added)] = True
    assert np.all(opt.m[:30][touched] == 0) and np.all(opt.v[:30][touched] == 0)
    assert np.all(opt.m[:30][~touched] == 1) and np.all(opt.m[30:] == 1)
    assert np.array_equal(net2.weights[1], before_out)     # the dense output layer is untouched


def test_adam_reset_restarts_the_moments_and_the_bias_correction():
    """A reset parameter steps exactly as under a fresh Adam; the others are unaffected."""
    rng = np.random.default_rng(0)
    params = rng.normal(0, 1, 50)
    opt, twin = Adam(params, learning_rate=0.01), Adam(params, learning_rate=0.01)
    for _ in range(30):
        g = rng.normal(0, 1, 50)
        opt.step(params.copy(), g)
        twin.step(params.copy(), g)
    index = np.array([3, 7, 20])
    opt.reset(index)
    fresh = Adam(params, learning_rate=0.01)
    for _ in range(5):
        g = rng.normal(0, 1, 50)
        p, q, r = params.copy(), params.copy(), params.copy()
        opt.step(p, g)
        twin.step(q, g)
        fresh.step(r, g)
        assert np.allclose(p[index], r[index], rtol=1e-12, atol=0)
        others = np.setdiff1d(np.arange(50), index)
        assert np.array_equal(p[others], q[others])
    # Without the restarted correction the first step after a reset is 2.5x the learning rate.
    stale = Adam(params, learning_rate=0.01)
    stale.t = 1000
    p = params.copy()
    stale.step(p, np.ones(50))
    assert np.all(np.abs(p - params) > 2 * 0.01)


def test_evolve_is_deterministic_and_a_no_op_for_dense_nets():
    a, b = sparse_net(seed=5), sparse_net(seed=5)
    evolve(a, 0.3, np.random.default_rng(9), Momentum(a.params))
    evolve(b, 0.3, np.random.default_rng(9), Momentum(b.params))
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.params, b.params)
    dense = Network((6, 7, 3), ("relu", "softmax"), seed=0)
    before = dense.params.copy()
    assert evolve(dense, 0.3, np.random.default_rng(0)) == []
    assert np.array_equal(dense.params, before)


# ---- training --------------------------------------------------------------------------------

def test_set_runs_repeat_under_the_seed_and_each_record_describes_the_model(digits):
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(48,), connectivity="set", set_epsilon=4, epochs=5, seed=2)
    run = train(cfg, X[:500], y[:500])
    xs, idx = X[:500] / 16.0, np.searchsorted(run.classes, y[:500])
    for record in run:
        # Evolution happens when the next epoch starts, so the model is the one the record measured.
        acc = np.mean(np.argmax(run.model.forward(xs, scaled=True)[-1], axis=1) == idx)
        assert acc == pytest.approx(record.train_accuracy)
    again = train(cfg, X[:500], y[:500]).run()
    assert np.array_equal(again.model.mask, run.model.mask) and np.array_equal(again.model.params, run.model.params)
    other = train(cfg.replace(seed=3), X[:500], y[:500]).run()
    assert not np.array_equal(other.model.mask, run.model.mask)


def test_one_epoch_of_set_is_static_sparse_training(digits):
    """No evolution after the last epoch: a single SET epoch is exactly a static sparse epoch."""
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(40, 20), connectivity="set", set_epsilon=3, epochs=1, seed=4)
    s, t = train(cfg, X[:300], y[:300]).run(), train(cfg.replace(connectivity="static"), X[:300], y[:300]).run()
    assert np.array_equal(s.model.mask, t.model.mask) and np.array_equal(s.model.params, t.model.params)


def test_early_stopping_restores_the_mask_with_the_weights(digits):
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(40,), connectivity="set", set_epsilon=3, epochs=60, seed=0,
                      validation_fraction=0.2, early_stopping=True, n_iter_no_change=3, learning_rate=0.01)
    run = train(cfg, X[:600], y[:600]).run()
    assert run.status == "early_stopped"
    net = run.model
    assert np.all(net.params[absent(net)] == 0)
    # The restored weights fill the restored mask: the sparse layer holds exactly its connections.
    assert np.count_nonzero(net.weights[0]) == layer_stats(net)[0].weights


def test_set_learns_digits_and_moves_connections_off_blank_pixels(digits):
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(128,), connectivity="set", set_epsilon=4, epochs=30, seed=0)
    run = train(cfg, X[:1400], y[:1400]).run()
    assert TrainedModel.from_run(run).score(X[1400:], y[1400:]) > 0.85   # the harder tail of load_digits
    assert layer_stats(run.model)[0].density < 0.1
    static = train(cfg.replace(connectivity="static"), X[:1400], y[:1400]).run()
    # Weights from pixels that are 0 in every training digit only feel L2, shrink, and are pruned;
    # what is left there is mostly the last epoch's random regrowth.
    blank = X[:1400].max(axis=0) == 0
    assert blank.sum() >= 3

    def ratio(net):
        counts = input_connections(net)
        return counts[blank].mean() / counts.mean()

    assert ratio(run.model) < 0.7 and ratio(run.model) < ratio(static.model) - 0.2


def test_input_connections_and_layer_stats_report_the_mask():
    dense = Network((64, 30, 10), ("relu", "softmax"), seed=0)
    assert np.array_equal(input_connections(dense, (8, 8)), np.full((8, 8), 30))
    assert [(s.weights, s.dense_weights, s.biases, s.density) for s in layer_stats(dense)] == [
        (1920, 1920, 30, 1.0), (300, 300, 10, 1.0)]
    net = sparse_net((64, 30, 10), ("relu", "softmax"), density=0.25, sparse_output=False)
    grid = input_connections(net, (8, 8))
    assert grid.shape == (8, 8) and grid.sum() == layer_stats(net)[0].weights == round(0.25 * 1920)
    assert np.array_equal(grid.reshape(-1), net.layer_views(net.mask)[0][:-1].sum(axis=1))


def test_saved_sparse_model_keeps_its_mask_and_settings(digits):
    X, y = digits
    cfg = TrainConfig(hidden_layer_sizes=(32,), connectivity="set", density=0.15, zeta=0.2, epochs=3, seed=1)
    model = TrainedModel.from_run(train(cfg, X[:300], y[:300]).run())
    loaded = load_model(model_to_bytes(model), n_features=64)
    assert np.array_equal(loaded.network.mask, model.network.mask)
    assert np.array_equal(loaded.predict_proba(X[300:400]), model.predict_proba(X[300:400]))
    assert loaded.config == cfg
    # Continuing training keeps the loaded topology's absent weights at zero.
    more = train(cfg.replace(epochs=2), X[:300], y[:300], model=loaded.network).run()
    assert np.all(more.model.params[absent(more.model)] == 0)


@pytest.mark.parametrize("change,message", [
    ({"connectivity": "sparse"}, "connectivity"), ({"set_epsilon": 0}, "epsilon"),
    ({"density": 0.0}, "density"), ({"density": 1.5}, "density"), ({"zeta": 1.0}, "zeta"),
    ({"connectivity": "set", "hidden_layer_sizes": ()}, "hidden layer"),
])
def test_bad_sparse_settings_get_a_clear_message(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change).validate()


# ---- the estimator ---------------------------------------------------------------------------

def test_estimator_trains_sparse_and_keeps_exact_masks(digits):
    import warnings

    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    from mlp.estimator import MLPClassifier

    X, y = digits
    kw = dict(hidden_layer_sizes=(64,), set_epsilon=4, max_iter=60, random_state=0, n_iter_no_change=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        set_clf = MLPClassifier(connectivity="set", **kw).fit(X[:1300], y[:1300])
        static = MLPClassifier(connectivity="static", **kw).fit(X[:1300], y[:1300])
        short = MLPClassifier(connectivity="static", **{**kw, "max_iter": 1}).fit(X[:1300], y[:1300])
    assert clone(set_clf).get_params()["connectivity"] == "set"
    expected = connection_counts((64, 64, 10), layer_densities((64, 64, 10), epsilon=4))
    for clf in (set_clf, static):
        assert clf.score(X[1300:], y[1300:]) > 0.8   # raw 0..16 inputs, as scikit-learn takes them
        assert [int(m.sum()) for m in clf.coef_masks_] == list(expected)
        assert all(np.all(c[~m] == 0) for c, m in zip(clf.coefs_, clf.coef_masks_))
    # Static keeps its first mask for the whole fit; SET rewires it.
    assert np.array_equal(static.coef_masks_[0], short.coef_masks_[0])
    assert not np.array_equal(set_clf.coef_masks_[0], short.coef_masks_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert MLPClassifier(**kw).fit(X[:300], y[:300]).coef_masks_ is None
    # A warm start continues on the same topology.
    before = [m.copy() for m in static.coef_masks_]
    static.set_params(warm_start=True, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        static.fit(X[:1300], y[:1300])
    assert all(np.array_equal(a, b) for a, b in zip(before, static.coef_masks_))
    with pytest.raises(ValueError, match="connectivity"):
        MLPClassifier(connectivity="sparse").fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="zeta"):
        MLPClassifier(zeta=1.5).fit(X[:50], y[:50])


def test_estimator_early_stopping_restores_a_consistent_sparse_net(digits):
    from mlp.estimator import MLPClassifier

    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(48,), connectivity="set", set_epsilon=3, early_stopping=True,
                        n_iter_no_change=3, max_iter=200, learning_rate_init=0.01, random_state=1).fit(X, y)
    assert clf.n_iter_ < 200
    assert all(np.count_nonzero(c) == m.sum() for c, m in zip(clf.coefs_[:1], clf.coef_masks_[:1]))
    assert all(np.all(c[~m] == 0) for c, m in zip(clf.coefs_, clf.coef_masks_))
