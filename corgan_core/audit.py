"""The audit report a privacy officer signs: one run, one self-contained HTML page plus its JSON twin.

It holds the data source and its SHA-256, the split, the config and seed, package versions, a model
card (what the model is, what it was trained on, what its file carries of the real data, its limits),
the fidelity and privacy results with their 95% intervals (the run's evaluation
:class:`~corgan_core.report.Report`, judged by the thresholds in force), the DP epsilon where used, a
go / no-go verdict, and a place for the reviewer's name and decision. Charts are the dashboard's own
(:func:`corgan_core.report_charts.figures`) with plotly.js embedded, so the page opens offline.

The same run gives the same bytes, except the one stated timestamp field ``generated_at`` (in the
HTML, the element ``#generated-at``). No patient row or id is written: only counts, aggregate
statistics and the code vocabulary.
"""
from __future__ import annotations

import html
import json
import time
from pathlib import Path

from .atomic import write_text_atomic
from .report import DEFAULT_THRESHOLDS, SECTIONS, Report
from .runs.store import Run

SCHEMA = "corgan-audit/1"
TIMESTAMP_FIELD = "generated_at"
"""The only field that differs between two audits of the same run."""
DECISIONS = ("go", "no-go", "inconclusive")
LIMITS = (
    "Fidelity and privacy are measured on this data set and split only; another population may differ.",
    "The privacy checks are the attacks listed below (membership inference, distance to closest record, exact "
    "copies, rare-combination replay, attribute inference); passing them is evidence, not a proof of privacy.",
    "Without differential privacy (no epsilon) there is no formal bound on what the model memorised.",
    "Codes are grouped as the run's data options say (ICD codes to three characters by default); finer detail "
    "was never learned.",
)


def decision(rep: Report) -> tuple[str, str]:
    """Go / no-go from the judged metrics: ``no-go`` if any fails, ``inconclusive`` if none fails but
    one could not be decided, ``go`` when every judged metric passes."""
    judged = [(s, n, m) for s, n, m in rep.metrics() if m.verdict is not None]
    fails = [f"{s}/{n}" for s, n, m in judged if m.verdict == "fail"]
    open_ = [f"{s}/{n}" for s, n, m in judged if m.verdict == "inconclusive"]
    if not judged:
        return "inconclusive", "no metric has a threshold, so nothing was judged"
    if fails:
        return "no-go", f"{len(fails)} of {len(judged)} judged metrics fail their limit ({', '.join(fails)})"
    if open_:
        return "inconclusive", f"none fails, but {len(open_)} of {len(judged)} could not be decided ({', '.join(open_)})"
    return "go", f"all {len(judged)} judged metrics are within their limits"


def _model_card(run: Run, cfg: dict) -> dict:
    import torch

    from .models import get_model_class

    doc = (get_model_class(cfg["model"]).__doc__ or "").strip().split("\n\n")[0]
    carries = ["network weights and optimiser state learned from the training rows"]
    path = run.model_file()
    if path.exists():
        ck = torch.load(path, map_location="cpu", weights_only=True)
        meta = ck.get("meta") or {}
        carries += [f"{k}: {_meta_note(k, v)}" for k, v in sorted(meta.items()) if v not in (None, {}, [])]
        kept = sorted(k for k in (ck.get("state") or {}) if k not in ("nets", "optims", "ema"))
        carries.append(f"training state: {', '.join(kept)}")
    if cfg["model_config"].get("output_bias") == "frequency":
        carries.append("each code's share of training patients (the decoder's output bias starts from it)")
    d = cfg["data"]
    return {
        "model": cfg["model"], "preset": cfg.get("preset"), "what": " ".join(doc.split()),
        "trained_on": {"source": d.get("source") or d["path"], "sha256": d["sha256"], "kind": d["kind"],
                       "patients": d["patients"], "codes": d["codes"], "train_rows": cfg["split"]["train"]},
        "model_file": path.name if path.exists() else None,
        "carries": carries,
        "carries_no": "patient ids, dates or rows (the split's row numbers stay in the run folder, not the model file)",
        "limits": list(LIMITS),
    }


def _meta_note(key: str, value) -> str:
    if key == "codes":
        return f"the {len(value)} column names (code vocabulary)"
    if key == "titles":
        return f"{len(value)} code titles"
    return json.dumps(value, sort_keys=True, default=str)[:120]


def build(run: Run, n: int | None = None, seed: int = 0, thresholds: dict | None = None,
          reviewer: str = "", now: float | None = None) -> tuple[dict, Report]:
    """The audit as a JSON-ready dict, and the judged report it rests on."""
    from .runs.products import evaluation

    cfg = run.config()
    rep = evaluation(run, n, seed)
    rep = rep.with_thresholds(dict(thresholds)) if thresholds else rep
    verdict, why = decision(rep)
    eps = rep.meta.get("epsilon") if rep.meta.get("epsilon") is not None else run.epsilon()
    overridden = {k: v for k, v in rep.thresholds.items() if DEFAULT_THRESHOLDS.get(k) != v}
    audit = {
        "schema": SCHEMA,
        TIMESTAMP_FIELD: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now)),
        "run": {"id": run.id, "created": cfg.get("created"), "model": cfg["model"], "preset": cfg.get("preset"),
                "status": run.status().get("status")},
        "data": {k: cfg["data"].get(k) for k in ("path", "source", "sha256", "kind", "patients", "codes",
                                                  "options", "warnings")},
        "split": cfg["split"], "seed": cfg["settings"]["seed"], "evaluation_seed": int(seed),
        "config": {"model_config": cfg["model_config"], "settings": cfg["settings"]},
        "versions": cfg.get("versions", {}),
        "model_card": _model_card(run, cfg),
        "dp_epsilon": eps,
        "thresholds": {"in_force": rep.thresholds, "defaults": dict(DEFAULT_THRESHOLDS), "overridden": overridden},
        "verdict": {"decision": verdict, "reason": why},
        "results": {s: {name: _result(m) for name, m in getattr(rep, s).items()} for s in SECTIONS},
        "skipped": rep.skipped,
        "review": {"reviewer": reviewer, "decision": "", "date": "", "notes": ""},
    }
    return audit, rep


def _result(m) -> dict:
    return {k: getattr(m, k, None) for k in ("label", "value", "interval", "direction", "threshold", "limit",
                                             "ceiling", "baseline", "verdict", "reason")}


def render(run: Run, **kw) -> tuple[str, str]:
    """``(html, json_text)`` of the audit; ``kw`` go to :func:`build`."""
    audit, rep = build(run, **kw)
    return to_html(audit, rep), json.dumps(audit, indent=1, sort_keys=True, allow_nan=False, default=str) + "\n"


def write(run: Run, out_html: str | Path, out_json: str | Path | None = None, **kw) -> tuple[Path, Path]:
    """Write the HTML page and its JSON twin (default: the HTML path with ``.json``)."""
    page, twin = render(run, **kw)
    out_html = Path(out_html)
    out_json = Path(out_json) if out_json else out_html.with_suffix(".json")
    write_text_atomic(out_json, twin)
    write_text_atomic(out_html, page)
    return out_html, out_json


# ---- HTML ------------------------------------------------------------------------------------------
_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}table{border-collapse:collapse;"
        "margin:0 0 1em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        ".pass,.go{color:#1a7f37}.fail,.no-go{color:#c00000}.inconclusive{color:#b26a00}.verdict{font-size:1.4em;"
        "font-weight:bold}.review td{height:2.2em;min-width:24em}input,textarea{width:100%;font:inherit}"
        "code{font-size:.9em}@media print{input,textarea{border:none;border-bottom:1px solid #000}}")


def _e(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return html.escape("" if x is None else str(x))


def _kv(rows: dict) -> str:
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_cell(v)}</td></tr>" for k, v in rows.items()) + "</table>"


def _cell(v) -> str:
    if isinstance(v, dict):
        return "<code>" + html.escape(json.dumps(v, sort_keys=True, default=str)) + "</code>"
    if isinstance(v, list):
        return "<br>".join(_e(x) for x in v) or "none"
    return _e(v)


def _results(results: dict) -> str:
    out = []
    for s, metrics in results.items():
        if not metrics:
            continue
        rows = "".join(
            f"<tr><td>{_e(m['label'] or n)}</td><td>{_e(m['value'])}</td>"
            f"<td>{'' if not m['interval'] else _e(m['interval'][0]) + ' to ' + _e(m['interval'][1])}</td>"
            f"<td>{_e(m['limit'] if m['limit'] is not None else m['threshold'])}</td>"
            f"<td class='{_e(m['verdict'])}'>{_e(m['verdict'] or 'for information')}</td><td>{_e(m['reason'])}</td></tr>"
            for n, m in metrics.items())
        out.append(f"<h3>{_e(s.title())}</h3><table><tr><th>measure</th><th>value</th><th>95% interval</th>"
                   f"<th>limit</th><th>verdict</th><th>why</th></tr>{rows}</table>")
    return "".join(out)


def _charts(rep: Report, titles: dict) -> str:
    from .report_charts import figures

    parts, first = [], True
    for name, fig in figures(rep.to_dict(), titles).items():
        # fixed div ids (plotly picks random ones) keep the page byte-identical across runs
        parts.append(f"<section class='chart' data-chart='{_e(name)}'>" + fig.to_html(
            full_html=False, include_plotlyjs=first, div_id=f"chart-{name}", config={"displaylogo": False})
            + "</section>")
        first = False
    return "".join(parts)


def to_html(audit: dict, rep: Report) -> str:
    """The page: verdict first, then the evidence, then the reviewer's block."""
    v, card = audit["verdict"], audit["model_card"]
    review = "".join(f"<tr><th>{label}</th><td>{field}</td></tr>" for label, field in (
        ("Reviewer", f"<input name='reviewer' value='{_e(audit['review']['reviewer'])}'>"),
        ("Decision", "<select name='decision'><option></option>" + "".join(
            f"<option>{d}</option>" for d in ("approve release", "reject", "more evidence needed")) + "</select>"),
        ("Date", "<input name='date'>"), ("Signature", "<input name='signature'>"),
        ("Notes", "<textarea name='notes' rows='4'></textarea>")))
    titles = {}
    body = (
        f"<h1>corGAN studio audit report</h1><p>Run <b>{_e(audit['run']['id'])}</b>, generated "
        f"<span id='generated-at'>{_e(audit[TIMESTAMP_FIELD])}</span> (the only field that changes between two "
        f"reports of the same run).</p>"
        f"<h2>Verdict</h2><p class='verdict {_e(v['decision'])}' id='decision'>{_e(v['decision'].upper())}</p>"
        f"<p>{_e(v['reason'])}.</p><p>DP epsilon: <b>{_e(audit['dp_epsilon']) or 'not used (no formal privacy bound)'}</b></p>"
        f"<h2>Data</h2>{_kv(audit['data'])}<h2>Split</h2>{_kv(audit['split'])}"
        f"<h2>Model card</h2>{_kv({k: card[k] for k in ('model', 'preset', 'what', 'trained_on', 'model_file', 'carries', 'carries_no', 'limits')})}"
        f"<h2>Results</h2><p>Judged by the thresholds in force; overridden from the documented defaults: "
        f"{_e(', '.join(f'{k}={x}' for k, x in audit['thresholds']['overridden'].items()) or 'none')}.</p>"
        f"{_results(audit['results'])}{_charts(rep, titles)}"
        f"<h2>Thresholds in force</h2>{_kv(audit['thresholds']['in_force'])}"
        f"<h2>Configuration</h2>{_kv({'seed': audit['seed'], 'evaluation seed': audit['evaluation_seed'], **audit['config']})}"
        f"<h2>Versions</h2>{_kv(audit['versions'])}"
        f"<h2>Review</h2><form class='review'><table>{review}</table></form>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Audit: run "
            f"{_e(audit['run']['id'])}</title><style>{_CSS}</style></head><body>{body}</body></html>\n")
