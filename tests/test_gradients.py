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


def test_large_batch_softmax_path():
    """From 64 rows on, softmax shifts by the batch maximum and sums rows by a product: same gradient."""
    rng = np.random.default_rng(3)
    net = Network((5, 6, 4), ("relu", "softmax"), seed=3)
    net.params += rng.normal(0, 0.1, net.params.size)
    x = rng.normal(0, 1, (70, 5))
    y = np.eye(4)[rng.integers(0, 4, 70)]
    assert relative_error(net, x, y, CrossEntropy, alpha=0.1) < 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_batch_softmax_falls_back_when_rows_are_far_apart(dtype):
    """Rows hundreds below the batch maximum would underflow to 0 / 0: the step redoes them per row."""
    from mlp.activations import Softmax
    from mlp.network import _SoftmaxStep

    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (100, 3)).astype(dtype)
    layer = rng.normal(0, 1, (3, 10)).astype(dtype)
    for offset in (0.0, 30.0, 300.0, 3000.0):
        a[:50, 2] = offset                    # half the rows' logits shifted far above the rest
        z = a @ layer
        expected = Softmax.activation(z.astype(np.float64))
        step = _SoftmaxStep(100, 10, np.dtype(dtype), layer)
        step(z, a)
        assert np.all(np.isfinite(z))
        np.testing.assert_allclose(z, expected, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_sgd_step_is_gradient_then_sgd(sparse):
    """The fused plain-SGD step (L2 as weight decay, step folded into the delta) equals the two steps."""
    from mlp.optimizers import SGD
    from mlp.sparse import sparsify

    rng = np.random.default_rng(5)
    net = Network((6, 8, 5, 3), ("relu", "tanh", "softmax"), seed=5)
    if sparse:
        sparsify(net, [0.5, 0.5, 1.0], rng=rng)
    x = rng.normal(0, 1, (9, 6))
    y = np.eye(3)[rng.integers(0, 3, 9)]
    twin = net.copy()
    ws, ws2 = Backprop(net, 9), Backprop(twin, 9)
    ws.gradient(ws.with_ones(x), y, CrossEntropy, alpha=0.3)
    SGD(net.params, learning_rate=0.05).step(net.params, ws.grads)
    ws2.sgd_step(ws2.with_ones(x), y, CrossEntropy, 0.3, 0.05)
    np.testing.assert_allclose(twin.params, net.params, rtol=0, atol=1e-13)
    assert ws2.weight_sq == pytest.approx(ws.weight_sq, rel=1e-12)
    if sparse:
        assert np.all(twin.params[twin.mask == 0] == 0)
