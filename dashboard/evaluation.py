"""A run's synthetic samples and evaluation report, computed once and kept in the run folder."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from corgan_core.runs import find_run, products
from corgan_core.report import DEFAULT_THRESHOLDS, Report
from corgan_core.runs import Run

from . import state


def sample_file(run_id: str, fmt: str, n: int | None = None, seed: int = 0) -> Path:
    return products.sample_file(find_run(run_id), fmt, n, seed)


def codes_file(run_id: str):
    """The run's ``codes.csv`` (code, title per column of an export)."""
    return products.codes_file(find_run(run_id))


def synthetic(run_id: str, n: int | None = None, seed: int = 0):
    return products.synthetic(find_run(run_id), n, seed)


def file_bytes(run_id: str, fmt: str, n: int | None = None, seed: int = 0):
    """A callable for ``st.download_button``: the file is written only when the button is pressed."""
    return lambda: sample_file(run_id, fmt, n, seed).read_bytes()


def preview(sample, rows: int = 20) -> pd.DataFrame:
    """The first synthetic patients as a table with the code names as columns."""
    from corgan_core.export import to_frame

    return to_frame(sample.X[:rows].toarray() if sample.is_sparse else sample.X[:rows], sample.codes, sample.kind)


def settings(run: Run) -> tuple[int, int]:
    """How many synthetic patients to judge, and the seed (kept across the Fidelity/Privacy/Export pages)."""
    train = int(run.config()["split"]["train"])
    with st.expander("Evaluation settings"):
        c = st.columns(2)
        n = c[0].number_input("Synthetic patients to judge (0 = as many as the model trained on)", min_value=0,
                              step=100, key=state.keep("eval_n", 0), on_change=state.saver("eval_n"))
        seed = c[1].number_input("Seed", step=1, key=state.keep("eval_seed", 0), on_change=state.saver("eval_seed"),
                                 help="Seed of the synthetic sample and of every randomised measure.")
    return int(n) or train, int(seed)


def _kept_report(path: str) -> Report | None:
    """The kept report, parsed once per file version for the whole server (a page re-run only re-judges it)."""
    p = Path(path)
    return _parse(path, p.stat().st_mtime_ns) if p.exists() else None


@st.cache_resource(show_spinner=False, max_entries=16)
def _parse(path: str, mtime_ns: int) -> Report:
    return Report.from_json(path)


def report(run: Run, n: int, seed: int, thresholds: dict | None = None) -> dict:
    """The report as a JSON dict (judged by ``thresholds`` over the defaults); computed with a progress
    bar the first time, then read from disk."""
    rep = _kept_report(str(products.report_path(run, n, seed)))
    if rep is None:
        bar = st.progress(0.0, text="Evaluating the synthetic patients (once per model; the result is kept)...")
        rep = products.evaluation(run, n, seed, progress=lambda done, total: bar.progress(
            min(done / max(total, 1e-9), 1.0), text=f"Evaluating... {done / max(total, 1e-9):.0%}"))
        bar.empty()
    return (rep.with_thresholds(thresholds) if thresholds else rep).to_dict()


def warnings(rep: dict) -> None:
    """The report's warnings at the top of a page: a (near-)verbatim copy first, then small data."""
    meta = rep.get("meta", {})
    if meta.get("copy_warning"):
        st.error(meta["copy_warning"], icon=":material/content_copy:")
    if meta.get("size_warning"):
        st.warning(meta["size_warning"], icon=":material/straighten:")


def metric(col, label: str, m: dict | None) -> None:
    """A headline number; its interval, ceiling, floor and verdict in the help text (the number stays plain)."""
    if not m:
        return
    if m.get("value") is None:
        col.metric(label, "n/a", help=m.get("reason") or "not computed")
        return
    bits = [m.get("label") or label]
    if m.get("interval"):
        bits.append(f"95% interval {m['interval'][0]:.3f} to {m['interval'][1]:.3f}")
    for key, name in (("ceiling", "real-data ceiling"), ("baseline", "independent floor")):
        if m.get(key) is not None:
            bits.append(f"{name} {m[key]:.3f}")
    if m.get("verdict"):
        bits.append(f"{m['verdict']}: {m.get('reason')}")
    iv = m.get("interval")
    col.metric(label, f"{m['value']:.3f}", delta=f"±{(iv[1] - iv[0]) / 2:.3f}" if iv else None, delta_color="off",
               help="; ".join(bits))


def skipped(rep: dict, parts) -> None:
    """Captions for the measures of ``parts`` that were not computed, with the reason."""
    for s in rep["skipped"]:
        if s["metric"] in parts:
            st.caption(f"Not computed - {s['metric']}: {s['reason']}")


def titles(run: Run) -> dict:
    """Code titles of the run's data (from the cached data load)."""
    data = run.config()["data"]
    try:
        return dict(state.load_data(data["path"], data["options"]).titles)
    except Exception:  # noqa: BLE001 - titles are a nicety; the data may have moved
        return {}


def report_downloads(run: Run) -> None:
    """Download buttons for the report (JSON and HTML); computes it on request when it is not cached yet."""
    n, seed = int(run.config()["split"]["train"]), int(state.value("eval_seed", 0))
    n = int(state.value("eval_n", 0)) or n
    rep = products.cached_evaluation(run, n, seed)
    if rep is None:
        st.caption("The report has not been computed for this run yet (the Fidelity and Privacy pages compute it).")
        if not st.button("Compute the report", icon=":material/calculate:"):
            return
        rep = Report.from_dict(report(run, n, seed))
    v = rep.verdicts()
    st.caption("; ".join(f"{s}: {c['pass']} within limits, {c['fail']} above, {c['inconclusive']} inconclusive"
                         for s, c in v.items()))
    c = st.columns(3)
    c[0].download_button("Download report (JSON)", rep.to_json(), file_name=f"report-{run.id}.json",
                         mime="application/json", on_click="ignore", icon=":material/data_object:")
    c[1].download_button("Download report (HTML, with charts)", rep.to_html(), file_name=f"report-{run.id}.html",
                         mime="text/html", on_click="ignore", icon=":material/description:")
