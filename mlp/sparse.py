"""Sparse topology: Erdős–Rényi masks and sparse evolutionary training (SET).

SET (Mocanu et al., "Scalable training of artificial neural networks with adaptive sparse
connectivity inspired by network science", Nature Communications 2018) starts every sparse layer
as a random Erdős–Rényi graph with density

    p = ε · (n_in + n_out) / (n_in · n_out)        (capped at 1)

and, after each epoch but the last, removes the fraction ζ of the positive weights closest to zero
and ζ of the negative weights closest to zero, then grows as many connections at random empty
positions. The number of connections per layer never changes.

A sparse net here is a dense ``Network`` with ``net.mask``: a 0/1 vector laid out like
``net.params`` (1 for every bias). Backprop multiplies the gradient by it, so absent weights get
exactly zero gradient and, with optimiser moments starting (or reset) at zero, stay exactly zero.
Matrix products cost what they cost for a dense net; the only extra work is one multiply per
batch and ``evolve`` once per epoch, both vectorised.

Connectivity modes (``CONNECTIVITY``): "dense"; "static" — a random sparse mask fixed for the
whole run; "set" — the mask evolves. Hidden layers (those whose outputs are hidden units) are
made sparse; the output layer only if asked (``sparse_output``), as in SET's reference code.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network, draw_weights, layer_offsets

CONNECTIVITY = ("dense", "static", "set")

# Standard deviation of a newly grown weight: small random values, as the SET reference code
# draws them (randn / 10). Surviving weights keep their values and optimiser state.
NEW_WEIGHT_STD = 0.1


def erdos_renyi_density(n_in: int, n_out: int, epsilon: float) -> float:
    """SET's density ε · (n_in + n_out) / (n_in · n_out) for an n_in × n_out layer, capped at 1."""
    return min(1.0, float(epsilon) * (n_in + n_out) / (n_in * n_out))


def sparse_layer_flags(n_layers: int, sparse_output: bool = False) -> tuple:
    """Which of ``n_layers`` weight layers are made sparse: all hidden ones, the output one if asked."""
    return tuple(i < n_layers - 1 or bool(sparse_output) for i in range(n_layers))


def layer_densities(sizes, epsilon: float | None = 20.0, density: float | None = None,
                    sparse_output: bool = False) -> tuple:
    """Target density of each weight layer of a net with ``sizes`` units per layer.

    ``density`` (in (0, 1]) sets every sparse layer's density directly; otherwise each comes from
    ``epsilon`` by the Erdős–Rényi rule. Layers kept dense get 1.0. Returns one float per layer.
    """
    sizes = tuple(int(s) for s in sizes)
    flags = sparse_layer_flags(len(sizes) - 1, sparse_output)
    out = []
    for (n_in, n_out), sparse in zip(zip(sizes[:-1], sizes[1:]), flags):
        if not sparse:
            out.append(1.0)
        elif density is not None:
            out.append(min(1.0, float(density)))
        else:
            out.append(erdos_renyi_density(n_in, n_out, epsilon))
    return tuple(out)


def connection_counts(sizes, densities) -> tuple:
    """Number of weights each layer keeps at the given densities: round(p · n_in · n_out), ≥ 1."""
    sizes = tuple(int(s) for s in sizes)
    return tuple(max(1, min(i * o, int(round(p * i * o)))) for (i, o), p in zip(zip(sizes[:-1], sizes[1:]), densities))


def epsilon_for_fraction(sizes, fraction: float, sparse_output: bool = False) -> float:
    """The largest ε whose network keeps at most ``fraction`` of the dense net's weights.

    Biases are not counted (they stay dense). Raises ValueError if the layers kept dense alone
    already hold more than ``fraction`` of the weights.
    """
    sizes = tuple(int(s) for s in sizes)
    dense = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
    budget = fraction * sum(dense)

    def total(eps):
        return sum(connection_counts(sizes, layer_densities(sizes, eps, None, sparse_output)))

    if total(1e-9) > budget:
        raise ValueError(f"the layers kept dense already hold more than {fraction:.0%} of the weights")
    lo, hi = 0.0, float(max(sizes)) * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) <= budget else (lo, mid)
    return lo


def sparsify(net: Network, densities, rng: np.random.Generator, keep_init: bool = False) -> Network:
    """Give ``net`` a random Erdős–Rényi mask with the given per-layer densities; returns ``net``.

    Each layer with density < 1 keeps exactly ``connection_counts`` weights at uniformly random
    positions. Its weights are redrawn by the network's initialiser (``network.draw_weights``)
    for the *effective* fan-in p · n_in (and fan-out p · n_out), so a unit's summed input has the
    spread a dense layer's would have; biases stay dense and zero.
    ``keep_init``: keep the weights (and biases) ``net`` has, scaled by 1/√p instead, which is the
    same rule applied to whatever initialisation drew them (the estimator's scikit-learn one).
    """
    densities = tuple(float(p) for p in densities)
    if len(densities) != len(net.layers):
        raise ValueError(f"{len(net.layers)} layers need {len(net.layers)} densities, got {len(densities)}")
    if not all(0 < p <= 1 for p in densities):
        raise ValueError(f"densities must be in (0, 1], got {densities}")
    counts = connection_counts(net.sizes, densities)
    mask = np.ones_like(net.params)
    for w, m, act, k in zip(net.weights, net.layer_views(mask), net.activations, counts):
        if k == w.size:
            continue
        flat = m[:-1].reshape(-1)
        flat[...] = 0
        flat[rng.choice(flat.size, k, replace=False)] = 1
        p = k / flat.size
        if keep_init:
            w /= np.sqrt(p)
        else:
            draw_weights(w, act, rng, density=p)
    net.mask = mask
    net.params *= mask
    return net


def sparse_layers(net: Network) -> list:
    """Indices of the layers with at least one absent weight (none for a dense net)."""
    if net.mask is None:
        return []
    return [i for i, m in enumerate(net.layer_views(net.mask)) if not m[:-1].all()]


def evolve(net: Network, zeta: float, rng: np.random.Generator, optimizer=None) -> list:
    """One SET step on every sparse layer of ``net``, in place; returns the rewired count per layer.

    Per layer: remove int(ζ · #positive) of the non-negative weights closest to zero and
    int(ζ · #negative) of the negative weights closest to zero, then add as many connections at
    uniformly random empty positions (a just-removed position may be drawn again), with weights
    drawn from N(0, NEW_WEIGHT_STD²). ``optimizer.reset`` zeroes the moments of every removed and
    every added position, so a removed weight stays zero and a new one starts fresh; surviving
    weights keep theirs. Draws only from ``rng``, so a seeded run is repeatable.
    """
    if not 0 <= zeta < 1:
        raise ValueError(f"zeta must be in [0, 1), got {zeta}")
    if net.mask is None:
        return []
    changed, resets = [], []
    mask_layers = net.layer_views(net.mask)
    offsets = [start for start, _, _ in layer_offsets(net.sizes)]
    for i in sparse_layers(net):
        # The weight rows lead each (n_in + 1, n_out) block, so these flat views are contiguous.
        w = net.weights[i].reshape(-1)
        m = mask_layers[i][:-1].reshape(-1)
        present = np.flatnonzero(m)
        values = w[present]
        positive, negative = present[values >= 0], present[values < 0]
        k_pos, k_neg = int(zeta * positive.size), int(zeta * negative.size)
        removed = np.concatenate([
            positive[np.argpartition(w[positive], k_pos)[:k_pos]] if k_pos else positive[:0],
            negative[np.argpartition(-w[negative], k_neg)[:k_neg]] if k_neg else negative[:0],
        ])
        m[removed] = 0
        w[removed] = 0
        k = removed.size
        if k:
            empty = np.flatnonzero(m == 0)
            added = np.sort(rng.choice(empty, k, replace=False))
            m[added] = 1
            w[added] = rng.normal(0.0, NEW_WEIGHT_STD, k)
            resets.append(np.concatenate([removed, added]) + offsets[i])
        changed.append(k)
    if optimizer is not None and resets:
        optimizer.reset(np.concatenate(resets))
    return changed


@dataclass(frozen=True)
class LayerStats:
    """One weight layer's size: ``weights`` present of ``dense_weights`` possible, ``biases`` (dense)."""

    index: int
    n_in: int
    n_out: int
    weights: int
    dense_weights: int
    biases: int

    @property
    def density(self) -> float:
        """Fraction of the dense layer's weights present, in (0, 1]."""
        return self.weights / self.dense_weights

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def dense_params(self) -> int:
        return self.dense_weights + self.biases


def layer_stats(net: Network) -> list:
    """A ``LayerStats`` per weight layer: present weights and parameters next to the dense equivalent."""
    out = []
    masks = [None] * len(net.layers) if net.mask is None else net.layer_views(net.mask)
    for i, ((n_in, n_out), m) in enumerate(zip(zip(net.sizes[:-1], net.sizes[1:]), masks)):
        present = n_in * n_out if m is None else int(np.count_nonzero(m[:-1]))
        out.append(LayerStats(i, n_in, n_out, present, n_in * n_out, n_out))
    return out


def input_connections(net: Network, shape=None) -> np.ndarray:
    """How many first-layer connections each input has: (sizes[0],) ints, or reshaped to ``shape``.

    For 8×8 digits pass ``shape=(8, 8)`` to get a per-pixel map; a dense net has ``sizes[1]``
    everywhere. SET moves connections away from pixels that carry no information.
    """
    n_in, n_out = net.sizes[0], net.sizes[1]
    if net.mask is None:
        counts = np.full(n_in, n_out, dtype=int)
    else:
        counts = np.count_nonzero(net.layer_views(net.mask)[0][:-1], axis=1)
    return counts if shape is None else counts.reshape(shape)
