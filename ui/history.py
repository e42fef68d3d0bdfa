"""Run history: overlay the curves of this session's earlier runs, the result first and the
settings that differ between the compared runs highlighted and named in the legend."""
from __future__ import annotations

import streamlit as st

from ui import charts, sparsity, texts
from ui.sidebar import GRADIENT_LABELS, INPUT_SCALES, LOSS_LABELS

MAX_OVERLAID = 6   # runs overlaid at once when new ones arrive (the visitor may pick more)
METRICS = {"val_accuracy": "validation accuracy", "train_accuracy": "train accuracy",
           "val_loss": "validation loss", "train_loss": "train loss"}
DIFFERS = {"background-color": "#fef3c7", "font-weight": "600"}   # a setting that differs between the runs


def _activations(c) -> str:
    acts = c.hidden_activations()
    return acts[0] if len(set(acts)) == 1 else ",".join(acts)


# Column -> (the setting's value for a config, its short form for a legend).
SETTINGS = {
    "layers": (lambda c: "-".join(str(s) for s in (64, *c.hidden_layer_sizes, 10)), "{}"),
    "activation": (_activations, "{}"),
    "output": (lambda c: c.output_activation, "out {}"),
    "loss": (lambda c: LOSS_LABELS.get(c.loss, c.loss), "{}"),
    "optimizer": (lambda c: c.optimizer, "{}"),
    "learning rate": (lambda c: f"{c.learning_rate:g}", "lr {}"),
    "momentum": (lambda c: f"{c.momentum:g}" if c.optimizer == "momentum" else "–", "momentum {}"),
    "batch": (lambda c: c.batch_size, "batch {}"),
    "epochs set": (lambda c: c.epochs, "{} epochs"),
    "L2": (lambda c: f"{c.alpha:g}", "L2 {}"),
    "validation": (lambda c: f"{c.validation_fraction:.0%}", "val {}"),
    "inputs": (lambda c: INPUT_SCALES.get(c.input_scale, f"×{c.input_scale:g}"), "inputs {}"),
    "weight step": (lambda c: GRADIENT_LABELS.get(c.weight_gradient, c.weight_gradient), "{}"),
    "shifts": (lambda c: "yes" if c.shifts else "no", "shifts {}"),
    "augment": (lambda c: c.augment, "aug ×{}"),
    "connections": (sparsity.label, "{}"),
    "seed": (lambda c: c.seed, "seed {}"),
}


def differing(runs) -> list:
    """The settings (SETTINGS' column names) whose values are not the same for all `runs`."""
    return [name for name, (value, _) in SETTINGS.items() if len({str(value(r.config)) for r in runs}) > 1]


def legend_names(runs) -> list:
    """One legend entry per run: 'Run 3 · lr 0.1 · batch 32', naming only what differs between
    the runs (at most three settings; just 'Run 3' when nothing does)."""
    keys = differing(runs)[:3]
    return [" · ".join([f"Run {r.id}", *(SETTINGS[k][1].format(SETTINGS[k][0](r.config)) for k in keys)])
            for r in runs]


def rows(runs) -> list[dict]:
    """One table row per run: the result first, then every setting."""
    out = []
    for r in runs:
        row = {"run": r.id, "held-out accuracy": r.test_accuracy, "status": r.status.replace("_", " "),
               "epochs run": len(r.records)}
        row.update({name: str(value(r.config)) for name, (value, _) in SETTINGS.items()})
        row["weights"] = sum(s.weights for s in sparsity.planned_stats(r.config))
        out.append(row)
    return out


def table(runs):
    """The history table as a pandas Styler: columns that differ between the runs highlighted."""
    import pandas as pd

    frame = pd.DataFrame(rows(runs))
    diff = differing(runs) if len(runs) > 1 else []
    return frame.style.set_properties(subset=diff, **DIFFERS)


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
        st.plotly_chart(charts.history_figure(picked, metric, legend_names(picked)), key="history_chart",
                        config={"displayModeBar": False})
    st.caption(texts.HISTORY_CHART)
    st.dataframe(table(picked or runs), hide_index=True, width="stretch", key="history_table",
                 column_config={"held-out accuracy": st.column_config.NumberColumn(format="percent")})
