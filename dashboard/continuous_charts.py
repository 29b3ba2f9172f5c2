"""Charts of continuous fidelity (issue 16) for the Fidelity page: the mean power spectrum per
class (real vs synthetic vs the independent sampler) and each column's scaled distance.

They read the report dict (``corgan_core.metrics.continuous.report_part`` wrote the numbers);
for code data the report has none of them and :func:`figures` returns nothing.
"""
from __future__ import annotations

import plotly.graph_objects as go

from dashboard.charts import COLORS

_DASH = {"real": "solid", "synthetic": "dash", "baseline": "dot"}
_NAME = {"real": "real (held out)", "synthetic": "synthetic", "baseline": "independent"}


def spectrum(report: dict) -> go.Figure | None:
    """Mean power spectrum per class, log scale: one colour per class, one dash per source."""
    m = report.get("fidelity", {}).get("spectrum_distance")
    if not m or not m.get("details", {}).get("spectra"):
        return None
    spectra = m["details"]["spectra"]
    classes = [k for k in spectra["real"]["classes"] if k != "all"] or ["all"]
    fig = go.Figure()
    for i, cls in enumerate(classes):
        for source, spec in spectra.items():
            if cls in spec["classes"]:
                fig.add_trace(go.Scatter(x=spec["frequency"], y=spec["classes"][cls], mode="lines",
                                         name=f"{_NAME.get(source, source)}, class {cls}",
                                         line=dict(color=COLORS[i % len(COLORS)], dash=_DASH.get(source, "solid"))))
    fig.update_layout(title="Mean power spectrum per class", xaxis_title="frequency (cycles per sample)",
                      yaxis_title="power", yaxis_type="log", height=380, margin=dict(t=50, b=40))
    return fig


def columns(report: dict) -> go.Figure | None:
    """Each column's Wasserstein-1 distance / column SD and KS statistic (synthetic vs held-out)."""
    w = report.get("fidelity", {}).get("continuous_wasserstein")
    ks = report.get("fidelity", {}).get("continuous_ks")
    if not w or not ks:
        return None
    fig = go.Figure([
        go.Scatter(y=w["details"]["per_column"], mode="lines", name="Wasserstein-1 / SD", line=dict(color=COLORS[0])),
        go.Scatter(y=ks["details"]["per_column"], mode="lines", name="KS statistic", line=dict(color=COLORS[1])),
    ])
    fig.update_layout(title="Distance of each column's values (0 = same distribution)", xaxis_title="column",
                      height=320, margin=dict(t=50, b=40))
    return fig


def figures(report: dict) -> list[go.Figure]:
    """The continuous charts this report has (none for code data)."""
    return [f for f in (spectrum(report), columns(report)) if f is not None]
