"""L-BFGS for the estimators' ``solver="lbfgs"``: SciPy's L-BFGS-B on the Network's flat parameter
vector, with the engine's backprop for the gradient (what scikit-learn's MLP does).

The data goes through in chunks of rows (sparse ones made dense a chunk at a time), so the loss
and gradient of the whole set never need a dense copy of it.
"""
from __future__ import annotations

import numpy as np
import scipy.optimize

from .losses import get_loss
from .network import Backprop, Network

_CHUNK = 2048


class Objective:
    """The mean loss over (X, Y) plus 0.5 · alpha · Σw² / (n or the weight sum), and its gradient,
    as functions of a parameter vector laid out like ``net.params``.

    X: (n, features) inputs, dense or scipy.sparse; Y: (n, outputs) targets; sample_weight: (n,) or None.
    """

    def __init__(self, net: Network, X, Y, loss, alpha, sample_weight=None):
        self.net, self.loss, self.alpha = net, get_loss(loss), float(alpha)
        n = X.shape[0]
        self.backprop = Backprop(net, min(_CHUNK, n))
        self.chunks = []
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=net.dtype)
        self.total = float(n if weights is None else np.sum(weights))
        for k in range(0, n, _CHUNK):
            rows = X[k:k + _CHUNK]
            rows = self._inputs(rows) if isinstance(rows, np.ndarray) else rows  # dense: prepared once
            w = None if weights is None else weights[k:k + _CHUNK, None]
            share = (len(Y[k:k + _CHUNK]) if w is None else float(np.sum(w))) / self.total
            self.chunks.append((rows, np.asarray(Y[k:k + _CHUNK], dtype=net.dtype), w, share))
        self.evaluations = 0

    def _inputs(self, rows):
        """A chunk scaled, with the ones column (made dense here if sparse)."""
        dense = rows if isinstance(rows, np.ndarray) else rows.toarray()
        return self.backprop.with_ones(dense)

    def __call__(self, params):
        """(loss, gradient) at ``params`` (float64, as SciPy works)."""
        net, backprop = self.net, self.backprop
        net.params[...] = params
        self.evaluations += 1
        value, grad = 0.0, np.zeros(net.params.size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for rows, y, w, share in self.chunks:
                x = rows if isinstance(rows, np.ndarray) else self._inputs(rows)
                value += share * backprop.gradient(x, y, self.loss, 0.0, True, weights=w)
                grad += share * backprop.grads
            if self.alpha:
                w = net.params * net.weight_mask
                value += 0.5 * self.alpha * float(np.dot(w, w)) / self.total
                grad += (self.alpha / self.total) * w
        if net.mask is not None:
            grad *= net.mask
        return value, grad


def minimize(net: Network, X, Y, loss, alpha, *, sample_weight=None, max_iter=200, max_fun=15000, tol=1e-4,
             callback=None):
    """Train ``net`` in place with L-BFGS-B; return SciPy's ``OptimizeResult`` (``nit``, ``fun``, ``status``).

    ``max_iter`` and ``max_fun`` bound the iterations and the loss evaluations, ``tol`` is the
    projected-gradient tolerance (scikit-learn passes its ``tol`` as ``gtol``); ``callback(iteration,
    loss)`` is called after each iteration.
    """
    objective = Objective(net, X, Y, loss, alpha, sample_weight)
    start = net.params.astype(np.float64)
    step = _Iterations(callback)
    result = scipy.optimize.minimize(objective, start, method="L-BFGS-B", jac=True, callback=step,
                                     options={"maxfun": int(max_fun), "maxiter": int(max_iter), "gtol": float(tol)})
    net.params[...] = result.x
    return result


class _Iterations:
    """SciPy's per-iteration callback turned into ``callback(iteration, loss)``."""

    def __init__(self, callback):
        self.callback, self.nit = callback, 0

    def __call__(self, intermediate_result):
        self.nit += 1
        if self.callback is not None:
            self.callback(self.nit, float(intermediate_result.fun))
