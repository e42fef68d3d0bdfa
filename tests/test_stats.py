"""mlp.stats: the numbers the live views draw, checked on hand-made networks and known changes."""
import numpy as np
import pytest

import mlp
from mlp import LeakyRelu, Network, Relu, Sigmoid, Tanh, TrainConfig
from mlp.stats import HIST_BINS, Monitor, can_die, dead_share, histogram, strip_indices, update_ratio
from ui.data import split_digits


@pytest.fixture(scope="module")
def digits():
    return split_digits()


def hand_made():
    """2 inputs in [0, 1] -> 3 ReLU units -> 2 softmax outputs. Unit 0 is positive for every such
    input, unit 1 never (negative weights and bias), unit 2 only when x0 > x1."""
    net = Network((2, 3, 2), ("relu", "softmax"), seed=0)
    net.weights[0][...] = [[1.0, -1.0, 1.0], [1.0, -2.0, -1.0]]
    net.biases[0][...] = [0.5, -0.1, 0.0]
    return net


def test_dead_share_counts_units_silent_on_every_input():
    net = hand_made()
    probe = np.array([[0.0, 0.0], [1.0, 0.0], [0.2, 0.9], [1.0, 1.0]])
    hidden = net.forward(probe)[1]
    assert dead_share(hidden) == pytest.approx(1 / 3)     # unit 1 only
    assert dead_share(hidden[[0, 2, 3]]) == pytest.approx(2 / 3)   # no input with x0 > x1: unit 2 is silent too
    monitor = Monitor(net, probe, probe[:2], classes=[0, 1])
    first = monitor.snapshot().dead[0]
    assert first[0] == pytest.approx(1 / 3) and np.isnan(first[1])   # the output layer is not counted


def test_only_units_that_output_zero_below_zero_can_die():
    assert can_die(Relu)
    assert not any(can_die(a) for a in (LeakyRelu, Tanh, Sigmoid))
    net = Network((2, 3, 2), ("tanh", "softmax"), seed=0)
    assert np.all(np.isnan(Monitor(net, np.ones((4, 2)), np.ones((1, 2)), [0, 1]).snapshot().dead))


def test_update_ratio_of_a_known_change():
    assert update_ratio([3.0, 0.0], [3.0, 4.0]) == pytest.approx(4 / 5)
    assert update_ratio(np.zeros((2, 2)), [[3.0, 0.0], [0.0, 4.0]]) == pytest.approx(1.0)
    assert update_ratio([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert update_ratio([1.0], [0.0]) == 0.0          # no weights to compare with: no ratio


def test_monitor_reports_each_layers_change_per_epoch():
    net = hand_made()
    monitor = Monitor(net, np.ones((3, 2)), np.ones((1, 2)), [0, 1])
    w0 = net.weights[0].copy()
    net.weights[0][...] += 0.1                         # epoch 1: only the hidden layer moves
    monitor.observe(1)
    net.weights[1][...] *= 2                           # epoch 2: only the output layer, doubled
    monitor.observe(2)
    ratios = monitor.snapshot().ratios
    assert ratios.shape == (2, 2)
    expected = np.linalg.norm(np.full_like(w0, 0.1)) / np.linalg.norm(w0 + 0.1)
    assert ratios[0] == pytest.approx([expected, 0.0])
    assert ratios[1] == pytest.approx([0.0, 0.5])      # ‖2w − w‖ / ‖2w‖


def test_histograms_share_symmetric_bins_and_count_everything():
    rng = np.random.default_rng(0)
    start, now = rng.normal(0, 0.1, 900), rng.normal(0, 0.5, 900)
    edges, a, b = histogram(start, now)
    assert edges.shape == (31,) and a.shape == b.shape == (30,)      # √900 bins
    assert edges[0] == pytest.approx(-edges[-1]) == pytest.approx(-np.abs(np.r_[start, now]).max())
    assert a.sum() == b.sum() == 900
    assert a.std() > b.std()                               # the narrow start piles into fewer bins
    assert histogram(np.zeros(5), np.zeros(5))[0].shape == (11,)    # at least 10 bins; a zero range
    assert len(histogram(rng.normal(size=10**5), np.zeros(3))[1]) == HIST_BINS
    edges, a, b = histogram([0.5, np.nan, np.inf], [-0.25], bins=4)
    assert a.sum() == 1 and b.sum() == 1 and edges[-1] == 0.5       # non-finite values left out


def test_sparse_layers_histogram_only_their_connections(digits):
    config = TrainConfig(hidden_layer_sizes=(32,), connectivity="static", density=0.25, epochs=1, seed=1)
    run = mlp.train(config, digits.X_train, digits.y_train)
    snapshot = Monitor(run.model, digits.X_test[:10], digits.X_test[:2], run.classes).snapshot()
    present = np.count_nonzero(run.model.layer_views(run.model.mask)[0][:-1])
    assert present < 64 * 32 and snapshot.histograms[0][1].sum() == snapshot.histograms[0][2].sum() == present


def test_snapshots_of_a_run_are_copies_with_one_row_per_epoch(digits):
    config = TrainConfig(hidden_layer_sizes=(16, 8), epochs=3, batch_size=64, seed=2)
    run = mlp.train(config, digits.X_train, digits.y_train)
    strip = digits.X_test[strip_indices(digits.y_test)]
    monitor = Monitor(run.model, digits.X_test[:100], strip, run.classes)
    start = monitor.snapshot()
    for record in run:
        monitor.observe(record.epoch)
    end = monitor.snapshot()
    assert start.epoch == 0 and end.epoch == 3
    assert end.ratios.shape == (3, 3) and end.dead.shape == (4, 3) and np.all(end.ratios[:, :2] > 0)
    assert not np.array_equal(start.first_weights, end.first_weights)        # the start's copy stayed put
    np.testing.assert_array_equal(start.first_weights, end.first_initial)
    np.testing.assert_array_equal(end.first_weights, run.model.weights[0])
    assert end.strip_proba.shape == (20, 10)
    np.testing.assert_allclose(end.strip_proba.sum(axis=1), 1)
    np.testing.assert_allclose(end.strip_proba, mlp.TrainedModel.from_run(run).predict_proba(strip))
    assert [len(h[1]) for h in end.histograms] == [int(np.clip(np.sqrt(n), 10, HIST_BINS)) for n in (1024, 128, 80)]


def test_strip_indices_take_each_class_in_turn():
    y = np.array([3, 1, 3, 0, 1, 0, 3, 1])
    assert strip_indices(y, 2).tolist() == [3, 1, 0, 5, 4, 2]
    assert strip_indices(y, 3).tolist() == [3, 1, 0, 5, 4, 2, 7, 6]     # class 0 has only two
