"""A look inside a network while it trains: one small, self-contained snapshot per epoch.

    monitor = Monitor(run.model, probe_X, strip_X, run.classes)
    for record in run:
        monitor.observe(record.epoch)         # cheap: every epoch
        snapshot = monitor.snapshot()         # the full picture: as often as it is drawn

A ``Snapshot`` holds copies, never views, so another thread may read it while the network goes
on training. It carries what the app's live views draw: the first layer's weights now and at
the start, per layer the update/weight ratio and the share of dead ReLU units over the epochs,
weight histograms now and at the start, and the class probabilities of a fixed strip of digits.
Nothing here prints or knows of Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TrainedModel
from .network import Network

HIST_BINS = 40   # at most; a small layer gets about √(its weights) bins, at least 10


def update_ratio(before, after) -> float:
    """‖after − before‖ / ‖after‖: how far one step (here: one epoch) moved the weights,
    relative to their size (0 for all-zero weights)."""
    after = np.asarray(after, dtype=float)
    scale = float(np.linalg.norm(after))
    return float(np.linalg.norm(after - np.asarray(before, dtype=float))) / scale if scale > 0 else 0.0


def dead_share(activations) -> float:
    """Share of units (columns of an (n, units) activation array) that output zero or less on
    every one of the n inputs: ReLU units no input reaches, which no gradient can revive."""
    a = np.asarray(activations)
    return float(np.mean(~np.any(a > 0, axis=0))) if a.shape[1] else 0.0


def can_die(activation) -> bool:
    """True for activations that output exactly 0 for every negative input (ReLU): only their
    units can be dead. Leaky ReLU, tanh and sigmoid still pass a gradient there."""
    return not np.any(activation.activation(np.array([-10.0, -1.0, -0.1])))


def histogram(initial, now, bins: int | None = None):
    """Counts of two samples on shared, symmetric bins: (edges (bins + 1,), initial (bins,),
    now (bins,)). The bins span ±the largest finite magnitude in either sample; by default
    there are √n of them for n values, between 10 and HIST_BINS."""
    initial, now = np.asarray(initial, dtype=float).ravel(), np.asarray(now, dtype=float).ravel()
    initial, now = initial[np.isfinite(initial)], now[np.isfinite(now)]
    if bins is None:
        bins = int(np.clip(np.sqrt(max(initial.size, now.size)), 10, HIST_BINS))
    limit = max(np.abs(initial).max(initial=0.0), np.abs(now).max(initial=0.0)) or 1.0
    edges = np.linspace(-limit, limit, bins + 1)
    return edges, np.histogram(initial, edges)[0], np.histogram(now, edges)[0]


def strip_indices(y, per_class: int = 2) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class in ``y``, as rows of one of each
    class in class order: [first 0, first 1, ..., first 9, second 0, ...]."""
    y = np.asarray(y)
    firsts = [np.flatnonzero(y == c)[:per_class] for c in np.unique(y)]
    return np.array([f[k] for k in range(per_class) for f in firsts if k < len(f)], dtype=int)


@dataclass(frozen=True)
class Snapshot:
    """The network after ``epoch`` epochs (0: as initialised), for the live views.

    first_weights, first_initial: (n_inputs, n_units) first-layer weights now and at the start.
    ratios: (epoch, n_layers) update/weight ratio of each layer's weights in each epoch.
    dead: (epoch + 1, n_layers) share of dead units per layer from epoch 0 on; NaN for layers
    whose activation cannot die (see ``can_die``), and for the output layer.
    histograms: per layer (edges, counts at the start, counts now), see ``histogram``.
    strip_proba: (n_strip, n_classes) class probabilities of the strip digits.
    """

    epoch: int
    first_weights: np.ndarray
    first_initial: np.ndarray
    ratios: np.ndarray
    dead: np.ndarray
    histograms: tuple
    strip_proba: np.ndarray


class Monitor:
    """Watches ``net`` train. ``probe``: (n, n_inputs) fixed held-out inputs (raw, as the network
    takes them) on which units are checked for being dead; ``strip``: (m, n_inputs) inputs whose
    probabilities each snapshot carries; ``classes``: the labels of the output units.

    ``observe(epoch)`` after every epoch records the cheap per-epoch statistics (a copy of the
    weights, a forward pass of the probe); ``snapshot()`` builds the full picture (histograms,
    the strip's answers), which the app asks for only as often as it draws."""

    def __init__(self, net: Network, probe, strip, classes):
        self.net = net
        self.probe = np.asarray(probe, dtype=float)
        self.strip = np.asarray(strip, dtype=float)
        self._reader = TrainedModel(net, np.asarray(classes))   # its predict_proba, on the live weights
        self._initial = [self._kept_weights(i) for i in range(len(net.weights))]
        self._first_initial = net.weights[0].copy()
        self._first_initial.flags.writeable = False
        self._previous = [w.copy() for w in net.weights]
        self._dying = [can_die(a) for a in net.activations[:-1]] + [False]
        self.epoch = 0
        self._ratios: list = []
        self._dead: list = [self._dead_shares()]

    def _kept_weights(self, layer: int) -> np.ndarray:
        """Layer ``layer``'s weights that exist (a sparse net's masked-out ones are left out)."""
        w = self.net.weights[layer]
        if self.net.mask is None:
            return w.copy()
        return w[self.net.layer_views(self.net.mask)[layer][:-1] > 0]

    def _dead_shares(self) -> list:
        a = self.net.forward(self.probe)
        return [dead_share(out) if dying else np.nan for out, dying in zip(a[1:], self._dying)]

    def observe(self, epoch: int) -> None:
        """Record the epoch that just ended (call once per epoch, in order)."""
        self._ratios.append([update_ratio(p, w) for p, w in zip(self._previous, self.net.weights)])
        for p, w in zip(self._previous, self.net.weights):
            np.copyto(p, w)
        self._dead.append(self._dead_shares())
        self.epoch = int(epoch)

    def snapshot(self) -> Snapshot:
        """The network as it is now, with every epoch observed so far."""
        net, n_layers = self.net, len(self.net.weights)
        return Snapshot(
            epoch=self.epoch,
            first_weights=net.weights[0].copy(),
            first_initial=self._first_initial,
            ratios=np.array(self._ratios, dtype=float).reshape(-1, n_layers),
            dead=np.array(self._dead, dtype=float),
            histograms=tuple(histogram(init, self._kept_weights(i)) for i, init in enumerate(self._initial)),
            strip_proba=self._reader.predict_proba(self.strip) if len(self.strip) else np.zeros((0, 0)),
        )

    def __repr__(self):
        return f"Monitor({self.net!r}, probe={len(self.probe)}, strip={len(self.strip)}, epoch={self.epoch})"
