"""The evaluation's plotly figures, drawn once from a report's JSON dict: the dashboard's Fidelity and
Privacy pages show them and the HTML report embeds the same ones (same colours). No Streamlit and
no metric code: every number comes from the report (``Report.to_dict()``)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
"""The series colours of every chart (the dashboard's too)."""
VERDICT_COLORS = {"pass": "#1a7f37", "fail": "#c00000", "inconclusive": "#b26a00", None: "#777777"}
REFERENCE = {"ceiling": "#2ca02c", "floor": "#7f7f7f", "limit": "#000000"}


TITLE_CHARS = 52
"""Title characters per line: a half-width chart (about 400 px) shows about this many at 15 px."""


def wrap(text: str, width: int = TITLE_CHARS) -> str:
    """``text`` broken into lines of at most ``width`` characters at spaces (plotly never wraps)."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width, break_long_words=False)) or text


def layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    """The common look: title top left (wrapped, so a half-width chart never cuts it), legend below,
    white template."""
    title = wrap(title)
    lines = title.count("<br>") + 1
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=height + 20 * (lines - 1),
                      margin=dict(l=10, r=10, t=40 + 20 * lines, b=10), legend=dict(orientation="h", y=-0.22, yanchor="top"),
                      template="plotly_white", hovermode="x unified",
                      hoverlabel=dict(namelength=-1))  # plotly cuts trace names at 15 characters by default
    return fig


def label(code: str, titles: dict) -> str:
    """A code with its title, for hover text."""
    t = titles.get(code, "")
    return f"<b>{code}</b> {t}" if t else f"<b>{code}</b>"


def diag_scatter(traces: list[dict], title: str, xlab: str, ylab: str, height: int = 460) -> go.Figure:
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
    lo = min(0.0, *(float(np.nanmin(np.r_[np.asarray(t["x"], float), np.asarray(t["y"], float)]))
                    for t in traces if len(t["x"])))
    hi = hi * 1.03 or 1.0
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect match (diagonal)",
                             line=dict(color="#888888", dash="dash"), hoverinfo="skip"))
    fig.update_xaxes(title=xlab, range=[lo, hi], constrain="domain")
    fig.update_yaxes(title=ylab, range=[lo, hi], scaleanchor="x", scaleratio=1, constrain="domain")
    fig = layout(fig, title, height)
    fig.update_layout(hovermode="closest")
    return fig


def _num(x, fmt=".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


# ---- fidelity ------------------------------------------------------------------------------------
def frequency(report: dict, titles: dict | None = None, show_train: bool = False) -> go.Figure | None:
    m = report["fidelity"].get("frequency_r2")
    if not m or "real" not in m["details"]:
        return None
    titles = titles or {}
    d = m["details"]
    stat = d.get("statistic", "frequency")
    hover = [label(c, titles) for c in d["codes"]]
    traces = [{"name": "held-out patients", "x": d["real"], "y": d["synthetic"], "hover": hover}]
    t = report["fidelity"].get("frequency_r2_train")
    if show_train and t:
        traces.append({"name": "training patients", "x": t["details"]["real"], "y": t["details"]["synthetic"],
                       "hover": hover, "size": 6, "opacity": 0.5})
    unit = "share of patients with the code" if stat == "frequency" else "column mean"
    return diag_scatter(traces, f"Each code's {stat}: real vs synthetic (R² = {_num(m['value'])})",
                        f"real patients: {unit}", f"synthetic patients: {unit}")


def cooccurrence(report: dict, titles: dict | None = None) -> go.Figure | None:
    m = report["fidelity"].get("cooccurrence_r2")
    if not m or "real" not in m["details"]:
        return None
    titles = titles or {}
    d = m["details"]
    hover = [f"{label(a, titles)}<br>&amp; {label(b, titles)}" for a, b in d.get("pair_codes", [])]
    stat = d.get("statistic", "co-occurrence")
    return diag_scatter([{"name": "pairs of codes", "x": d["real"], "y": d["synthetic"], "hover": hover, "size": 5,
                          "opacity": 0.5}],
                        f"Pairs of codes: {stat} in real vs synthetic (R² = {_num(m['value'])})",
                        f"real patients: {stat}", f"synthetic patients: {stat}")


def prediction(report: dict, titles: dict | None = None) -> go.Figure | None:
    m = report["utility"].get("prediction_auroc_gap")
    if not m:
        return None
    titles = titles or {}
    rows = [r for r in m["details"].get("per_code", []) if r.get("real_auroc") is not None
            and r.get("synthetic_auroc") is not None]
    if not rows:
        return None
    hover = [label(r["code"], {**titles, r["code"]: r.get("title") or titles.get(r["code"], "")}) for r in rows]
    fig = diag_scatter([{"name": f"codes ({len(rows)})", "x": [r["real_auroc"] for r in rows],
                         "y": [r["synthetic_auroc"] for r in rows], "hover": hover, "size": 7}],
                       f"Predicting each code from the others (mean gap {_num(m['value'])})",
                       "AUROC, model trained on real patients", "AUROC, model trained on synthetic patients")
    fig.update_xaxes(range=[0.3, 1.02])
    fig.update_yaxes(range=[0.3, 1.02])
    return fig


def references(section: dict, names, title: str) -> go.Figure | None:
    """Each measure as a dot with its 95% interval (error bar), beside the real-data ceiling, the
    independent floor and the limit; dots coloured by verdict."""
    rows = [(n, section[n]) for n in names if n in section]
    if not rows:
        return None
    fig = go.Figure()
    y = [m.get("label") or n for n, m in rows]

    def add(key, name, symbol, color, size=11):
        xs = [m.get(key) for _, m in rows]
        if any(v is not None for v in xs):
            fig.add_trace(go.Scatter(x=xs, y=y, mode="markers", name=name, marker=dict(symbol=symbol, color=color,
                                     size=size, line=dict(width=1, color=color))))

    add("ceiling", "real-data ceiling (training rows vs holdout)", "diamond", REFERENCE["ceiling"])
    add("baseline", "independent floor (each code on its own)", "x", REFERENCE["floor"])
    add("limit", "limit", "line-ns-open", REFERENCE["limit"], 18)
    vals = [m.get("value") for _, m in rows]
    lo = [(v - m["interval"][0]) if m.get("interval") and v is not None else 0 for (_, m), v in zip(rows, vals)]
    hi = [(m["interval"][1] - v) if m.get("interval") and v is not None else 0 for (_, m), v in zip(rows, vals)]
    colors = [VERDICT_COLORS.get(m.get("verdict"), "#777777") for _, m in rows]
    text = [f"{m.get('verdict') or 'for information'}: {m.get('reason') or ''}" for _, m in rows]
    fig.add_trace(go.Scatter(x=vals, y=y, mode="markers", name="this synthetic data (95% interval)",
                             error_x=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color="#444444"),
                             marker=dict(size=12, color=colors), customdata=text,
                             hovertemplate="%{x:.3f}<br>%{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(hovermode="closest")
    return layout(fig, title, 120 + 48 * len(rows))


FIDELITY_OVERVIEW = ("frequency_r2", "cooccurrence_r2", "threeway_r2", "frequency_r2_common", "frequency_r2_uncommon",
                     "frequency_r2_rare", "odds_ratio_agreement", "discriminator_auroc")


def fidelity_overview(report: dict) -> go.Figure | None:
    """The headline fidelity figures with intervals, ceiling, floor and limit."""
    sec = {**report["fidelity"], **{k: v for k, v in report["utility"].items() if k == "prediction_synthetic_auroc"}}
    return references(sec, [*FIDELITY_OVERVIEW, "prediction_synthetic_auroc"],
                      "Headline fidelity: this data (dot, 95% interval) against what real data scores (diamond)")


def bands(report: dict) -> go.Figure | None:
    """Frequency R² per prevalence band, with the codes the synthetic set never generates."""
    names = [n for n in ("frequency_r2_common", "frequency_r2_uncommon", "frequency_r2_rare") if n in report["fidelity"]]
    if not names:
        return None
    ms = [report["fidelity"][n] for n in names]
    x = [f"{n.rsplit('_', 1)[1]} codes ({m['details'].get('codes', '?')}; "
         f"{m['details'].get('never_generated', '?')} never generated)" for n, m in zip(names, ms)]
    v = [m.get("value") for m in ms]
    err = dict(type="data", symmetric=False,
               array=[(m["interval"][1] - m["value"]) if m.get("interval") else 0 for m in ms],
               arrayminus=[(m["value"] - m["interval"][0]) if m.get("interval") else 0 for m in ms])
    fig = go.Figure([go.Bar(x=x, y=v, name="this synthetic data (95% interval)", marker_color=COLORS[0], error_y=err),
                     go.Bar(x=x, y=[m.get("ceiling") for m in ms], name="real-data ceiling", marker_color=REFERENCE["ceiling"]),
                     go.Bar(x=x, y=[m.get("baseline") for m in ms], name="independent floor", marker_color=REFERENCE["floor"])])
    fig.update_yaxes(title="frequency R² within the band")
    fig.update_layout(barmode="group")
    return layout(fig, "Code frequencies by prevalence band: rare codes are where models fail most", 380)


# ---- privacy -------------------------------------------------------------------------------------
PRIVACY_OVERVIEW = ("membership_advantage", "membership_auroc", "dcr_share_closer_to_train", "exact_copy_excess",
                    "rare_replay_excess", "attribute_inference_gap")


def privacy_overview(report: dict) -> go.Figure | None:
    """Every judged privacy figure with its 95% interval against its limit."""
    return references(report["privacy"], PRIVACY_OVERVIEW, "Privacy checks: value (95% interval) against the limit")


def membership(report: dict) -> go.Figure | None:
    m = report["privacy"].get("membership_advantage")
    if not m or "summary" not in m["details"]:
        return None
    d = m["details"]
    size = max(d["sizes"])
    rows = sorted((s for s in d["summary"] if s["size"] == size), key=lambda s: (s["fraction"], s["threshold"]))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=[
        wrap("Precision: share of the patients named who were truly in training", 40),
        wrap("Membership advantage (TPR - FPR), as many members as non-members", 40)])
    fig.update_annotations(font_size=12)
    for i, r in enumerate(sorted({s["fraction"] for s in rows})):
        part = [s for s in rows if s["fraction"] == r]
        color = COLORS[i % len(COLORS)]
        fig.add_trace(go.Scatter(x=[s["threshold"] for s in part], y=[s["precision_mean"] for s in part],
                                 mode="lines+markers", name=f"attacker knows r = {r:.0%}", line=dict(color=color),
                                 customdata=[s["calls_mean"] for s in part],
                                 hovertemplate="precision %{y:.2f} (from %{customdata:.1f} patients named, on "
                                               "average)<extra></extra>"), row=1, col=1)
    th = [s["threshold"] for s in rows]
    chance = float(np.mean([s["members_share"] for s in rows])) if rows else d.get("member_share", 0.5)
    fig.add_trace(go.Scatter(x=[min(th), max(th)], y=[chance, chance], mode="lines", name=f"chance (guessing) = {chance:.2f}",
                             line=dict(color="#777777", dash="dash")), row=1, col=1)
    pt = d.get("per_threshold") or []
    if pt:
        fig.add_trace(go.Scatter(x=[p["threshold"] for p in pt], y=[p["advantage"] for p in pt], mode="lines+markers",
                                 name=f"TPR - FPR, r = {d.get('advantage_fraction', 0):.0%}", line=dict(color=COLORS[4])),
                      row=1, col=2)
        if m.get("interval"):
            t0 = d.get("advantage_threshold")
            fig.add_trace(go.Scatter(x=[t0], y=[m["value"]], mode="markers", name="judged (95% interval)",
                                     marker=dict(size=12, color=VERDICT_COLORS.get(m.get("verdict"))),
                                     error_y=dict(type="data", symmetric=False, array=[m["interval"][1] - m["value"]],
                                                  arrayminus=[m["value"] - m["interval"][0]])), row=1, col=2)
        if m.get("limit") is not None:
            fig.add_trace(go.Scatter(x=[min(th), max(th)], y=[m["limit"]] * 2, mode="lines", name="limit",
                                     line=dict(color=REFERENCE["limit"], dash="dot")), row=1, col=2)
    # the subplots are narrow: a short axis title; the hover and the page text say what a threshold does
    fig.update_xaxes(title=f"distance threshold ({d.get('metric', 'distance')})")
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig = layout(fig, f"Membership attack on {size:,} synthetic patients", 450)
    return fig.update_layout(margin_t=110)  # room for the two-line subplot titles under the title


def dcr(report: dict) -> go.Figure | None:
    m = report["privacy"].get("dcr_share_closer_to_train")
    if not m or "histogram" not in m["details"]:
        return None
    h = m["details"]["histogram"]
    e = h["edges"]
    open_end = [v is None or v == float("inf") for v in e]
    whole = all(o or float(v).is_integer() for v, o in zip(e, open_end))

    def name(a, b):  # whole-number distances: "2" or "3-5", not "2-3" for a bin holding only 2
        if b is None or b == float("inf"):
            return f"{a:g}+"
        if whole:
            return f"{a:g}" if b - a == 1 else f"{a:g}-{b - 1:g}"
        return f"{a:g}-{b:g}"
    x = [name(a, b) for a, b in zip(e[:-1], e[1:])]
    fig = go.Figure([go.Bar(x=x, y=h["train"], name="to the closest training patient", marker_color=COLORS[1]),
                     go.Bar(x=x, y=h["holdout"], name="to the closest held-out patient", marker_color=COLORS[0])])
    fig.update_xaxes(title="distance (codes that differ)" if m["details"].get("metric") == "hamming" else "distance",
                     type="category")
    fig.update_yaxes(title="synthetic patients")
    fig.update_layout(barmode="group")
    iv = m.get("interval")
    share = f"{_num(m.get('value'), '.1%')}" + (f" (95% interval {iv[0]:.1%} to {iv[1]:.1%})" if iv else "")
    fig = layout(fig, f"Distance to the closest real patient; closer to training: {share}", 400)
    return fig.update_layout(legend=dict(y=-0.32), margin=dict(b=40))  # below the axis title, not over it


def attribute(report: dict) -> go.Figure | None:
    m = report["privacy"].get("attribute_inference_gap")
    if not m or "train" not in m["details"]:
        return None
    d = m["details"]
    fig = go.Figure(go.Bar(x=["training patients", "held-out patients"], y=[d["train"]["f1"], d["holdout"]["f1"]],
                           marker_color=[COLORS[1], COLORS[0]], text=[f"{d['train']['f1']:.3f}", f"{d['holdout']['f1']:.3f}"]))
    fig.update_yaxes(title="F1 of the guessed codes", range=[0, 1])
    iv = m.get("interval")
    gap = f"gap {_num(m.get('value'))}" + (f" (95% interval {iv[0]:.3f} to {iv[1]:.3f})" if iv else "")
    return layout(fig, f"Guessing hidden codes from {len(d.get('known', []))} known ones: {gap}", 340)


def classifier(report: dict) -> go.Figure | None:
    m = report["utility"].get("tstr_auroc_gap")
    if not m or not m["details"].get("models"):
        return None
    models = m["details"]["models"]
    names = list(models)
    bars = []
    for i, (key, side) in enumerate((("trtr", "trained on real (TRTR)"), ("tstr", "trained on synthetic (TSTR)"))):
        entries = [models[n].get(key) or {} for n in names]
        y = [e.get("auroc") for e in entries]
        ivs = [e.get("auroc_interval") for e in entries]
        err = None
        if all(iv and v is not None for iv, v in zip(ivs, y)):  # 95% interval, when every bar has one
            err = dict(type="data", symmetric=False, array=[iv[1] - v for iv, v in zip(ivs, y)],
                       arrayminus=[v - iv[0] for iv, v in zip(ivs, y)])
        bars.append(go.Bar(x=[n.replace("_", " ") for n in names], y=y, name=side, marker_color=COLORS[i], error_y=err))
    fig = go.Figure(bars)
    fig.update_yaxes(title="AUROC on held-out patients (95% interval)", range=[0, 1])
    fig.update_layout(barmode="group")
    return layout(fig, "Classifier fidelity: the same task learned from real vs synthetic patients", 380)


def figures(report: dict, titles: dict | None = None) -> dict:
    """Every figure the report's metrics allow, keyed by name (the HTML report embeds them all)."""
    out = {"fidelity_overview": fidelity_overview(report), "frequency": frequency(report, titles),
           "cooccurrence": cooccurrence(report, titles), "bands": bands(report),
           "prediction": prediction(report, titles), "classifier": classifier(report),
           "privacy_overview": privacy_overview(report), "membership": membership(report), "dcr": dcr(report),
           "attribute": attribute(report)}
    return {k: v for k, v in out.items() if v is not None}
