"""Sparse connectivity in the app: the sidebar mapping, sizes against the engine, the pixel map,
and in AppTest: pick SET, train, see the sizes, the live pixel map and the run history's column."""
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mlp import TrainConfig
from mlp.sparse import input_connections, layer_stats
from mlp.training import build_network
from ui import sidebar, sparsity
from ui.history import rows

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.mark.parametrize("config", [
    TrainConfig(), TrainConfig(hidden_layer_sizes=(64, 32), connectivity="static", set_epsilon=5),
    TrainConfig(hidden_layer_sizes=(128,), connectivity="set", set_epsilon=10, zeta=0.2),
])
def test_connectivity_survives_the_sidebar(config):
    assert sidebar.values_to_config(sidebar.config_to_values(config)) == config


@pytest.mark.parametrize("config", [
    TrainConfig(hidden_layer_sizes=(256, 128), connectivity="set", set_epsilon=5),
    TrainConfig(hidden_layer_sizes=(40, 30, 20), connectivity="static", set_epsilon=2),
    TrainConfig(hidden_layer_sizes=(32,)),
])
def test_planned_sizes_are_what_the_engine_builds(config):
    net = build_network(config, 64, 10, np.random.default_rng(0))
    assert sparsity.planned_stats(config) == layer_stats(net)


def test_labels_say_mode_share_and_settings():
    assert sparsity.label(TrainConfig()) == "dense"
    cfg = TrainConfig(hidden_layer_sizes=(256, 128), connectivity="set", set_epsilon=5, zeta=0.3)
    stats = sparsity.planned_stats(cfg)
    share = sum(s.weights for s in stats) / sum(s.dense_weights for s in stats)
    assert 0.09 < share < 0.10
    assert sparsity.label(cfg) == f"SET {share:.1%} (ε 5, ζ 0.3)"
    assert sparsity.label(cfg.replace(connectivity="static")).startswith("static sparse")


def test_pixel_figure_shows_the_counts_top_row_first():
    net = build_network(TrainConfig(hidden_layer_sizes=(50,), connectivity="static", set_epsilon=3), 64, 10,
                        np.random.default_rng(1))
    counts = input_connections(net, (8, 8))
    fig = sparsity.pixel_figure(counts, "t")
    assert np.array_equal(np.array(fig["data"][0]["z"]), counts)
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    json.dumps(fig)


def test_pick_set_train_and_compare_in_the_history():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.slider(key="units_0").set_value(64)
    at.slider(key="epochs").set_value(4)
    at.selectbox(key="connectivity").set_value("set").run()
    assert not at.exception
    at.select_slider(key="set_epsilon").set_value(5.0)
    at.select_slider(key="zeta").set_value(0.2).run()
    cfg = sidebar.values_to_config({k: at.session_state[k] for k in sidebar.config_to_values(TrainConfig())})
    assert cfg.connectivity == "set" and cfg.set_epsilon == 5 and cfg.zeta == 0.2
    planned = sparsity.planned_stats(cfg)
    shown = next(m for m in at.metric if m.label == "Parameters")
    assert shown.value == f"{sum(s.params for s in planned):,}"
    at.button(key="train").click().run()
    lab = at.session_state["lab"]
    assert lab.job.config.connectivity == "set" and lab.job.config.zeta == 0.2
    assert lab.job.join(120)
    at.run()
    assert not at.exception and lab.job.status == "completed"
    set_model = lab.model
    epoch, counts = lab.job.pixels
    assert epoch == 4 and np.array_equal(counts, input_connections(lab.model.network, (8, 8)))
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key == "sparse_pixels").proto.spec)
    assert np.array_equal(np.array(spec["data"][0]["z"]), counts)
    # The same size, dense: the history holds both, with their connectivity and weight counts.
    at.selectbox(key="connectivity").set_value("dense").run()
    at.button(key="train").click().run()
    assert lab.job.join(120)
    at.run()
    table = rows(lab.runs)
    assert table[0]["connections"].startswith("SET ") and "ε 5, ζ 0.2" in table[0]["connections"]
    assert table[1]["connections"] == "dense"
    assert table[0]["weights"] == sum(s.weights for s in layer_stats(set_model.network))
    assert table[1]["weights"] == 64 * 64 + 64 * 10


def test_pixel_scale_is_fixed_by_the_total():
    counts = np.full((8, 8), 10)
    counts[0, 0], counts[0, 1] = 0, 20
    assert sparsity.pixel_figure(counts)["data"][0]["zmax"] == 20
    counts[0, 1], counts[0, 0] = 60, 0
    assert sparsity.pixel_figure(counts)["data"][0]["zmax"] == 60
