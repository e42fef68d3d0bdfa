"""Optimisers: each updates one flat parameter vector in place from one flat gradient vector.

All layers' weights and biases live in one contiguous vector (see ``network.Network``), so a
step is a handful of NumPy calls whatever the depth. The update rules are scikit-learn's
(``sklearn/neural_network/_stochastic_optimizers.py``), so the same gradients give the same
weights.

``OPTIMIZERS`` maps the names a user picks to the classes.
"""
from __future__ import annotations

import math

import numpy as np


class SGD:
    """Plain stochastic gradient descent: p -= lr * g."""

    name = "sgd"
    # The step is p -= lr · g with no state, so ``network.Backprop.sgd_step`` can fold it into
    # the backward pass (the same update, fewer passes); optimisers with state cannot.
    folds_into_backprop = True

    def __init__(self, params, learning_rate=0.01, **_):
        self.learning_rate = float(learning_rate)
        self._tmp = np.empty_like(params)

    def step(self, params, grads):
        """One update of ``params`` in place."""
        np.multiply(grads, -self.learning_rate, out=self._tmp)
        params += self._tmp

    def reset(self, index):
        """Forget the state of the parameters at ``index`` (plain SGD keeps none)."""

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate})"


class Momentum(SGD):
    """SGD with momentum: v = μ v - lr g; p += v (Nesterov: p += μ v - lr g)."""

    name = "momentum"
    folds_into_backprop = False

    def __init__(self, params, learning_rate=0.01, momentum=0.9, nesterov=False, **_):
        super().__init__(params, learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = np.zeros_like(params)

    def step(self, params, grads):
        v, tmp = self.velocity, self._tmp
        np.multiply(grads, -self.learning_rate, out=tmp)
        v *= self.momentum
        v += tmp
        if self.nesterov:
            # Look ahead: the step is the new velocity carried one more time, plus the gradient step.
            tmp += self.momentum * v
            params += tmp
        else:
            params += v

    def reset(self, index):
        self.velocity[index] = 0

    def __repr__(self):
        return f"Momentum(learning_rate={self.learning_rate}, momentum={self.momentum}, nesterov={self.nesterov})"


class Adam:
    """Adam (Kingma & Ba, 2015) with scikit-learn's bias correction folded into the step size.

    The moments are kept unnormalised to save two passes per step: ``m`` holds m / (1 - β₁) and
    ``v`` holds v / (1 - β₂) of the textbook (and scikit-learn) moments, so they update as
    m = β₁ m + g and v = β₂ v + g², and the constant factors move into the step size and ε.
    """

    name = "adam"
    folds_into_backprop = False

    def __init__(self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, **_):
        self.learning_rate = float(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.t = 0
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self._tmp = np.empty_like(params)
        # Parameters restarted by ``reset``: (indices, beta_1 ** steps, beta_2 ** steps since), or None.
        self._young = None
        self._fresh = False

    def step(self, params, grads):
        self.t += 1
        b1, b2, m, v, tmp = self.beta_1, self.beta_2, self.m, self.v, self._tmp
        m *= b1
        m += grads
        v *= b2
        np.multiply(grads, grads, out=tmp)
        v += tmp
        # lr_t · m / (√v + ε) with the textbook moments, lr_t = lr √(1 - β₂ᵗ) / (1 - β₁ᵗ):
        # = lr_t (1 - β₁) / √(1 - β₂) · m' / (√v' + ε / √(1 - β₂)) with the kept ones.
        # Python floats (math.sqrt): a NumPy float64 scalar would make every float32 pass a cast.
        root = math.sqrt(1 - b2)
        lr = self.learning_rate * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t) * (1 - b1) / root
        np.sqrt(v, out=tmp)
        tmp += self.epsilon / root
        np.divide(m, tmp, out=tmp)
        tmp *= -lr
        if self._young is not None:
            self._restep_young(tmp)
        params += tmp

    def reset(self, index):
        """Restart the parameters at ``index``: zero moments and their own bias correction.

        With zero moments but the run's step count, m / √v of a few gradients is not yet
        unbiased and the first steps would be up to ~6× the learning rate; counting their steps
        from the reset gives them a fresh Adam's steps instead (SET regrows weights this way).
        """
        self.m[index] = 0
        self.v[index] = 0
        index = np.arange(self.m.size)[index].reshape(-1)
        ones = np.ones(index.size)
        if self._young is None:
            self._young = (index, ones, ones.copy())
        else:
            idx, p1, p2 = self._young
            # Keep the others still young: their correction differs from the run's until β₂^steps ≈ 0.
            keep = ~np.isin(idx, index) & (p2 > 1e-16)
            self._young = (np.concatenate([idx[keep], index]), np.concatenate([p1[keep], ones]),
                           np.concatenate([p2[keep], ones]))
        self._fresh = True

    def _restep_young(self, tmp):
        """Redo the step in ``tmp`` for restarted parameters with their own bias correction."""
        idx, p1, p2 = self._young
        if self._fresh:
            # A restarted parameter that got no gradient on its first step (a removed connection,
            # masked) steps by exactly zero whatever the correction: stop tracking it.
            live = self.v[idx] != 0
            idx, p1, p2 = self._young = (idx[live], p1[live], p2[live])
            self._fresh = False
        p1 *= self.beta_1
        p2 *= self.beta_2
        lr = self.learning_rate * np.sqrt(1 - p2) / (1 - p1)
        m, v = self.m[idx] * (1 - self.beta_1), self.v[idx] * (1 - self.beta_2)
        tmp[idx] = -lr * m / (np.sqrt(v) + self.epsilon)

    def __repr__(self):
        return f"Adam(learning_rate={self.learning_rate}, beta_1={self.beta_1}, beta_2={self.beta_2})"


OPTIMIZERS: dict[str, type] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, params, **hyper):
    """An optimiser from the table for the flat parameter vector ``params``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, **hyper)
