"""The evaluation report: metrics in three sections, JSON with a documented schema, HTML export.

A :class:`Report` holds ``fidelity``, ``utility`` and ``privacy`` sections, each a dict of
:class:`Metric` (value, direction, threshold verdict, the ``independent`` baseline's value, and the
details the charts draw). See ``docs/report-schema.md``. No Streamlit here: the HTML page is
self-contained (plotly.js embedded once) and the dashboard draws from the same JSON.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .atomic import write_text_atomic
from .errors import DataError
from .metrics._common import plain

SCHEMA = "corgan-report/1"
SECTIONS = ("fidelity", "utility", "privacy")
DIRECTIONS = ("higher", "lower", "closer-to-chance")

DEFAULT_THRESHOLDS = {
    "frequency_r2": 0.9, "cooccurrence_r2": 0.9, "mean_r2": 0.9, "variance_r2": 0.8,
    "discriminator_auroc": 0.2, "prediction_auroc_gap": 0.05, "prediction_f1_gap": 0.05,
    "tstr_auroc_gap": 0.05, "tstr_accuracy_gap": 0.05, "membership_advantage": 0.05,
    "membership_auroc": 0.05, "dcr_share_closer_to_train": 0.05, "exact_copy_excess": 0.02,
    "rare_replay_excess": 0.01, "attribute_inference_gap": 0.05,
}
"""Metric name -> threshold. ``higher``: pass when value >= t; ``lower``: value <= t;
``closer-to-chance``: |value - chance| <= t. A caller (the dashboard's steward) may override any."""
HEADLINE = ("frequency_r2", "cooccurrence_r2", "prediction_auroc_gap", "discriminator_auroc", "tstr_auroc_gap",
            "membership_advantage", "membership_auroc", "holdout_twin_share", "dcr_share_closer_to_train", "epsilon")
"""Metrics read together (see :meth:`Report.headline`)."""

_METRIC_SCHEMA = {
    "type": "object", "required": ["value", "direction"],
    "properties": {
        "value": {"type": ["number", "null"]}, "direction": {"enum": list(DIRECTIONS)},
        "label": {"type": "string"}, "threshold": {"type": ["number", "null"]},
        "chance": {"type": ["number", "null"]}, "verdict": {"enum": ["pass", "fail", None]},
        "baseline": {"type": ["number", "null"]}, "details": {"type": "object"},
    },
}
JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "corGAN studio evaluation report",
    "type": "object", "required": ["schema", "meta", "thresholds", *SECTIONS, "skipped"],
    "properties": {
        "schema": {"const": SCHEMA}, "meta": {"type": "object"},
        "thresholds": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        **{s: {"type": "object", "additionalProperties": _METRIC_SCHEMA} for s in SECTIONS},
        "skipped": {"type": "array", "items": {"type": "object", "required": ["metric", "reason"]}},
    },
}
"""JSON Schema (draft 2020-12) of :meth:`Report.to_dict`."""


def judge(value, direction: str, threshold, chance=None) -> str | None:
    """``"pass"``/``"fail"`` for a value against its threshold, None when either is missing."""
    if value is None or threshold is None:
        return None
    if direction == "higher":
        ok = value >= threshold
    elif direction == "lower":
        ok = value <= threshold
    else:
        ok = abs(value - (0.5 if chance is None else chance)) <= threshold
    return "pass" if ok else "fail"


@dataclass
class Metric:
    """One reported number: ``value`` with its ``direction`` (``higher``, ``lower`` or
    ``closer-to-chance`` of ``chance``), the ``threshold`` and ``verdict`` where one applies, the
    ``independent`` ``baseline``'s value where computed, and chart/table ``details``."""

    value: float | None
    direction: str
    label: str = ""
    threshold: float | None = None
    chance: float | None = None
    verdict: str | None = None
    baseline: float | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise DataError(f"Unknown metric direction {self.direction!r}; use one of {', '.join(DIRECTIONS)}.")
        self.value = plain(self.value)
        self.baseline = plain(self.baseline)
        self.verdict = judge(self.value, self.direction, self.threshold, self.chance)


@dataclass
class Report:
    """Evaluation of one synthetic data set against real train and holdout rows."""

    fidelity: dict = field(default_factory=dict)
    utility: dict = field(default_factory=dict)
    privacy: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    skipped: list = field(default_factory=list)

    def metrics(self):
        """Yield ``(section, name, Metric)`` for every metric."""
        for s in SECTIONS:
            for name, m in getattr(self, s).items():
                yield s, name, m

    def with_thresholds(self, overrides: dict) -> "Report":
        """A copy judged with ``overrides`` applied on top of this report's thresholds."""
        unknown = set(overrides) - set(DEFAULT_THRESHOLDS)
        if unknown:
            raise DataError(f"Unknown threshold name(s): {', '.join(sorted(unknown))}.")
        th = {**self.thresholds, **overrides}
        sec = {s: {n: replace(m, threshold=th.get(n, m.threshold)) for n, m in getattr(self, s).items()}
               for s in SECTIONS}
        return replace(self, thresholds=th, **sec)

    def headline(self) -> list:
        """The numbers to read together, in order: per-code fit never alone, but beside pairwise
        structure, dimension-wise prediction and the discriminator (with the independent baseline),
        then the attack beside its ceiling and the epsilon. Rows: section, name, label, value,
        baseline, verdict (only metrics present in the report)."""
        out = []
        for name in HEADLINE:
            for s in SECTIONS:
                m = getattr(self, s).get(name)
                if m is not None:
                    out.append({"section": s, "name": name, "label": m.label, "value": m.value,
                                "baseline": m.baseline, "verdict": m.verdict})
        return out

    def verdicts(self) -> dict:
        """Counts of ``pass``/``fail`` per section."""
        out = {s: {"pass": 0, "fail": 0} for s in SECTIONS}
        for s, _, m in self.metrics():
            if m.verdict:
                out[s][m.verdict] += 1
        return out

    # ---- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dict following :data:`JSON_SCHEMA` (NaN written as null)."""
        return {"schema": SCHEMA, "meta": plain(self.meta), "thresholds": plain(self.thresholds),
                **{s: {n: plain(m) for n, m in getattr(self, s).items()} for s in SECTIONS},
                "skipped": plain(self.skipped)}

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise DataError(f"This is not a {SCHEMA} report (schema tag {d.get('schema') if isinstance(d, dict) else None!r}).")
        try:
            sec = {s: {n: Metric(**{k: v for k, v in m.items() if k != "verdict"}) for n, m in d[s].items()}
                   for s in SECTIONS}
        except (KeyError, TypeError, AttributeError) as e:
            raise DataError(f"The report is malformed ({type(e).__name__}: {e}).") from None
        return cls(meta=d.get("meta", {}), thresholds=d.get("thresholds", {}), skipped=d.get("skipped", []), **sec)

    def to_json(self, path: str | Path | None = None) -> str:
        """The report as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        if path is not None:
            write_text_atomic(path, text)
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> "Report":
        """Read a report from a JSON file path or JSON text."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            p = Path(source)
            if not p.exists():
                raise DataError(f"Report file not found: {p}.")
            text = p.read_text()
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise DataError(f"The report is not valid JSON (line {e.lineno}: {e.msg}).") from None

    # ---- HTML ------------------------------------------------------------------------------
    def figures(self) -> dict:
        """plotly figures keyed by name: ``frequency``, ``cooccurrence``, ``prediction``,
        ``membership``, ``dcr`` (only those whose metric is in the report)."""
        return _figures(self)

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page (tables + plotly charts); also written to ``path`` when given."""
        parts = [f"<h1>corGAN studio evaluation</h1><p>{html.escape(_meta_line(self.meta))}</p>"]
        for s in SECTIONS:
            rows = "".join(
                f"<tr><td>{html.escape(m.label or n)}</td><td>{_fmt(m.value)}</td><td>{_fmt(m.baseline)}</td>"
                f"<td>{html.escape(m.direction)}{'' if m.chance is None else f' ({_fmt(m.chance)})'}</td>"
                f"<td>{_fmt(m.threshold)}</td><td class='{m.verdict or ''}'>{m.verdict or ''}</td></tr>"
                for n, m in getattr(self, s).items())
            if rows:
                parts.append(f"<h2>{s.title()}</h2><table><tr><th>metric</th><th>value</th><th>independent baseline</th>"
                             f"<th>better</th><th>threshold</th><th>verdict</th></tr>{rows}</table>")
        if self.skipped:
            parts.append("<h2>Not computed</h2><ul>" + "".join(
                f"<li>{html.escape(str(x['metric']))}: {html.escape(str(x['reason']))}</li>" for x in self.skipped) + "</ul>")
        first = True
        for fig in self.figures().values():
            parts.append(fig.to_html(full_html=False, include_plotlyjs=True if first else False))
            first = False
        page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>corGAN studio evaluation</title><style>"
                "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
                "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.pass{color:#1a7f37}.fail{color:#c00}"
                "</style></head><body>" + "".join(parts) + "</body></html>")
        if path is not None:
            write_text_atomic(path, page)
        return page


def _fmt(x) -> str:
    return "" if x is None else (f"{x:.4g}" if isinstance(x, float) else html.escape(str(x)))


def _meta_line(meta: dict) -> str:
    keys = ("kind", "n_train", "n_holdout", "n_synthetic", "n_codes", "seed", "epsilon")
    return ", ".join(f"{k}: {meta[k]}" for k in keys if meta.get(k) is not None)


def _scatter(go, pairs, title: str, xlab: str, ylab: str):
    fig = go.Figure()
    hi = 0.0
    for name, x, y, text in pairs:
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=name, text=text, marker={"size": 5, "opacity": 0.6}))
        hi = max([hi, *[v for v in list(x) + list(y) if v is not None]])
    fig.add_trace(go.Scatter(x=[0, hi], y=[0, hi], mode="lines", name="diagonal", line={"dash": "dash", "color": "grey"}))
    fig.update_layout(title=title, xaxis_title=xlab, yaxis_title=ylab)
    return fig


def _figures(rep: Report) -> dict:
    import plotly.graph_objects as go

    figs = {}
    f = rep.fidelity
    if "frequency_r2" in f:
        d = f["frequency_r2"].details
        pairs = [("holdout", d["real"], d["synthetic"], d.get("codes"))]
        if "frequency_r2_train" in f:
            t = f["frequency_r2_train"].details
            pairs.append(("train", t["real"], t["synthetic"], t.get("codes")))
        figs["frequency"] = _scatter(go, pairs, "Dimension-wise probability", "real frequency", "synthetic frequency")
    if "cooccurrence_r2" in f:
        d = f["cooccurrence_r2"].details
        text = [f"{a} & {b}" for a, b in d.get("pair_codes", [])]
        figs["cooccurrence"] = _scatter(go, [("holdout", d["real"], d["synthetic"], text)],
                                        f"Co-occurrence ({d.get('statistic', '')}) of the top codes", "real", "synthetic")
    if "prediction_auroc_gap" in rep.utility:
        pc = rep.utility["prediction_auroc_gap"].details.get("per_code", [])
        figs["prediction"] = _scatter(go, [("codes", [r["real_auroc"] for r in pc], [r["synthetic_auroc"] for r in pc],
                                            [r["code"] for r in pc])],
                                      "Dimension-wise prediction (AUROC on holdout)", "trained on real", "trained on synthetic")
    if "membership_advantage" in rep.privacy:
        d = rep.privacy["membership_advantage"].details
        size, frac = max(d["sizes"]), max(d["fractions"])
        rows = sorted((s for s in d["summary"] if s["size"] == size and s["fraction"] == frac), key=lambda s: s["threshold"])
        th = [s["threshold"] for s in rows]
        fig = go.Figure([go.Scatter(x=th, y=[s["precision_mean"] for s in rows], name="precision", mode="lines+markers"),
                         go.Scatter(x=th, y=[s["recall_mean"] for s in rows], name="recall", mode="lines+markers"),
                         go.Scatter(x=th, y=[s["members_share"] for s in rows], name="chance (members' share)",
                                    mode="lines", line={"dash": "dash", "color": "grey"}),
                         go.Scatter(x=th, y=[d["ceiling_precision"]] * len(th), name="ceiling (verbatim copy at 0)",
                                    mode="lines", line={"dash": "dot", "color": "black"})])
        fig.update_layout(title=f"Membership inference ({size} synthetic rows, r = {frac})",
                          xaxis_title=f"{d['metric']} distance threshold", yaxis_title="share")
        figs["membership"] = fig
    if "dcr_share_closer_to_train" in rep.privacy:
        d = rep.privacy["dcr_share_closer_to_train"].details
        h, edges = d["histogram"], d["histogram"]["edges"]
        if d.get("metric") == "hamming":  # one bar per integer distance
            x = [f"{a:g}" if b is not None else f">={a:g}" for a, b in zip(edges[:-1], edges[1:])]
        else:
            x = [f"{_fmt(a)}-{_fmt(b)}" if b is not None else f">={_fmt(a)}" for a, b in zip(edges[:-1], edges[1:])]
        fig = go.Figure([go.Bar(x=x, y=h["train"], name="to train (holdout-sized subset)"),
                         go.Bar(x=x, y=h["holdout"], name="to holdout")])
        fig.update_layout(title="Distance to closest record of synthetic rows", barmode="group",
                          xaxis_title="distance", yaxis_title="synthetic rows")
        figs["dcr"] = fig
    return figs
