"""Plotly figures for the pages: data summary, live training curves, run comparison.

Every chart says in its title what is good (higher/lower) so a reader new to GANs can judge it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from corgan_core.report_charts import COLORS, layout  # noqa: F401 - COLORS is used by the pages too
from corgan_core.runs.quality import MEASURES

LOSS_LABELS = {
    "ae": "autoencoder (training rows)", "ae_val": "autoencoder (validation rows)",
    "critic": "critic / discriminator", "discriminator": "critic / discriminator",
    "generator": "generator", "gradient_penalty": "gradient penalty",
}


_layout = layout  # one look for every chart, the HTML report's too


# ---- data ----------------------------------------------------------------------------------------
def codes_per_patient(cpp: np.ndarray) -> go.Figure:
    fig = go.Figure(go.Histogram(x=np.asarray(cpp), marker_color=COLORS[0],
                                 hovertemplate="%{x} codes: %{y} patients<extra></extra>"))
    fig.update_xaxes(title="codes per patient")
    fig.update_yaxes(title="patients")
    fig.update_layout(bargap=0.05)
    return _layout(fig, f"Codes per patient (mean {np.mean(cpp):.1f})", 320)


def short(text: str, limit: int = 48) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-")
    return (cut or text[: limit - 1]) + "…"


def top_codes(top: list[dict]) -> go.Figure:
    df = pd.DataFrame(top)
    labels = [short(f"{r.code} {r.title}") for r in df.itertuples()]
    full = [f"{r.code} {r.title}" for r in df.itertuples()]
    fig = go.Figure(go.Bar(x=df["frequency"], y=labels, orientation="h", marker_color=COLORS[0],
                           customdata=full, hovertemplate="%{customdata}: %{x:.1%} of patients<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="share of patients", tickformat=".0%")
    return _layout(fig, "Most frequent codes", max(320, 28 * len(df) + 90))


def value_histogram(ds) -> go.Figure:
    """Continuous data: the distribution of all values (a sample of at most 200,000)."""
    X = ds.dense()
    v = X.ravel()
    if v.size > 200_000:
        v = np.random.default_rng(0).choice(v, 200_000, replace=False)
    fig = go.Figure(go.Histogram(x=v, nbinsx=60, marker_color=COLORS[0]))
    fig.update_xaxes(title="value")
    fig.update_yaxes(title="cells")
    return _layout(fig, "Distribution of the values", 320)


def column_profile(ds) -> go.Figure:
    """Continuous data: each column's mean with a band of one standard deviation."""
    X = ds.dense()
    m, sd = X.mean(0), X.std(0)
    x = list(ds.codes)
    fig = go.Figure([
        go.Scatter(x=x + x[::-1], y=np.r_[m + sd, (m - sd)[::-1]], fill="toself", fillcolor="rgba(31,119,180,0.2)",
                   line=dict(width=0), name="± 1 standard deviation", hoverinfo="skip"),
        go.Scatter(x=x, y=m, mode="lines", line=dict(color=COLORS[0]), name="mean")])
    fig.update_xaxes(title="column", type="category", nticks=12)
    return _layout(fig, "Each column's mean and spread", 320)


def data_figures(ds, info: dict) -> tuple[go.Figure, go.Figure]:
    """The two overview charts of the Data page, by the data's kind."""
    if ds.kind == "continuous":
        return value_histogram(ds), column_profile(ds)
    return codes_per_patient(ds.codes_per_patient()), top_codes(info["top_codes"])


# ---- training ------------------------------------------------------------------------------------
def losses(df: pd.DataFrame, labels: dict[str, str] | None = None) -> go.Figure:
    """Loss curves, one panel per training phase titled by ``labels[phase]`` (the model's phase labels;
    epsilon, when present, gets its own chart)."""
    labels = labels or {}
    df = df[df["name"] != "epsilon"] if not df.empty else df
    phases = list(dict.fromkeys(df["phase"])) if not df.empty else []
    fig = make_subplots(rows=1, cols=max(len(phases), 1), horizontal_spacing=0.08,
                        subplot_titles=[labels.get(p, p) for p in phases] or [""])
    names = list(dict.fromkeys(df["name"])) if not df.empty else []
    for ci, phase in enumerate(phases, start=1):
        part = df[df["phase"] == phase]
        for name in dict.fromkeys(part["name"]):
            s = part[part["name"] == name]
            fig.add_trace(go.Scatter(x=s["epoch"], y=s["value"], mode="lines+markers",
                                     name=LOSS_LABELS.get(name, name.replace("_", " ")),
                                     line=dict(color=COLORS[names.index(name) % len(COLORS)]),
                                     marker=dict(size=5)), row=1, col=ci)
        _epoch_ticks(fig, part["epoch"], row=1, col=ci)
    return _layout(fig, "Training losses, by epoch", 360)


def epsilon(df: pd.DataFrame) -> go.Figure:
    s = df[df["name"] == "epsilon"]
    fig = go.Figure(go.Scatter(x=np.arange(1, len(s) + 1), y=s["value"], mode="lines+markers",
                               line=dict(color=COLORS[4]), name="epsilon"))
    fig.update_xaxes(title="epoch (all phases)")
    fig.update_yaxes(title="epsilon", rangemode="tozero")
    return _layout(fig, "Privacy budget spent: epsilon (lower is more private)", 300)


def r2_floor(values) -> float:
    """Lower end of an R² axis: 0, or lower when some value is negative (clipped at -1)."""
    low = float(np.nanmin(values)) if len(values) else 0.0
    return max(min(0.0, low - 0.05), -1.0)


def _epoch_ticks(fig: go.Figure, epochs, **where) -> None:
    """Whole-number epoch ticks (one per epoch while they fit), never 19.5."""
    span = float(np.nanmax(epochs) - np.nanmin(epochs)) if len(epochs) else 0.0
    fig.update_xaxes(tickformat="d", dtick=1 if span <= 12 else None, **where)


def quality(q: pd.DataFrame, epoch_title: str = "epoch") -> go.Figure:
    """Checkpoint quality and risk: R², codes per patient, degenerate rows, membership attack AUROC;
    ``epoch_title`` names the phase whose epochs are sampled (e.g. "epoch of GAN training")."""
    fig = make_subplots(rows=2, cols=2, vertical_spacing=0.2, horizontal_spacing=0.12, subplot_titles=[
        "Fidelity R² (1 = perfect)", "Codes per patient", "Collapsed samples (0 = none)",
        "Attack AUROC (0.5 = no leak)"])
    if q.empty:
        return _layout(fig, "Sample quality at each checkpoint", 520)
    q = q.sort_values("t")

    def add(name, label, row, col, color, dash=None):
        s = q[q["name"] == name]
        if s.empty:
            return
        fig.add_trace(go.Scatter(x=s["epoch"], y=s["value"], mode="lines+markers", name=label,
                                 line=dict(color=color, dash=dash), marker=dict(size=5)), row=row, col=col)

    add("frequency_r2", MEASURES["frequency_r2"][0], 1, 1, COLORS[0])
    add("cooccurrence_r2", MEASURES["cooccurrence_r2"][0], 1, 1, COLORS[2])
    add("correlation_r2", MEASURES["correlation_r2"][0], 1, 1, COLORS[2])
    add("codes_per_patient", MEASURES["codes_per_patient"][0], 1, 2, COLORS[1])
    add("codes_per_patient_real", MEASURES["codes_per_patient_real"][0], 1, 2, "#555555", "dash")
    add("zero_rows", MEASURES["zero_rows"][0], 2, 1, COLORS[3])
    add("duplicate_rows", MEASURES["duplicate_rows"][0], 2, 1, COLORS[4])
    add("mi_auroc", MEASURES["mi_auroc"][0], 2, 2, COLORS[5])
    epochs = q["epoch"]
    if "mi_auroc" in set(q["name"]):
        fig.add_trace(go.Scatter(x=[epochs.min(), epochs.max()], y=[0.5, 0.5], mode="lines",
                                 name="chance (0.5)", line=dict(color="#999999", dash="dot")), row=2, col=2)
    r2 = q[q["name"].isin(["frequency_r2", "cooccurrence_r2", "correlation_r2"])]["value"]
    fig.update_yaxes(range=[r2_floor(r2), 1.02], row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    fig.update_yaxes(range=[-0.05, 1.05], row=2, col=1)
    fig.update_yaxes(range=[0.35, 1.0], row=2, col=2)
    for r in (1, 2):
        for c in (1, 2):
            fig.update_xaxes(title=epoch_title if r == 2 else None, row=r, col=c)
    _epoch_ticks(fig, epochs)
    return _layout(fig, "Sample quality and risk at each checkpoint", 560)


# ---- comparing runs ------------------------------------------------------------------------------
def compare_losses(frames: dict[str, pd.DataFrame], name: str) -> go.Figure:
    """One loss (e.g. generator) of several runs, overlaid on a shared epoch axis."""
    fig = go.Figure()
    for i, (rid, df) in enumerate(frames.items()):
        s = df[df["name"] == name]
        fig.add_trace(go.Scatter(x=np.arange(1, len(s) + 1), y=s["value"], mode="lines", name=rid,
                                 line=dict(color=COLORS[i % len(COLORS)])))
    fig.update_xaxes(title="epoch (all phases in order)")
    return _layout(fig, f"{LOSS_LABELS.get(name, name)} loss, run by run", 340)


def compare_quality(frames: dict[str, pd.DataFrame], name: str, title: str,
                    epoch_title: str = "epoch") -> go.Figure:
    """One checkpoint measure of several runs; ``epoch_title`` names the phases whose epochs are sampled."""
    fig = go.Figure()
    for i, (rid, q) in enumerate(frames.items()):
        s = q[q["name"] == name]
        fig.add_trace(go.Scatter(x=s["epoch"], y=s["value"], mode="lines+markers", name=rid,
                                 line=dict(color=COLORS[i % len(COLORS)])))
    fig.update_xaxes(title=epoch_title)
    _epoch_ticks(fig, pd.concat([q["epoch"] for q in frames.values()] or [pd.Series(dtype=float)]))
    values = pd.concat([q[q["name"] == name]["value"] for q in frames.values()] or [pd.Series(dtype=float)])
    if name.endswith("_r2"):
        fig.update_yaxes(range=[r2_floor(values), 1.02])
    elif name == "mi_auroc":
        fig.update_yaxes(range=[0.35, 1.0])
    else:
        fig.update_yaxes(range=[-0.05, 1.05])
    return _layout(fig, title, 340)

