"""The evaluation report: metrics in three sections, JSON with a documented schema, HTML export.

A :class:`Report` holds ``fidelity``, ``utility`` and ``privacy`` sections, each a dict of
:class:`Metric`: value, 95% interval, direction, the real-data ``ceiling`` and the ``independent``
floor (``baseline``), the limit and the verdict (pass / fail / inconclusive, with its reason; see
:mod:`corgan_core.verdict`), and the details the charts draw. See ``docs/report-schema.md``. No
Streamlit and no metric code here: the HTML page draws the same plotly figures as the dashboard
(:mod:`corgan_core.report_charts`), with plotly.js embedded so it opens offline.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import report_charts
from .atomic import write_text_atomic
from .errors import DataError
from .verdict import DIRECTIONS, VERDICTS, judge, plain

SCHEMA = "corgan-report/2"
READS = ("corgan-report/1", SCHEMA)
SECTIONS = ("fidelity", "utility", "privacy")

DEFAULT_THRESHOLDS = {
    "frequency_r2": 0.8, "cooccurrence_r2": 0.8, "threeway_r2": 0.8, "frequency_r2_common": 0.8,
    "frequency_r2_uncommon": 0.8, "frequency_r2_rare": 0.8, "odds_ratio_agreement": 0.8,
    "discriminator_auroc": 0.8, "mean_r2": 0.9, "variance_r2": 0.8,
    "prediction_synthetic_auroc": 0.8, "prediction_auroc_gap": 0.05, "prediction_f1_gap": 0.05,
    "tstr_auroc_gap": 0.05, "tstr_accuracy_gap": 0.05, "membership_advantage": 0.05,
    "membership_auroc": 0.05, "dcr_share_closer_to_train": 0.05, "exact_copy_excess": 0.02,
    "rare_replay_excess": 0.01, "attribute_inference_gap": 0.05,
}
"""Metric name -> threshold. Names in :data:`RELATIVE`: the share of the floor-to-ceiling gap the
synthetic data must close (0.8: at least 80% of the way from the independent floor to what the
real training rows score). Otherwise absolute: ``higher``: value >= t; ``lower``: value <= t;
``closer-to-chance``: |value - chance| <= t; ``at-most-chance``: value <= chance + t. A caller
(the dashboard's steward) may override any."""
RELATIVE = frozenset({"frequency_r2", "cooccurrence_r2", "threeway_r2", "frequency_r2_common",
                      "frequency_r2_uncommon", "frequency_r2_rare", "odds_ratio_agreement",
                      "discriminator_auroc", "prediction_synthetic_auroc"})
"""Metrics whose limit is relative to the real-data ceiling and the independent floor by default."""
HEADLINE = ("frequency_r2", "cooccurrence_r2", "threeway_r2", "frequency_r2_rare", "odds_ratio_agreement",
            "prediction_synthetic_auroc", "discriminator_auroc", "tstr_auroc_gap",
            "membership_advantage", "membership_auroc", "dcr_share_closer_to_train", "exact_copy_excess", "epsilon")
"""Metrics read together (see :meth:`Report.headline`)."""

_NUM = {"type": ["number", "null"]}
_METRIC_SCHEMA = {
    "type": "object", "required": ["value", "direction"],
    "properties": {
        "value": _NUM, "direction": {"enum": list(DIRECTIONS)}, "label": {"type": "string"},
        "threshold": _NUM, "chance": _NUM, "verdict": {"enum": [*VERDICTS, None]}, "baseline": _NUM,
        "details": {"type": "object"}, "interval": {"type": ["array", "null"], "items": _NUM},
        "ceiling": _NUM, "relative": {"type": "boolean"}, "needs": {"type": ["object", "null"]},
        "limit": _NUM, "reason": {"type": "string"}, "method": {"type": "string"},
    },
}
JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "corGAN studio evaluation report",
    "type": "object", "required": ["schema", "meta", "thresholds", *SECTIONS, "skipped"],
    "properties": {
        "schema": {"const": SCHEMA}, "meta": {"type": "object"},
        "thresholds": {"type": "object", "additionalProperties": _NUM},
        **{s: {"type": "object", "additionalProperties": _METRIC_SCHEMA} for s in SECTIONS},
        "skipped": {"type": "array", "items": {"type": "object", "required": ["metric", "reason"]}},
    },
}
"""JSON Schema (draft 2020-12) of :meth:`Report.to_dict`."""
_DERIVED = ("verdict", "limit", "reason")


@dataclass
class Metric:
    """One reported number: ``value`` with its 95% ``interval`` (and how it was computed,
    ``method``), its ``direction`` (see :data:`corgan_core.verdict.DIRECTIONS`, with ``chance``),
    the real-data ``ceiling`` and the independent ``baseline`` (the floor) where computed, the
    ``threshold`` (``relative``: share of the floor-to-ceiling gap), ``needs`` when the data was
    too small for it, and chart/table ``details``. ``verdict``, ``limit`` (on the value's scale) and
    ``reason`` are derived from the rest (see :func:`corgan_core.verdict.judge`)."""

    value: float | None
    direction: str
    label: str = ""
    threshold: float | None = None
    chance: float | None = None
    verdict: str | None = None
    baseline: float | None = None
    details: dict = field(default_factory=dict)
    interval: list | None = None
    ceiling: float | None = None
    relative: bool = False
    needs: dict | None = None
    limit: float | None = None
    reason: str = ""
    method: str = ""

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise DataError(f"Unknown metric direction {self.direction!r}; use one of {', '.join(DIRECTIONS)}.")
        self.value, self.baseline, self.ceiling = plain(self.value), plain(self.baseline), plain(self.ceiling)
        self.interval = plain(self.interval)
        if self.interval is not None and None in self.interval:
            self.interval = None
        self.verdict, self.limit, self.reason = judge(self.value, self.direction, self.threshold, self.chance,
                                                      self.interval, self.ceiling, self.baseline, self.relative,
                                                      self.needs)


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
        structure (pairs, triples, rare codes, odds ratios), dimension-wise prediction and the
        discriminator, each with its interval, real-data ceiling and independent floor; then the
        privacy checks and the epsilon. Rows: section, name, label, value, interval, ceiling,
        baseline, verdict, reason (only metrics present in the report)."""
        out = []
        for name in HEADLINE:
            for s in SECTIONS:
                m = getattr(self, s).get(name)
                if m is not None:
                    out.append({"section": s, "name": name, "label": m.label, "value": m.value,
                                "interval": m.interval, "ceiling": m.ceiling, "baseline": m.baseline,
                                "verdict": m.verdict, "reason": m.reason})
        return out

    def verdicts(self) -> dict:
        """Counts of ``pass``/``fail``/``inconclusive`` per section."""
        out = {s: {v: 0 for v in VERDICTS} for s in SECTIONS}
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
        if not isinstance(d, dict) or d.get("schema") not in READS:
            raise DataError(f"This is not a {SCHEMA} report (schema tag {d.get('schema') if isinstance(d, dict) else None!r}).")
        names = {f.name for f in fields(Metric)} - set(_DERIVED)
        try:
            sec = {s: {n: Metric(**{k: v for k, v in m.items() if k in names}) for n, m in d[s].items()}
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
        """The dashboard's plotly figures keyed by name (only those whose metric is in the report);
        see :func:`corgan_core.report_charts.figures`."""
        return report_charts.figures(self.to_dict())

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page (verdicts, tables with intervals, ceilings and floors, and the
        dashboard's charts, plotly.js embedded: it opens offline); also written to ``path``."""
        d = self.to_dict()
        parts = [f"<h1>corGAN studio evaluation</h1><p>{html.escape(_meta_line(self.meta))}</p>"]
        for key in ("size_warning", "copy_warning"):
            if self.meta.get(key):
                parts.append(f"<p class='warn'>{html.escape(self.meta[key])}</p>")
        for s in SECTIONS:
            rows = "".join(
                f"<tr><td>{html.escape(m.label or n)}</td><td>{_fmt(m.value)}</td><td>{_span(m.interval)}</td>"
                f"<td>{_fmt(m.ceiling)}</td><td>{_fmt(m.baseline)}</td><td>{_fmt(m.limit)}</td>"
                f"<td class='{m.verdict or ''}'>{m.verdict or 'for information'}</td>"
                f"<td>{html.escape(m.reason)}{html.escape(_basis(m))}</td></tr>"
                for n, m in getattr(self, s).items())
            if rows:
                parts.append(f"<h2>{s.title()}</h2><table><tr><th>measure</th><th>value</th><th>95% interval</th>"
                             f"<th>real-data ceiling</th><th>independent floor</th><th>limit</th><th>verdict</th>"
                             f"<th>why</th></tr>{rows}</table>")
            if s == "privacy" and (self.meta.get("marginals") or {}).get("marginals_note"):
                parts.append(f"<p class='warn'>Marginals: {html.escape(self.meta['marginals']['marginals_note'])}</p>")
        if self.skipped:
            parts.append("<h2>Not computed</h2><ul>" + "".join(
                f"<li>{html.escape(str(x['metric']))}: {html.escape(str(x['reason']))}</li>" for x in self.skipped) + "</ul>")
        first = True
        for fig in report_charts.figures(d).values():
            parts.append(fig.to_html(full_html=False, include_plotlyjs=True if first else False))
            first = False
        page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>corGAN studio evaluation</title><style>"
                "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
                "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
                f".pass{{color:{report_charts.VERDICT_COLORS['pass']}}}.fail{{color:{report_charts.VERDICT_COLORS['fail']}}}"
                f".inconclusive{{color:{report_charts.VERDICT_COLORS['inconclusive']}}}"
                ".warn{background:#fff4e5;padding:8px;border-left:4px solid #ff7f0e}"
                "</style></head><body>" + "".join(parts) + "</body></html>")
        if path is not None:
            write_text_atomic(path, page)
        return page


def _fmt(x) -> str:
    return "" if x is None else (f"{x:.4g}" if isinstance(x, float) else html.escape(str(x)))


def _span(iv) -> str:
    return "" if not iv else f"{iv[0]:.3g} to {iv[1]:.3g}"


def _basis(m: Metric) -> str:
    b = (m.details or {}).get("basis")
    return f" ({b})" if b else ""


def _meta_line(meta: dict) -> str:
    keys = ("kind", "n_train", "n_holdout", "n_synthetic", "n_codes", "seed", "epsilon")
    return ", ".join(f"{k}: {meta[k]}" for k in keys if meta.get(k) is not None)
