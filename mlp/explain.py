"""Looking inside a trained network: what each layer computes for a digit, why it answers what it
answers, what happens when units are switched off, and how it holds up on held-out digits.

Every function is pure NumPy / scikit-learn and takes a `Network` or a `TrainedModel`; nothing
here changes the model it is given (`with_gains` returns an edited copy).

Why gradient x input for the pixel attributions: one backward pass (under a millisecond for the
64-4608-10 default model) and, for a ReLU network without biases, the pixel shares add up
exactly to the answer's score, so "this pixel pushed +2.1 towards 7" is a real share of it.
"""
from __future__ import annotations

import numpy as np

from .augment import upsample
from .model import TrainedModel
from .preprocess import INK_PIXELS, normalise_ink

# ----------------------------------------------------------------------------- one digit

def layer_outputs(network, x, gains=None) -> list:
    """Every layer's output for digits x (n, 64) or (64,), raw 0..16: a list of L + 1 arrays
    (n, sizes[i]); [0] is the scaled input, [-1] the output layer's activations. `gains` (a list
    of per-hidden-layer vectors or None, see `gain_vectors`) dims the units it switches off."""
    a = network.forward(np.atleast_2d(np.asarray(x, dtype=float)))
    if gains is not None:
        a = [a[0], *(h * g if g is not None else h for h, g in zip(a[1:-1], gains)), a[-1]]
    return a


def logits(network, x) -> np.ndarray:
    """The output layer's weighted sums (before its activation) for x (n, 64): (n, n_out)."""
    a = network.forward(np.atleast_2d(np.asarray(x, dtype=float)))
    return a[-2] @ network.weights[-1] + network.biases[-1]


def margin_direction(n_out: int, target: int) -> np.ndarray:
    """d score / d logits for score = logit[target] - mean of the other logits: (n_out,)."""
    c = np.full(n_out, -1.0 / (n_out - 1))
    c[target] = 1.0
    return c


def margin(network, x, target: int) -> float:
    """How far the answer's logit stands above the mean of the others, for one digit x (64,)."""
    z = logits(network, x)[0]
    return float(z @ margin_direction(len(z), target))


def _input_gradients(network, x, target: int) -> list:
    """d margin / d (each layer's output) for one digit: a list like `layer_outputs`, [L] = the
    direction on the logits (the output layer is read before its activation)."""
    a = network.forward(np.atleast_2d(np.asarray(x, dtype=float)))
    delta = margin_direction(network.sizes[-1], target)[None, :]
    grads = [None] * len(a)
    grads[-1] = delta
    for i in range(len(network.weights) - 1, -1, -1):
        g = delta @ network.weights[i].T          # w.r.t. the output of layer i
        grads[i] = g
        if i > 0:
            delta = network.activations[i - 1].backprop_(a[i], g.copy())
    return [g[0] for g in grads]


def pixel_attribution(network, x, target: int) -> np.ndarray:
    """Gradient x input of the answer's margin for one digit x (64,) raw 0..16: (64,) shares;
    positive pushed towards `target`, negative against it. For a bias-free ReLU network they sum
    to `margin(network, x, target)`."""
    scaled = np.asarray(x, dtype=float).reshape(64) * network.input_scale
    return _input_gradients(network, x, target)[0] * scaled


def unit_contributions(network, x, target: int) -> np.ndarray:
    """Gradient x output of the answer's margin for each first-hidden-layer unit: (sizes[1],).
    With one hidden layer this is exactly each unit's share of the margin (biases aside)."""
    h = layer_outputs(network, x)[1][0]
    return _input_gradients(network, x, target)[1] * h


def unit_detail(network, x, layer: int, unit: int) -> dict:
    """For hidden unit `unit` of hidden layer `layer` (0-based) and one digit x: its incoming
    weights (n_in,), bias, weighted sum z and output f(z)."""
    a = network.forward(np.atleast_2d(np.asarray(x, dtype=float)))
    w = network.weights[layer][:, unit]
    b = float(network.biases[layer][unit])
    z = float(a[layer][0] @ w + b)
    return {"weights": np.array(w, dtype=float), "bias": b, "sum": z, "output": float(a[layer + 1][0, unit]),
            "activation": network.activations[layer].name}


# ----------------------------------------------------------------------------- editing

def gain_vectors(network, edits) -> list:
    """Per hidden layer a (size,) vector of unit gains (None where no unit is edited), from
    `edits`, a mapping {(layer, unit): gain}; gain 0 switches a unit off, 2 doubles it."""
    out = [None] * (len(network.sizes) - 2)
    for (layer, unit), gain in edits.items():
        if out[layer] is None:
            out[layer] = np.ones(network.sizes[layer + 1])
        out[layer][unit] = gain
    return out


def with_gains(model: TrainedModel, edits) -> TrainedModel:
    """A copy of `model` whose hidden units are scaled by `edits` {(layer, unit): gain}: each
    unit's outgoing weights are multiplied by its gain, which is the same as multiplying its
    output. The original model is untouched (it may be shared by every visitor)."""
    net = model.network.copy()
    for layer, g in enumerate(gain_vectors(net, edits)):
        if g is not None:
            net.weights[layer + 1] *= g[:, None].astype(net.dtype)
    return TrainedModel(net, np.asarray(model.classes).copy(), model.config, model.history)


def accuracy(model, X, y) -> float:
    """Share of the digits X (n, 64) whose predicted label is y (n,)."""
    return float(np.mean(model.predict(X) == np.asarray(y)))


# ----------------------------------------------------------------------------- held-out set

def layer_features(model, X) -> list:
    """Digits X (n, 64) as every layer sees them: [input, hidden 1, ..., output scores], the
    output as its weighted sums (logits): probabilities crowd into the corners of a simplex,
    which a 2-D map shows as a few dots."""
    net = model.network
    a = net.forward(np.asarray(X, dtype=float))
    scores = a[-2] @ net.weights[-1] + net.biases[-1]
    return [np.asarray(X, dtype=float)] + [np.asarray(h, dtype=float) for h in (*a[1:-1], scores)]


def project(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, d) features -> (n, 2) points: "pca" (scikit-learn PCA) or "tsne" (scikit-learn t-SNE
    on the first 50 principal components, 500 iterations: several seconds for 450 digits)."""
    from sklearn.decomposition import PCA

    f = np.asarray(features, dtype=np.float64)
    f = f - f.mean(axis=0)
    if not np.any(f):
        return np.zeros((len(f), 2))
    if method == "pca":
        k = min(2, *f.shape)
        out = PCA(n_components=k, random_state=seed).fit_transform(f)
        return np.pad(out, ((0, 0), (0, 2 - k)))
    if method == "tsne":
        from sklearn.manifold import TSNE

        if f.shape[1] > 50:
            f = PCA(n_components=min(50, len(f)), random_state=seed).fit_transform(f)
        return TSNE(n_components=2, perplexity=min(30.0, (len(f) - 1) / 3), init="pca", max_iter=500,
                    random_state=seed).fit_transform(f)
    raise ValueError(f"unknown projection {method!r}; choose 'pca' or 'tsne'")


def coverage_curve(proba, y, classes=None, thresholds=None) -> dict:
    """Answer only when the top probability >= t ("I don't know" below it). For each threshold t:
    coverage (share answered) and accuracy on the answered ones (nan when none is answered)."""
    proba = np.asarray(proba, dtype=float)
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    t = np.linspace(0.0, 1.0, 101) if thresholds is None else np.asarray(thresholds, dtype=float)
    conf = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == np.asarray(y)
    answered = conf[None, :] >= t[:, None]
    n = answered.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(n > 0, (answered & correct[None, :]).sum(axis=1) / n, np.nan)
    return {"threshold": t, "coverage": n / len(conf), "accuracy": acc}


# ----------------------------------------------------------------------------- damage

def add_noise(X, sd: float, seed: int = 0) -> np.ndarray:
    """Digits X (n, 64) 0..16 plus Gaussian noise of `sd` (on the 0..16 scale), clipped."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    return np.clip(X + rng.normal(0.0, sd, X.shape), 0, 16) if sd else X.copy()


def rotate(X, degrees: float) -> np.ndarray:
    """Digits X (n, 64) turned by `degrees` (anticlockwise) about their centre: each block is
    split 4x4, the picture turned (bilinear) and counted back into blocks, so 0 deg is exact."""
    from scipy import ndimage

    X = np.asarray(X, dtype=float).reshape(-1, 8, 8)
    if not degrees:
        return X.reshape(-1, 64).copy()
    big = np.repeat(np.repeat(X, 4, axis=1), 4, axis=2)
    turned = ndimage.rotate(big, degrees, axes=(2, 1), reshape=False, order=1, mode="constant")
    return np.clip(turned.reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4)), 0, 16).reshape(-1, 64)


def restroke(X, ink: float) -> np.ndarray:
    """Digits X (n, 64) redrawn with `ink` times the usual number of inked pixels (0.5: thin
    strokes, 2: thick ones) through the pipeline that trains on re-rendered copies
    (`mlp.augment.upsample` then `mlp.preprocess.normalise_ink`)."""
    return normalise_ink(upsample(np.asarray(X, dtype=float)), INK_PIXELS * float(ink)).reshape(-1, 64)


DAMAGES = {
    "noise": (add_noise, (0.0, 2.0, 4.0, 6.0, 8.0, 10.0), "noise (sd, of 16)"),
    "rotation": (rotate, (0.0, 10.0, 20.0, 30.0, 45.0, 60.0), "rotation (degrees)"),
    "stroke": (restroke, (0.5, 0.75, 1.0, 1.5, 2.0), "ink (× the usual stroke)"),
}


def damaged_sets(X, kind: str) -> list:
    """[(step, damaged X)] for each step of `kind` in DAMAGES."""
    fn, steps, _ = DAMAGES[kind]
    return [(s, fn(X, s)) for s in steps]


def robustness(model, sets, y) -> np.ndarray:
    """Accuracy of `model` on each damaged set [(step, X)] against labels y: (len(sets),)."""
    return np.array([accuracy(model, Xd, y) for _, Xd in sets])
