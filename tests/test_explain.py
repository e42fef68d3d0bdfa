"""mlp.explain against hand computations and independent oracles (finite differences, NumPy
linear algebra): attributions, unit details, switched-off units, projections, the coverage
curve and the damage steps."""
import numpy as np
import pytest

from mlp import explain as E
from mlp.model import TrainedModel
from mlp.network import Network


def linear_net(seed=0, biases=True):
    """64-5-10: identity hidden layer, softmax output, input scale 1/16."""
    net = Network((64, 5, 10), ("identity", "softmax"), seed=seed, input_scale=1 / 16)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[...] = rng.normal(0, 0.5, b.shape) if biases else 0
    return net


def relu_net(seed=1, sizes=(64, 12, 7, 10), biases=False):
    net = Network(sizes, ("relu",) * (len(sizes) - 2) + ("softmax",), seed=seed, input_scale=1 / 16)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[...] = rng.normal(0, 0.3, b.shape) if biases else 0
    return net


def digit(seed=0):
    return np.random.default_rng(seed).integers(0, 17, 64).astype(float)


def test_linear_net_attribution_is_weight_times_input_and_sums_to_the_margin_without_biases():
    net, x, t = linear_net(), digit(), 3
    W = net.weights[0] @ net.weights[1]                    # the whole net is one linear map
    c = E.margin_direction(10, t)
    expected = (x / 16) * (W @ c)
    np.testing.assert_allclose(E.pixel_attribution(net, x, t), expected, rtol=1e-10, atol=1e-12)
    bias_part = (net.biases[0] @ net.weights[1] + net.biases[1]) @ c
    np.testing.assert_allclose(expected.sum() + bias_part, E.margin(net, x, t), rtol=1e-10)


def test_relu_net_attributions_sum_to_the_margin_and_match_finite_differences():
    net, x, t = relu_net(), digit(2), 4
    attr = E.pixel_attribution(net, x, t)
    np.testing.assert_allclose(attr.sum(), E.margin(net, x, t), rtol=1e-8)   # Euler: bias-free ReLU is 1-homogeneous
    h, grad = 1e-4, np.empty(64)
    for i in range(64):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (E.margin(net, up, t) - E.margin(net, down, t)) / (2 * h)
    np.testing.assert_allclose(attr, grad * x, atol=1e-6)


def test_a_pixel_that_excites_the_answer_gets_a_positive_share_and_one_that_inhibits_it_a_negative():
    net = Network((64, 10), ("softmax",), seed=0, input_scale=1 / 16)
    net.weights[0][...] = 0
    net.weights[0][5, 2] = 1.0        # pixel 5 votes for class 2
    net.weights[0][9, 2] = -1.0       # pixel 9 votes against it
    x = np.zeros(64)
    x[[5, 9, 20]] = 16
    attr = E.pixel_attribution(net, x, 2)
    assert attr[5] > 0 and attr[9] < 0 and attr[20] == 0
    assert np.count_nonzero(attr) == 2


def test_unit_contributions_sum_to_the_margin_for_one_hidden_layer():
    net, x, t = relu_net(sizes=(64, 20, 10)), digit(3), 7
    contrib = E.unit_contributions(net, x, t)
    assert contrib.shape == (20,)
    np.testing.assert_allclose(contrib.sum(), E.margin(net, x, t), rtol=1e-8)


def test_unit_detail_is_the_weighted_sum_bias_and_output_by_hand():
    net, x = relu_net(biases=True), digit(4)
    d = E.unit_detail(net, x, 1, 3)
    h1 = np.maximum(x / 16 @ net.weights[0] + net.biases[0], 0)
    z = h1 @ net.weights[1][:, 3] + net.biases[1][3]
    assert d["sum"] == pytest.approx(z) and d["bias"] == pytest.approx(net.biases[1][3])
    assert d["output"] == pytest.approx(max(z, 0)) and d["weights"].shape == (12,)


def test_switching_a_unit_off_changes_the_output_as_computed_by_hand_and_leaves_the_original():
    net = relu_net(sizes=(64, 6, 10), biases=True)
    model = TrainedModel(net, np.arange(10))
    before = net.params.copy()
    x = digit(5)
    edited = E.with_gains(model, {(0, 2): 0.0, (0, 4): 0.5})
    h = np.maximum(x / 16 @ net.weights[0] + net.biases[0], 0)
    h[2], h[4] = 0.0, h[4] * 0.5
    z = h @ net.weights[1] + net.biases[1]
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(edited.predict_proba(x[None])[0], expected, rtol=1e-10)
    np.testing.assert_array_equal(net.params, before)                  # the shared model is untouched
    assert not np.allclose(model.predict_proba(x[None]), edited.predict_proba(x[None]))
    shown = E.layer_outputs(net, x, E.gain_vectors(net, {(0, 2): 0.0}))[1][0]
    assert shown[2] == 0 and shown[4] == pytest.approx(np.maximum(x / 16 @ net.weights[0] + net.biases[0], 0)[4])


def test_projection_shapes_and_pca_matches_the_top_singular_vectors():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(60, 9)) * np.array([5, 3, 1, 1, 1, 1, 1, 1, 1])
    p = E.project(f)
    assert p.shape == (60, 2)
    centred = f - f.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(p), np.abs(centred @ vt[:2].T), rtol=1e-6, atol=1e-8)
    assert E.project(np.ones((5, 3))).shape == (5, 2)                   # all points equal: no crash
    assert E.project(f[:, :1]).shape == (60, 2)                         # one feature: padded


@pytest.mark.slow
def test_tsne_gives_one_point_per_digit():
    f = np.random.default_rng(0).normal(size=(40, 70))
    assert E.project(f, "tsne").shape == (40, 2)


def test_unknown_projection_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown projection"):
        E.project(np.zeros((3, 3)) + np.eye(3), "umap")


def test_coverage_curve_by_hand():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.55, 0.45]])
    y = np.array([0, 1, 1, 0])                      # right, wrong, right, right
    c = E.coverage_curve(proba, y, thresholds=[0.0, 0.58, 0.85, 0.95])
    np.testing.assert_allclose(c["coverage"], [1.0, 0.75, 0.25, 0.0])
    np.testing.assert_allclose(c["accuracy"][:3], [0.75, 2 / 3, 1.0])
    assert np.isnan(c["accuracy"][3])


def test_damage_steps_start_clean_and_get_worse():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, (6, 64)).astype(float)
    np.testing.assert_array_equal(E.add_noise(X, 0), X)
    np.testing.assert_allclose(E.rotate(X, 0), X)
    noisy = E.add_noise(X, 4.0)
    assert noisy.min() >= 0 and noisy.max() <= 16 and not np.allclose(noisy, X)
    bar = np.zeros((8, 8))
    bar[:, 3:5] = 16                                  # a vertical bar turned 90 deg lies flat
    flat = E.rotate(bar.reshape(1, 64), 90).reshape(8, 8)
    assert flat[3:5, :].sum() > 0.9 * bar.sum() and flat[:, 3:5].sum() < 0.5 * bar.sum()
    thin, thick = E.restroke(X[:2], 0.5), E.restroke(X[:2], 2.0)
    assert (thin.sum(axis=1) < thick.sum(axis=1)).all()
    sets = E.damaged_sets(X, "noise")
    assert [s for s, _ in sets] == list(E.DAMAGES["noise"][1])
