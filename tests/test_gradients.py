"""Backprop against central finite differences, in float64, for every activation × loss pair."""
import itertools

import numpy as np
import pytest

from mlp import Network
from mlp.activations import HIDDEN_ACTIVATIONS
from mlp.losses import CrossEntropy, MSE, MSEAsPublished, loss_value
from mlp.network import Backprop

PAIRS = [("cross_entropy", "softmax"), ("cross_entropy", "sigmoid")] + [
    ("mse", out) for out in ("softmax", "sigmoid", "identity", "tanh", "relu", "leaky_relu")]
LOSS = {"mse": MSE, "cross_entropy": CrossEntropy}


def total_loss(net, x, y, loss, alpha):
    a = net.forward(x)[-1]
    w = net.params * net.weight_mask
    return loss_value(loss, y, a, net.activations[-1]) + 0.5 * alpha * float(w @ w) / len(x)


def relative_error(net, x, y, loss, alpha=0.0, h=1e-6):
    """max |backprop - numeric| / max(|backprop|, |numeric|) over all parameters."""
    ws = Backprop(net, len(x))
    ws.gradient(ws.with_ones(x), y, loss, alpha=alpha)
    analytic = ws.grads.copy()
    numeric = np.empty_like(analytic)
    for i in range(net.params.size):
        keep = net.params[i]
        net.params[i] = keep + h
        up = total_loss(net, x, y, loss, alpha)
        net.params[i] = keep - h
        down = total_loss(net, x, y, loss, alpha)
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * h)
    return np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic), np.linalg.norm(numeric))


def problem(sizes, acts, seed, output):
    rng = np.random.default_rng(seed)
    net = Network(sizes, acts, seed=seed)
    # Move biases off zero so ReLU kinks are not sat on by chance.
    net.params += rng.normal(0, 0.1, net.params.size)
    x = rng.normal(0, 1, (7, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 7)]
    if output == "sigmoid":  # binary cross-entropy takes any 0/1 targets, several per row
        y = (rng.random((7, sizes[-1])) < 0.4).astype(float)
    return net, x, y


@pytest.mark.parametrize("hidden,pair", list(itertools.product(HIDDEN_ACTIVATIONS, PAIRS)))
def test_every_activation_and_loss_pair(hidden, pair):
    loss, output = pair
    net, x, y = problem((5, 6, 4), (hidden, output), seed=1, output=output)
    assert relative_error(net, x, y, LOSS[loss]) < 1e-6


@pytest.mark.parametrize("pair", PAIRS)
def test_three_hidden_layers_with_l2(pair):
    loss, output = pair
    net, x, y = problem((6, 5, 4, 5, 3), ("tanh", "relu", "sigmoid", output), seed=2, output=output)
    assert relative_error(net, x, y, LOSS[loss], alpha=0.3) < 1e-6


def test_published_delta_is_not_the_gradient():
    """The post's MSE delta, σ'(a) instead of σ'(z), fails the same check that MSE passes."""
    net, x, y = problem((5, 6, 4), ("relu", "sigmoid"), seed=3, output="sigmoid")
    assert relative_error(net, x, y, MSE) < 1e-6
    ws = Backprop(net, len(x))
    ws.gradient(ws.with_ones(x), y, MSEAsPublished)
    published = ws.grads.copy()
    ws.gradient(ws.with_ones(x), y, MSE)
    assert np.linalg.norm(published - ws.grads) / np.linalg.norm(ws.grads) > 0.1
