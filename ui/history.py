"""Run history: overlay the curves of this session's earlier runs, configuration beside each."""
from __future__ import annotations

import streamlit as st

from ui import charts, sparsity

MAX_OVERLAID = 6   # runs overlaid at once when new ones arrive (the visitor may pick more)
METRICS = {"val_accuracy": "validation accuracy", "train_accuracy": "train accuracy",
           "val_loss": "validation loss", "train_loss": "train loss"}


def rows(runs) -> list[dict]:
    """One table row per run: its configuration and outcome."""
    out = []
    for r in runs:
        c = r.config
        acts = c.hidden_activations()
        out.append({
            "run": r.id, "layers": "-".join(str(s) for s in (64, *c.hidden_layer_sizes, 10)),
            "activation": acts[0] if len(set(acts)) == 1 else ",".join(acts), "output": c.output_activation,
            "loss": c.loss, "optimizer": c.optimizer, "learning rate": f"{c.learning_rate:g}", "batch": c.batch_size,
            "epochs": len(r.records), "L2": f"{c.alpha:g}", "augment": c.augment,
            "connections": sparsity.label(c), "weights": sum(s.weights for s in sparsity.planned_stats(c)), "status": r.status.replace("_", " "),
            "held-out accuracy": r.test_accuracy,
        })
    return out


def show(state) -> None:
    runs = state.runs
    if not runs:
        return
    st.subheader("Run history")
    labels = {r.id: f"Run {r.id}" + ("" if r.config.connectivity == "dense" else f" · {sparsity.label(r.config)}")
              for r in runs}
    has_val = [m for m in METRICS if not m.startswith("val") or any(r.records and r.records[0].val_loss is not None
                                                                    for r in runs)]
    c1, c2 = st.columns([3, 1.2])
    ss = st.session_state
    new = [r.id for r in runs if r.id not in ss.get("history_seen", ())]
    if new:   # a finished run joins the overlay; the visitor's own choice of older runs is kept
        ss["history_runs"] = [i for i in ss.get("history_runs", []) if i in labels][-(MAX_OVERLAID - 1):] + new
        ss["history_seen"] = list(labels)
    chosen = c1.multiselect("Runs to compare", list(labels), key="history_runs", format_func=labels.get)
    metric = c2.selectbox("Curve", has_val, index=has_val.index("train_accuracy") if "val_accuracy" not in has_val
                          else 0, key="history_metric", format_func=METRICS.get)
    picked = [r for r in runs if r.id in chosen]
    if picked:
        st.plotly_chart(charts.history_figure(picked, metric), key="history_chart", config={"displayModeBar": False})
    st.dataframe(rows(picked or runs), hide_index=True, width="stretch", key="history_table",
                 column_config={"held-out accuracy": st.column_config.NumberColumn(format="percent")})
