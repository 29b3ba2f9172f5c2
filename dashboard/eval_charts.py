"""Charts drawn from an evaluation report's JSON details (``corgan_core.report``); no metric is computed here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .charts import COLORS, _layout


def _diag_scatter(traces: list[dict], title: str, xlab: str, ylab: str, height: int = 460) -> go.Figure:
    """Scatter of real (x) vs synthetic (y) with the diagonal where a perfect generator would put every point."""
    fig = go.Figure()
    hi = 0.0
    for i, t in enumerate(traces):
        x, y = np.asarray(t["x"], float), np.asarray(t["y"], float)
        ok = np.isfinite(x) & np.isfinite(y)
        hi = max(hi, float(np.nanmax(np.r_[x[ok], y[ok], 0.0])))
        cls = go.Scattergl if ok.sum() > 1500 else go.Scatter
        fig.add_trace(cls(x=x[ok], y=y[ok], mode="markers", name=t["name"],
                          customdata=np.asarray(t["hover"], dtype=object)[ok] if t.get("hover") is not None else None,
                          hovertemplate=t.get("template", "%{customdata}<br>real %{x:.3f}<br>synthetic %{y:.3f}<extra></extra>"),
                          marker=dict(size=t.get("size", 7), opacity=t.get("opacity", 0.75), color=COLORS[i % len(COLORS)])))
    lo = min(0.0, *(float(np.nanmin(np.r_[t["x"], t["y"]])) for t in traces if len(t["x"])))
    hi = hi * 1.03 or 1.0
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect match (diagonal)",
                             line=dict(color="#888888", dash="dash"), hoverinfo="skip"))
    fig.update_xaxes(title=xlab, range=[lo, hi], constrain="domain")
    fig.update_yaxes(title=ylab, range=[lo, hi], scaleanchor="x", scaleratio=1, constrain="domain")
    fig = _layout(fig, title, height)
    fig.update_layout(hovermode="closest")
    return fig


def _label(code: str, titles: dict) -> str:
    t = titles.get(code, "")
    return f"<b>{code}</b> {t}" if t else f"<b>{code}</b>"


def frequency(report: dict, titles: dict, show_train: bool = False) -> go.Figure:
    m = report["fidelity"]["frequency_r2"]
    d = m["details"]
    stat = d.get("statistic", "frequency")
    hover = [_label(c, titles) for c in d["codes"]]
    traces = [{"name": "held-out patients", "x": d["real"], "y": d["synthetic"], "hover": hover}]
    t = report["fidelity"].get("frequency_r2_train")
    if show_train and t:
        traces.append({"name": "training patients", "x": t["details"]["real"], "y": t["details"]["synthetic"],
                       "hover": hover, "size": 6, "opacity": 0.5})
    unit = "share of patients with the code" if stat == "frequency" else "column mean"
    return _diag_scatter(traces, f"Each code's {stat}: real vs synthetic (R² = {m['value']:.3f})",
                         f"real patients: {unit}", f"synthetic patients: {unit}")


def furthest(report: dict, titles: dict) -> pd.DataFrame:
    """The codes whose synthetic frequency is furthest from the real one (from the report)."""
    rows = report["fidelity"]["frequency_r2"]["details"].get("furthest", [])
    return pd.DataFrame([{"code": r["code"], "title": r.get("title") or titles.get(r["code"], ""),
                          "real": f"{r['real']:.1%}", "synthetic": f"{r['synthetic']:.1%}"} for r in rows])


def cooccurrence(report: dict, titles: dict) -> go.Figure:
    m = report["fidelity"]["cooccurrence_r2"]
    d = m["details"]
    hover = [f"{_label(a, titles)}<br>&amp; {_label(b, titles)}" for a, b in d.get("pair_codes", [])]
    stat = d.get("statistic", "co-occurrence")
    return _diag_scatter([{"name": "pairs of codes", "x": d["real"], "y": d["synthetic"], "hover": hover, "size": 5,
                           "opacity": 0.5}],
                         f"Pairs of codes: {stat} in real vs synthetic (R² = {m['value']:.3f})",
                         f"real patients: {stat}", f"synthetic patients: {stat}")


def prediction(report: dict, titles: dict) -> go.Figure | None:
    m = report["utility"].get("prediction_auroc_gap")
    if not m:
        return None
    rows = [r for r in m["details"].get("per_code", []) if r.get("real_auroc") is not None
            and r.get("synthetic_auroc") is not None]
    if not rows:
        return None
    hover = [_label(r["code"], {**titles, r["code"]: r.get("title") or titles.get(r["code"], "")}) for r in rows]
    fig = _diag_scatter([{"name": "codes", "x": [r["real_auroc"] for r in rows],
                          "y": [r["synthetic_auroc"] for r in rows], "hover": hover, "size": 9}],
                        f"Predicting each code from the others (mean gap {m['value']:.3f})",
                        "AUROC, model trained on real patients", "AUROC, model trained on synthetic patients")
    fig.update_xaxes(range=[0.3, 1.02])
    fig.update_yaxes(range=[0.3, 1.02])
    return fig


def classifier_table(report: dict) -> pd.DataFrame | None:
    m = report["utility"].get("tstr_auroc_gap")
    if not m:
        return None
    rows = []
    for name, r in (m["details"].get("models") or {}).items():
        rows.append({"classifier": name.replace("_", " "),
                     "AUROC, trained on real (TRTR)": (r.get("trtr") or {}).get("auroc"),
                     "AUROC, trained on synthetic (TSTR)": (r.get("tstr") or {}).get("auroc"),
                     "accuracy TRTR": (r.get("trtr") or {}).get("accuracy"),
                     "accuracy TSTR": (r.get("tstr") or {}).get("accuracy"), "note": r.get("reason") or ""})
    return pd.DataFrame(rows) if rows else None


def classifier_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure([go.Bar(x=table["classifier"], y=table["AUROC, trained on real (TRTR)"], name="trained on real (TRTR)",
                            marker_color=COLORS[0]),
                     go.Bar(x=table["classifier"], y=table["AUROC, trained on synthetic (TSTR)"],
                            name="trained on synthetic (TSTR)", marker_color=COLORS[1])])
    fig.update_yaxes(title="AUROC on held-out patients", range=[0, 1])
    fig.update_layout(barmode="group")
    return _layout(fig, "Classifier fidelity: the same task learned from real vs synthetic patients", 380)


# ---- privacy -------------------------------------------------------------------------------------
def membership(report: dict) -> go.Figure | None:
    m = report["privacy"].get("membership_advantage")
    if not m:
        return None
    d = m["details"]
    size = max(d["sizes"])
    rows = pd.DataFrame([s for s in d["summary"] if s["size"] == size]).sort_values("threshold")
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[
        "Precision: of the patients the attacker names, share truly in training",
        "Recall: share of training patients the attacker finds"])
    for i, (r, part) in enumerate(rows.groupby("fraction")):
        color = COLORS[i % len(COLORS)]
        calls = part["calls_mean"] if "calls_mean" in part else None
        fig.add_trace(go.Scatter(x=part["threshold"], y=part["precision_mean"], mode="lines+markers",
                                 name=f"attacker knows r = {r:.0%}", line=dict(color=color), legendgroup=str(r),
                                 customdata=calls, hovertemplate="precision %{y:.2f} (from %{customdata:.1f} "
                                 "patients named, on average)<extra></extra>" if calls is not None else None),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=part["threshold"], y=part["recall_mean"], mode="lines+markers",
                                 name=f"r = {r:.0%}", line=dict(color=color), legendgroup=str(r), showlegend=False),
                      row=1, col=2)
    chance = float(rows["members_share"].mean()) if "members_share" in rows else d.get("member_share", 0.5)
    th = [rows["threshold"].min(), rows["threshold"].max()]
    fig.add_trace(go.Scatter(x=th, y=[chance, chance], mode="lines", name=f"chance (guessing) = {chance:.2f}",
                             line=dict(color="#777777", dash="dash")), row=1, col=1)
    fig.update_xaxes(title=f"distance threshold ({d.get('metric', 'distance')}): closer synthetic patient = 'member'")
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, f"Membership attack on {size:,} synthetic patients", 430)


def dcr(report: dict) -> go.Figure | None:
    m = report["privacy"].get("dcr_share_closer_to_train")
    if not m:
        return None
    h = m["details"]["histogram"]
    e = h["edges"]
    x = [f"{a:g}-{b:g}" if b is not None else f"{a:g}+" for a, b in zip(e[:-1], e[1:])]
    fig = go.Figure([go.Bar(x=x, y=h["train"], name="to the closest training patient", marker_color=COLORS[1]),
                     go.Bar(x=x, y=h["holdout"], name="to the closest held-out patient", marker_color=COLORS[0])])
    fig.update_xaxes(title="distance (codes that differ)" if m["details"].get("metric") == "hamming" else "distance",
                     type="category")
    fig.update_yaxes(title="synthetic patients")
    fig.update_layout(barmode="group")
    return _layout(fig, "Distance from each synthetic patient to the closest real patient", 380)


def attribute(report: dict) -> go.Figure | None:
    m = report["privacy"].get("attribute_inference_gap")
    if not m:
        return None
    d = m["details"]
    fig = go.Figure(go.Bar(x=["training patients", "held-out patients"], y=[d["train"]["f1"], d["holdout"]["f1"]],
                           marker_color=[COLORS[1], COLORS[0]], text=[f"{d['train']['f1']:.3f}", f"{d['holdout']['f1']:.3f}"]))
    fig.update_yaxes(title="F1 of the guessed codes", range=[0, 1])
    return _layout(fig, f"Guessing hidden codes from {len(d.get('known', []))} known ones", 340)
