"""Loss functions: the value and the output-layer delta side by side.

Shapes: ``y_true`` and ``y_pred`` are (n_samples, n_outputs); ``y_pred`` is the output layer's
activation. Every loss is the *mean over samples* of a per-sample loss.

``delta(y_true, y_pred, output, out=None)`` is d(sum of per-sample losses)/dz for the output
layer's pre-activation z, an (n_samples, n_outputs) array (written into ``out`` when given);
the network divides it by n for the mean.

``LOSSES`` maps the names a user picks to the classes.
"""
from __future__ import annotations

import numpy as np

from .activations import Sigmoid, Softmax, get_activation

# Probabilities are clipped this far from 0 and 1 before a log: a finite loss, no warning.
_EPS = {np.dtype(np.float32): 1e-7, np.dtype(np.float64): 1e-15}


def _clip_probabilities(p):
    eps = _EPS.get(np.asarray(p).dtype, 1e-15)
    # maximum then minimum: the same as np.clip, several times faster on NumPy 2.
    out = np.maximum(p, eps)
    return np.minimum(out, 1.0 - eps, out=out)


class MSE:
    """Mean squared error, 0.5 * sum_k (a_k - y_k)^2 per sample, with the correct delta.

    Its derivative with respect to a is (a - y), the original post's ``prime``; the chain rule
    then multiplies by f'(z) of the output activation (computed from z, not from a).
    """

    name = "mse"
    outputs = None  # any output activation

    def __init__(self, activation_fn=None):
        # The post builds its loss as ``loss(output_activation)``; keep that working.
        self.activation_fn = get_activation(activation_fn) if activation_fn is not None else None

    def activation(self, z):
        return (self.activation_fn or get_activation("identity")).activation(z)

    @staticmethod
    def loss(y_true, y_pred):
        diff = np.asarray(y_pred) - np.asarray(y_true)
        return 0.5 * float(np.einsum("ij,ij->", diff, diff)) / len(diff)

    @staticmethod
    def prime(y_true, y_pred):
        return y_pred - y_true

    @staticmethod
    def delta(y_true, y_pred, output, out=None):
        g = np.subtract(y_pred, y_true, out=out)
        return get_activation(output).backprop_(y_pred, g)


class MSEAsPublished(MSE):
    """The original post's MSE delta, kept to show its effect: (a - y) * f'(a).

    The post applies the sigmoid derivative to the already-activated output a = σ(z), that is
    σ(σ(z))(1 - σ(σ(z))), which stays between 0.20 and 0.25 instead of vanishing like σ'(z).
    Its update is then about 0.24 × the sigmoid + cross-entropy gradient, which never saturates:
    that wrong delta is why the post's network learned well.
    """

    name = "mse_as_published"

    @staticmethod
    def delta(y_true, y_pred, output, out=None):
        g = np.subtract(y_pred, y_true, out=out)
        g *= get_activation(output).prime(y_pred)
        return g


class CrossEntropy:
    """Cross-entropy: categorical for a softmax output, binary (per unit) for a sigmoid output.

    Per sample: -sum_k y_k log a_k (softmax) or -sum_k [y_k log a_k + (1 - y_k) log(1 - a_k)]
    (sigmoid). With its natural output the delta is simply a - y.
    """

    name = "cross_entropy"
    outputs = ("softmax", "sigmoid")

    def __init__(self, activation_fn=None):
        self.activation_fn = get_activation(activation_fn) if activation_fn is not None else Softmax

    def activation(self, z):
        return self.activation_fn.activation(z)

    def loss(self, y_true, y_pred):
        return self.loss_for(y_true, y_pred, self.activation_fn)

    @staticmethod
    def loss_for(y_true, y_pred, output):
        p = _clip_probabilities(y_pred)
        y_true = np.asarray(y_true)
        if get_activation(output) is Sigmoid:
            total = -(np.einsum("ij,ij->", y_true, np.log(p)) + np.einsum("ij,ij->", 1 - y_true, np.log1p(-p)))
        else:
            total = -np.einsum("ij,ij->", y_true, np.log(p))
        return float(total) / len(p)

    @staticmethod
    def prime(y_true, y_pred):
        return -np.asarray(y_true) / _clip_probabilities(y_pred)

    @staticmethod
    def delta(y_true, y_pred, output, out=None):
        return np.subtract(y_pred, y_true, out=out)


class Poisson:
    """Half the Poisson deviance, sum_k [y_k log(y_k / a_k) - y_k + a_k] per sample (counts y >= 0).

    With its natural output, exp, the delta is simply a - y (scikit-learn's loss="poisson").
    """

    name = "poisson"
    outputs = ("exp",)

    @staticmethod
    def loss(y_true, y_pred):
        return float(np.sum(Poisson.per_sample(y_true, y_pred))) / len(y_pred)

    @staticmethod
    def per_sample(y_true, y_pred):
        from scipy.special import xlogy  # SciPy only where a Poisson loss is asked for

        y_true = np.asarray(y_true, dtype=np.result_type(y_pred, np.float32))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.sum(xlogy(y_true, y_true / y_pred) - y_true + y_pred, axis=1)

    @staticmethod
    def prime(y_true, y_pred):
        return 1.0 - np.asarray(y_true) / y_pred

    @staticmethod
    def delta(y_true, y_pred, output, out=None):
        return np.subtract(y_pred, y_true, out=out)


LOSSES: dict[str, type] = {
    "cross_entropy": CrossEntropy,
    "mse": MSE,
    "mse_as_published": MSEAsPublished,
    "poisson": Poisson,
}


def get_loss(spec):
    """The loss class for a name, a class, or an instance (the post's style)."""
    if isinstance(spec, str):
        key = spec.lower()
        if key not in LOSSES:
            raise ValueError(f"unknown loss {spec!r}; choose one of {sorted(LOSSES)}")
        return LOSSES[key]
    cls = spec if isinstance(spec, type) else type(spec)
    if cls in LOSSES.values():
        return cls
    raise ValueError(f"not a loss: {spec!r}")


def loss_value(loss, y_true, y_pred, output) -> float:
    """Mean loss over samples for a loss class with the given output activation."""
    loss = get_loss(loss)
    if loss is CrossEntropy:
        return CrossEntropy.loss_for(y_true, y_pred, output)
    return loss.loss(y_true, y_pred)


def check_pair(loss, output) -> None:
    """Raise ValueError for a loss that does not fit the output activation."""
    loss, output = get_loss(loss), get_activation(output)
    if loss.outputs is not None and output.name not in loss.outputs:
        raise ValueError(f"{loss.name} needs a {' or '.join(loss.outputs)} output, not {output.name}")


def sample_losses(loss, y_true, y_pred, output) -> np.ndarray:
    """Each sample's loss, (n,): what ``loss_value`` averages (for weighted means)."""
    from scipy.special import xlogy  # only weighted and Poisson runs need it

    loss = get_loss(loss)
    if loss is Poisson:
        return Poisson.per_sample(y_true, y_pred)
    if loss is CrossEntropy:
        p = _clip_probabilities(y_pred)
        if get_activation(output) is Sigmoid:
            return -(np.sum(xlogy(y_true, p), axis=1) + np.sum(xlogy(1 - np.asarray(y_true), 1 - p), axis=1))
        return -np.sum(xlogy(y_true, p), axis=1)
    diff = np.asarray(y_pred) - np.asarray(y_true)
    return 0.5 * np.einsum("ij,ij->i", diff, diff)


def label_loss_value(loss, labels, y_true, y_pred, output) -> float:
    """``loss_value`` for one-hot targets ``y_true`` whose class indices are ``labels``.

    With softmax and cross-entropy only the true class's probability enters the loss, so it is
    picked out instead of summing over every class (a tenth of the work for ten classes).
    """
    if get_loss(loss) is CrossEntropy and get_activation(output) is Softmax:
        p = _clip_probabilities(y_pred[np.arange(len(labels)), labels])
        return -float(np.add.reduce(np.log(p))) / len(p)
    return loss_value(loss, y_true, y_pred, output)
