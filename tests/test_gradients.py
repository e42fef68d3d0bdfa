"""Backprop against central finite differences, in float64, for every activation × loss pair;
the fast path (``Backprop``) against the reference one (``Network.backprop``); dropout."""
import itertools

import numpy as np
import pytest

from mlp import Network
from mlp.activations import HIDDEN_ACTIVATIONS
from mlp.losses import MSE, CrossEntropy, MSEAsPublished, Poisson, loss_value
from mlp.network import Backprop, dropout_masks
from mlp.sparse import sparsify

PAIRS = [("cross_entropy", "softmax"), ("cross_entropy", "sigmoid")] + [
    ("mse", out) for out in ("softmax", "sigmoid", "identity", "tanh", "relu", "leaky_relu")] + [("poisson", "exp")]
LOSS = {"mse": MSE, "cross_entropy": CrossEntropy, "poisson": Poisson}


def total_loss(net, x, y, loss, alpha):
    a = net.forward(x)[-1]
    w = net.params * net.weight_mask
    return loss_value(loss, y, a, net.activations[-1]) + 0.5 * alpha * float(w @ w) / len(x)


def relative_error(net, x, y, loss, alpha=0.0, h=1e-6):
    """max |backprop - numeric| / max(|backprop|, |numeric|) over all parameters."""
    fast = Backprop(net, len(x))
    fast.gradient(fast.with_ones(x), y, loss, alpha=alpha)
    analytic = fast.grads.copy()
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
    fast = Backprop(net, len(x))
    fast.gradient(fast.with_ones(x), y, MSEAsPublished)
    published = fast.grads.copy()
    fast.gradient(fast.with_ones(x), y, MSE)
    assert np.linalg.norm(published - fast.grads) / np.linalg.norm(fast.grads) > 0.1


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


@pytest.mark.parametrize("sparse,dropout", [(False, 0.0), (True, 0.0), (True, 0.3)])
def test_sgd_step_is_gradient_then_sgd(sparse, dropout):
    """The fused plain-SGD step (L2 as weight decay, step folded into the delta) equals the two steps."""
    from mlp.optimizers import SGD

    rng = np.random.default_rng(5)
    net = Network((6, 8, 5, 3), ("relu", "tanh", "softmax"), seed=5)
    if sparse:
        sparsify(net, [0.5, 0.5, 1.0], rng=rng)
    x = rng.normal(0, 1, (9, 6))
    y = np.eye(3)[rng.integers(0, 3, 9)]
    twin = net.copy()
    fast = Backprop(net, 9, dropout, rng=np.random.default_rng(3))
    fast2 = Backprop(twin, 9, dropout, rng=np.random.default_rng(3))
    fast.gradient(fast.with_ones(x), y, CrossEntropy, alpha=0.3)
    SGD(net.params, learning_rate=0.05).step(net.params, fast.grads)
    fast2.sgd_step(fast2.with_ones(x), y, CrossEntropy, 0.3, 0.05)
    np.testing.assert_allclose(twin.params, net.params, rtol=0, atol=1e-13)
    assert fast2.weight_sq == pytest.approx(fast.weight_sq, rel=1e-12)
    if sparse:
        assert np.all(twin.params[twin.mask == 0] == 0)


# ---- the fast path against the reference backprop ----------------------------------------------

def flat(net, weight_grads, bias_grads):
    """The reference's per-layer gradients laid out like ``net.params``."""
    out = np.empty_like(net.params)
    for view, gw, gb in zip(net.layer_views(out), weight_grads, bias_grads):
        view[:-1], view[-1] = gw, gb
    return out


# (dtype, sparse, batch rows, dropout): 70 rows take the whole-batch softmax step.
VARIANTS = {
    "float64": (np.float64, False, 9, 0.0),
    "float32-sparse": (np.float32, True, 70, 0.0),
    "float64-sparse-dropout": (np.float64, True, 70, (0.3, 0.5)),
    "float32-dropout": (np.float32, False, 9, 0.4),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("hidden,pair", list(itertools.product(HIDDEN_ACTIVATIONS, PAIRS)))
def test_fast_path_equals_the_reference_backprop(hidden, pair, variant):
    """``Backprop.gradient`` (plans, buffers, fused steps) gives ``Network.backprop``'s numbers, with L2."""
    dtype, sparse, n, dropout = VARIANTS[variant]
    loss, output = pair
    rng = np.random.default_rng(4)
    net = Network((5, 7, 6, 4), (hidden, hidden, output), seed=4, dtype=dtype)
    if sparse:
        sparsify(net, [0.5, 0.5, 1.0], rng)
    net.params += (rng.normal(0, 0.1, net.params.size) * (1 if net.mask is None else net.mask)).astype(dtype)
    x = rng.normal(0, 1, (n, 5))
    y = (rng.random((n, 4)) < 0.4).astype(float) if output == "sigmoid" else np.eye(4)[rng.integers(0, 4, n)]
    fast = Backprop(net, n, dropout, rng=np.random.default_rng(11))
    fast.gradient(fast.with_ones(x), y, LOSS[loss], alpha=0.3)
    reference = flat(net, *net.backprop(x, y, LOSS[loss], alpha=0.3, dropout=dropout, rng=np.random.default_rng(11)))
    assert reference.dtype == net.dtype
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(fast.grads, reference, **tol)
    if sparse:
        assert np.all(reference[net.mask == 0] == 0)


# ---- dropout -----------------------------------------------------------------------------------

def loss_with_masks(net, x, y, loss, masks):
    """The mean loss with fixed dropout masks, written out independently of the library's passes."""
    a = x * net.input_scale
    for w, b, act, mask in zip(net.weights, net.biases, net.activations, masks):
        a = act.activation(a @ w + b)
        if mask is not None:
            a = a * mask
    return loss_value(loss, y, a, net.activations[-1])


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("pair", [("cross_entropy", "softmax"), ("mse", "sigmoid")])
def test_dropout_gradient_with_a_fixed_mask(hidden, pair):
    """With the mask fixed, dropout's gradient (reference and fast path) is the finite-difference one."""
    loss, output = pair
    net, x, y = problem((5, 6, 5, 4), (hidden, "tanh", output), seed=6, output=output)
    rates = (0.5, 0.25)
    masks = dropout_masks(np.random.default_rng(8), len(x), net.sizes, rates, net.dtype)
    assert set(np.unique(masks[0])) == {0.0, 2.0} and masks[2] is None
    numeric = np.empty_like(net.params)
    for i in range(net.params.size):
        keep, h = net.params[i], 1e-6
        net.params[i] = keep + h
        up = loss_with_masks(net, x, y, LOSS[loss], masks)
        net.params[i] = keep - h
        down = loss_with_masks(net, x, y, LOSS[loss], masks)
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * h)
    reference = flat(net, *net.backprop(x, y, LOSS[loss], dropout=rates, rng=np.random.default_rng(8)))
    fast = Backprop(net, len(x), rates, rng=np.random.default_rng(8))
    fast.gradient(fast.with_ones(x), y, LOSS[loss])
    for analytic in (reference, fast.grads):
        assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-6


def test_dropout_draws_a_new_mask_every_batch_and_keeps_1_minus_p():
    net = Network((20, 400, 3), ("relu", "softmax"), seed=0)
    x, y = np.ones((50, 20)), np.eye(3)[np.zeros(50, int)]
    fast = Backprop(net, 50, 0.3, rng=np.random.default_rng(0))
    fast.gradient(fast.with_ones(x), y, CrossEntropy)
    first = fast.grads.copy()
    fast.gradient(fast.with_ones(x), y, CrossEntropy)
    assert not np.array_equal(first, fast.grads)
    masks = dropout_masks(np.random.default_rng(1), 50, net.sizes, (0.3,), net.dtype)
    assert np.mean(masks[0] > 0) == pytest.approx(0.7, abs=0.01)
    assert np.mean(masks[0]) == pytest.approx(1.0, abs=0.02)          # inverted: the expected input is unchanged


def test_dropout_off_is_exactly_the_plain_gradient():
    net, x, y = problem((5, 6, 4), ("relu", "softmax"), seed=2, output="softmax")
    plain, off = Backprop(net, len(x)), Backprop(net, len(x), (0.0,))
    plain.gradient(plain.with_ones(x), y, CrossEntropy, alpha=0.1)
    off.gradient(off.with_ones(x), y, CrossEntropy, alpha=0.1)
    assert np.array_equal(plain.grads, off.grads)


@pytest.mark.parametrize("bad", [1.0, -0.1, (0.2,), (0.2, 0.2, 0.2), "half"])
def test_bad_dropout_is_refused_with_a_sentence(bad):
    net = Network((5, 6, 6, 4), "relu", seed=0)
    with pytest.raises(ValueError, match="dropout"):
        Backprop(net, 4, bad)
