"""Activation functions: each keeps its forward and its derivative side by side.

Every activation is a subclass of ``Activation`` with static methods (the original post passes
the classes themselves; a new activation subclasses ``Activation`` and adds an entry to the table):

- ``activation(z)``: the function, returns a new array; never overflows.
- ``prime(z)``: its derivative with respect to ``z``, element-wise (the post's name).
- ``forward_(z)``: the function computed in place on ``z`` (the training hot path).
- ``derivative(a)``: f'(z) element-wise, computed from the *output* ``a = f(z)`` (as
  scikit-learn does), so the pre-activations need not be stored (the reference backprop).
- ``backprop_(a, delta)``: multiplies ``delta`` in place by ``derivative(a)``.

What the training hot path (``network.Backprop``) needs to know about an activation is said by
the class, not by its name: ``keeps_ones`` (f(1) = 1) and ``hidden_steps``, which binds its
forward and backward steps to a hidden layer's preallocated buffers.

``ACTIVATIONS`` maps the names a user picks (and the select boxes list) to the classes.
"""
from __future__ import annotations

import numpy as np


class Activation:
    """What every activation shares: defaults for the facts and the hot-path hook."""

    name = ""
    init = "glorot"      # weight initialisation before these units: "he" or "glorot"
    # f(1) = 1: applied to a hidden layer's whole buffer, ones column (the bias input) included,
    # it leaves the ones in place, and a contiguous buffer is about twice as fast to work on as
    # the view without its last column.
    keeps_ones = False

    @classmethod
    def backprop_(cls, a, delta):
        return np.multiply(delta, cls.derivative(a), out=delta)

    @classmethod
    def hidden_steps(cls, full, delta):
        """(forward, backward): argument-free steps bound to one hidden layer's buffers.

        ``full`` (n, k + 1): the layer's output with its trailing ones column, holding z before
        ``forward()`` and f(z) after; ``delta`` (n, k): multiplied in place by f'(z) in ``backward()``.
        """
        out = full[:, :-1]
        target = full if cls.keeps_ones else out
        forward_, backprop_ = cls.forward_, cls.backprop_
        return (lambda: forward_(target)), (lambda: backprop_(out, delta))


class Identity(Activation):
    """f(z) = z."""

    name = "identity"
    keeps_ones = True

    @staticmethod
    def activation(z):
        return np.array(z, copy=True)

    @staticmethod
    def prime(z):
        return np.ones_like(z)

    @staticmethod
    def forward_(z):
        return z

    @staticmethod
    def derivative(a):
        return np.ones_like(a)

    @staticmethod
    def backprop_(a, delta):
        return delta


class Relu(Activation):
    """f(z) = max(z, 0)."""

    name = "relu"
    init = "he"
    keeps_ones = True

    @staticmethod
    def activation(z):
        return np.maximum(z, 0)

    @staticmethod
    def prime(z):
        return (np.asarray(z) > 0).astype(np.result_type(z, np.float32))

    @staticmethod
    def forward_(z):
        return np.maximum(z, 0, out=z)

    @staticmethod
    def derivative(a):
        # f'(z) is 1 where the output is positive: read it off the output.
        return (a > 0).astype(a.dtype)

    @staticmethod
    def backprop_(a, delta):
        return np.multiply(delta, a > 0, out=delta)

    @staticmethod
    def hidden_steps(full, delta):
        # An array of zeros, not the scalar 0: np.maximum with a scalar operand is ~4x slower;
        # and the comparison writes into a preallocated mask.
        zeros = np.zeros_like(full)
        above = np.empty(full.shape, bool)
        mask = above[:, :delta.shape[1]]
        maximum, greater, multiply = np.maximum, np.greater, np.multiply

        def forward():
            maximum(full, zeros, out=full)

        def backward():
            greater(full, zeros, out=above)
            multiply(delta, mask, out=delta)
        return forward, backward


class LeakyRelu(Activation):
    """f(z) = z for z > 0, else 0.01 z."""

    name = "leaky_relu"
    init = "he"
    keeps_ones = True
    slope = 0.01

    @staticmethod
    def activation(z):
        return np.where(z > 0, z, LeakyRelu.slope * z)

    @staticmethod
    def prime(z):
        return np.where(np.asarray(z) > 0, 1.0, LeakyRelu.slope).astype(np.result_type(z, np.float32))

    @staticmethod
    def forward_(z):
        # max(z, 0.01 z) equals the leaky ReLU for a slope below 1.
        return np.maximum(z, LeakyRelu.slope * z, out=z)

    @staticmethod
    def derivative(a):
        # The sign of the output is the sign of z, so f'(z) is read off the output too.
        return np.where(a > 0, 1.0, LeakyRelu.slope).astype(a.dtype)


class Tanh(Activation):
    """f(z) = tanh(z)."""

    name = "tanh"

    @staticmethod
    def activation(z):
        return np.tanh(z)

    @staticmethod
    def prime(z):
        t = np.tanh(z)
        return 1.0 - t * t

    @staticmethod
    def forward_(z):
        return np.tanh(z, out=z)

    @staticmethod
    def derivative(a):
        return 1.0 - a * a


def _sigmoid(z, out=None):
    """Logistic function without overflow: exp is only ever taken of -|z|."""
    z = np.asarray(z)
    if out is None:
        out = np.empty_like(z, dtype=np.result_type(z, np.float32))
    e = np.exp(-np.abs(z))
    pos = z >= 0
    # z >= 0: 1 / (1 + e);  z < 0: e / (1 + e).  Both have e in (0, 1].
    np.divide(np.where(pos, 1.0, e), 1.0 + e, out=out)
    return out


class Sigmoid(Activation):
    """f(z) = 1 / (1 + exp(-z)), the logistic function."""

    name = "sigmoid"

    @staticmethod
    def activation(z):
        return _sigmoid(z)

    @staticmethod
    def prime(z):
        s = _sigmoid(z)
        return s * (1.0 - s)

    @staticmethod
    def forward_(z):
        return _sigmoid(z, out=z)

    @staticmethod
    def derivative(a):
        return a * (1.0 - a)


class Softmax(Activation):
    """f(z)_k = exp(z_k) / sum_j exp(z_j), over the last axis (an output activation only).

    Its derivative is a Jacobian, not element-wise: there is no ``derivative``, and ``backprop_``
    is the Jacobian-vector product.
    """

    name = "softmax"

    @staticmethod
    def derivative(a):
        raise ValueError("softmax's derivative is a Jacobian, not element-wise: use it as an output activation")

    @staticmethod
    def activation(z):
        z = np.asarray(z)
        return Softmax.forward_(np.array(z, dtype=np.result_type(z, np.float32), copy=True))

    @staticmethod
    def prime(z):
        """The diagonal of the Jacobian, s (1 - s): what an element-wise rule would use."""
        s = Softmax.activation(z)
        return s * (1.0 - s)

    @staticmethod
    def forward_(z):
        # Shifting by the row maximum keeps every exponent <= 0: no overflow. The ufuncs' own
        # reduce skips the Python layer of ndarray.max/sum (this runs once per training batch).
        z -= np.maximum.reduce(z, axis=-1, keepdims=True)
        np.exp(z, out=z)
        z /= np.add.reduce(z, axis=-1, keepdims=True)
        return z

    @staticmethod
    def backprop_(a, delta):
        # Jacobian-vector product of softmax: a * (g - <g, a>) for each row.
        delta -= (delta * a).sum(axis=-1, keepdims=True)
        delta *= a
        return delta


class Exp(Activation):
    """f(z) = exp(z): the output of a Poisson regression (scikit-learn's MLPRegressor(loss="poisson")).

    z is capped at log(the dtype's largest number), so the output stays finite.
    """

    name = "exp"

    @staticmethod
    def _cap(z):
        # A hair below log(max): the rounded cap itself must not overflow.
        return float(np.log(np.finfo(np.result_type(z, np.float32)).max)) - 0.01

    @staticmethod
    def activation(z):
        z = np.asarray(z)
        return np.exp(np.minimum(z, Exp._cap(z)))

    @staticmethod
    def prime(z):
        return Exp.activation(z)

    @staticmethod
    def forward_(z):
        np.minimum(z, Exp._cap(z), out=z)
        return np.exp(z, out=z)

    @staticmethod
    def derivative(a):
        return np.array(a, copy=True)

    @staticmethod
    def backprop_(a, delta):
        delta *= a
        return delta


# The post's name for the identity.
NoActivation = Identity

ACTIVATIONS: dict[str, type] = {
    "relu": Relu,
    "leaky_relu": LeakyRelu,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "identity": Identity,
    "softmax": Softmax,
    "exp": Exp,
}
# scikit-learn's name for the sigmoid.
ALIASES = {"logistic": "sigmoid"}
HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "identity", "tanh", "relu")


def get_activation(spec) -> type:
    """The activation class for a name ("relu", "logistic", ...) or a class given as is."""
    if isinstance(spec, str):
        key = ALIASES.get(spec.lower(), spec.lower())
        if key not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}; choose one of {sorted(ACTIVATIONS)}")
        return ACTIVATIONS[key]
    if isinstance(spec, type) and hasattr(spec, "activation") and hasattr(spec, "prime"):
        return ACTIVATIONS.get(getattr(spec, "name", None), spec)
    raise ValueError(f"not an activation: {spec!r}")
