"""Sparse connectivity in the app: the sidebar's mode/ε/ζ controls, each layer's size next to the
dense equivalent, and the 8x8 map of how many connections each input pixel has.

The pure parts (`config_values`, `config_fields`, `planned_stats`, `label`, `pixel_figure`) are
tested without Streamlit; `controls`, `show_size` and `show_pixels` only draw them.
"""
from __future__ import annotations

import streamlit as st

from mlp.sparse import LayerStats, connection_counts, layer_densities
from ui import keyed

MODE_LABELS = {"dense": "Dense: every connection", "static": "Sparse, fixed at random",
               "set": "Sparse, evolving (SET)"}
SHORT = {"dense": "dense", "static": "static sparse", "set": "SET"}
EPSILONS = (1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0)
ZETAS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
N_PIXELS, N_CLASSES = 64, 10


def _nearest(options, value):
    return min(options, key=lambda o: abs(o - value))


def config_values(config) -> dict:
    """The sidebar widgets' values (key -> value) for a TrainConfig's connectivity settings."""
    return {"connectivity": config.connectivity, "set_epsilon": _nearest(EPSILONS, config.set_epsilon),
            "zeta": _nearest(ZETAS, config.zeta)}


def config_fields(values: dict) -> dict:
    """TrainConfig fields from the widgets' values (the inverse of `config_values`)."""
    return {"connectivity": values["connectivity"], "set_epsilon": float(values["set_epsilon"]),
            "zeta": float(values["zeta"])}


def planned_stats(config, n_in: int = N_PIXELS, n_out: int = N_CLASSES) -> list:
    """Each layer's `LayerStats` for the network `config` will build (weights present vs dense).

    Exact before training: a sparse layer keeps the same number of connections throughout.
    """
    sizes = (n_in, *config.hidden_layer_sizes, n_out)
    if config.connectivity == "dense":
        dens = (1.0,) * (len(sizes) - 1)
    else:
        dens = layer_densities(sizes, config.set_epsilon, config.density, config.sparse_output)
    counts = connection_counts(sizes, dens)
    return [LayerStats(i, a, b, k, a * b, b) for i, ((a, b), k) in enumerate(zip(zip(sizes[:-1], sizes[1:]), counts))]


def label(config) -> str:
    """'dense', 'static sparse 10% (ε 5)' or 'SET 10% (ε 5, ζ 0.3)': the run history's column."""
    if config.connectivity == "dense":
        return "dense"
    stats = planned_stats(config)
    share = sum(s.weights for s in stats) / sum(s.dense_weights for s in stats)
    how = f"density {config.density:g}" if config.density is not None else f"ε {config.set_epsilon:g}"
    zeta = f", ζ {config.zeta:g}" if config.connectivity == "set" else ""
    return f"{SHORT[config.connectivity]} {share:.1%} ({how}{zeta})"


def size_rows(stats) -> list:
    """One table row per layer: its weights, the dense layer's, and the density."""
    return [{"layer": f"{s.n_in} → {s.n_out}", "weights": s.weights, "dense": s.dense_weights,
             "density": s.density} for s in stats]


def pixel_figure(counts, title: str = "") -> dict:
    """An 8x8 heatmap (Plotly dict) of connections per input pixel, row 0 at the top.

    The colour scale runs from 0 to twice the mean count (or the largest, if higher): the total
    never changes during a run, so the scale stays put while SET moves connections around.
    """
    z = [[int(c) for c in row] for row in counts]
    top = max(2 * sum(map(sum, z)) / max(1, sum(map(len, z))), max(map(max, z)), 1)
    return {
        "data": [{"type": "heatmap", "z": z, "colorscale": "Blues", "zmin": 0, "zmax": top,
                  "colorbar": {"title": {"text": "connections"}, "thickness": 12},
                  "hovertemplate": "row %{y}, column %{x}: %{z} connections<extra></extra>"}],
        "layout": {"height": 300, "margin": {"l": 10, "r": 10, "t": 30 if title else 10, "b": 10},
                   "title": {"text": title, "x": 0, "font": {"size": 13}},
                   "xaxis": {"visible": False, "constrain": "domain"},
                   "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                   "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "white"},
    }


# ---- Streamlit views -------------------------------------------------------------------------

def controls(sb) -> None:
    """The sidebar's connectivity widgets (keys as in `config_values`)."""
    keyed.selectbox(sb, "Connections", MODE_LABELS, "connectivity", format_func=MODE_LABELS.get,
                    help="Sparse layers keep a random share of the connections. SET (sparse evolutionary "
                         "training) drops the weakest after each epoch and grows as many new ones at random.")
    if st.session_state["connectivity"] != "dense":
        keyed.select_slider(sb, "Sparsity ε (density = ε·(in + out) / (in·out))", EPSILONS, "set_epsilon",
                            format_func=lambda v: f"{v:g}",
                            help="SET's Erdős–Rényi rule: each hidden layer keeps about ε·(in + out) weights.")
        if st.session_state["connectivity"] == "set":
            keyed.select_slider(sb, "Rewired per epoch ζ", ZETAS, "zeta", format_func=lambda v: f"{v:.0%}",
                                help="The share of positive and of negative weights closest to zero that are "
                                     "removed after each epoch; as many new connections grow at random.")


def show_size(config) -> None:
    """Parameters of the network `config` describes; for a sparse one, per layer next to dense."""
    stats = planned_stats(config)
    params, dense = sum(s.params for s in stats), sum(s.dense_params for s in stats)
    if config.connectivity == "dense":
        st.metric("Parameters", f"{params:,}", help="Weights plus biases")
        return
    st.metric("Parameters", f"{params:,}", help="Weights present plus biases (biases stay dense)")
    st.caption(f"{params / dense:.1%} of the dense network's {dense:,}")
    st.dataframe(size_rows(stats), hide_index=True, width="stretch", key="sparse_layers",
                 column_config={"density": st.column_config.NumberColumn(format="percent")})


def show_pixels(epoch: int, counts) -> None:
    """The live 8x8 map of the first layer's connections per input pixel after ``epoch`` (0: start)."""
    when = f" after epoch {epoch}" if epoch else " at the start"
    st.plotly_chart(pixel_figure(counts, f"Connections per input pixel{when}"), key="sparse_pixels",
                    config={"displayModeBar": False})
    st.caption("SET moves connections away from pixels that carry no information (the blank border) "
               "toward those that tell digits apart; a fixed sparse net keeps its random map.")
