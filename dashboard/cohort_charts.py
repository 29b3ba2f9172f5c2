"""Charts of a cohort comparison (``corgan_core.cohort_compare.compare``); nothing is computed here.

Suppressed real cells (fewer than k patients) are left out of every chart, and each chart says so.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .charts import COLORS, _layout
from .eval_charts import _diag_scatter, _label

REAL, SYN = COLORS[0], COLORS[1]


def _short(code: str, title: str, width: int = 38) -> str:
    t = title if len(title) <= width else title[: width - 1] + "…"
    return f"{code} {t}".strip()


def prevalence_bars(c: dict) -> go.Figure:
    """Prevalence inside the cohort of the most associated codes, real vs synthetic, with intervals."""
    rows = c["codes"][::-1]  # plotly draws the first category at the bottom
    cont = c["kind"] == "continuous"
    ylab = [_short(r["code"], r["title"]) for r in rows]
    fig = go.Figure()
    for name, key, color in (("real held-out", "real", REAL), ("synthetic", "synthetic", SYN)):
        x = [r[f"{key}_in"] for r in rows]
        err = None
        if not cont:
            lo = [None if v is None else v - r[f"{key}_in_low"] for v, r in zip(x, rows)]
            hi = [None if v is None else r[f"{key}_in_high"] - v for v, r in zip(x, rows)]
            err = dict(type="data", array=hi, arrayminus=lo, visible=True, thickness=1.2)
        fig.add_trace(go.Bar(y=ylab, x=x, name=name, orientation="h", marker_color=color, error_x=err,
                             hovertemplate="%{y}<br>" + name + " %{x:.1%}<extra></extra>" if not cont
                             else "%{y}<br>" + name + " mean %{x:.3g}<extra></extra>"))
    n_supp = sum(r["suppressed"] for r in rows)
    conf = f"{100 * c['settings']['confidence']:.0f}%"
    title = (f"Most associated codes: prevalence in the cohort ({conf} intervals)" if not cont
             else "Columns that differ most inside the cohort: mean inside it")
    if n_supp:
        title += f"<br><sup>{n_supp} real bar(s) hidden: fewer than {c['settings']['k']} real patients</sup>"
    fig = _layout(fig, title, height=max(320, 60 + 26 * len(rows)))
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_xaxes(title="share of cohort members" if not cont else "mean value", tickformat=".0%" if not cont else None)
    return fig


def prevalence_scatter(c: dict) -> go.Figure:
    """Every code's prevalence inside the cohort (but the defining ones), real (x) against synthetic (y)."""
    shown = [p for p in c["prevalence"] if not p["named"]]  # the defining codes sit at 100% by definition
    pts = [p for p in shown if p["real"] is not None]
    hidden = len(shown) - len(pts)
    titles = {p["code"]: p["title"] for p in pts}
    cont = c["kind"] == "continuous"
    what = "mean" if cont else "prevalence"
    fig = _diag_scatter([{"x": [p["real"] for p in pts], "y": [p["synthetic"] for p in pts], "name": "code",
                          "hover": [_label(p["code"], titles) for p in pts],
                          "template": "%{customdata}<br>real %{x:.3f}<br>synthetic %{y:.3f}<extra></extra>"}],
                        f"Within-cohort {what} of every code: real vs synthetic"
                        + (f"<br><sup>{hidden} code(s) hidden: fewer than {c['settings']['k']} real patients</sup>" if hidden else ""),
                        f"real held-out {what}", f"synthetic {what}", height=460)
    return fig


def profile_histogram(c: dict) -> go.Figure:
    """Codes per patient (or a column's values) inside the cohort, real vs synthetic, as shares."""
    prof = c["profile"]
    edges = np.asarray(prof["edges"])
    mids = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    hidden = 0
    for name, key, color in (("real held-out", "real", REAL), ("synthetic", "synthetic", SYN)):
        h = prof[key]["histogram"]
        total = sum(v for v in h if v is not None) or 1
        hidden += sum(v is None for v in h) if key == "real" else 0
        fig.add_trace(go.Bar(x=mids, y=[None if v is None else v / total for v in h], name=name, marker_color=color,
                             opacity=0.75, hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>"))
    title = f"{prof['what'].capitalize()} inside the cohort"
    if prof["real"]["mean"] is not None and prof["synthetic"]["mean"] is not None:
        title += f" (mean: real {prof['real']['mean']:.2f}, synthetic {prof['synthetic']['mean']:.2f})"
    if hidden:
        title += f"<br><sup>{hidden} real bar(s) hidden: fewer than {c['settings']['k']} real patients</sup>"
    fig = _layout(fig, title)
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_xaxes(title=prof["what"])
    fig.update_yaxes(title="share of cohort members", tickformat=".0%")
    return fig
