"""The audit report on the Export page: built on request, then offered as HTML and JSON downloads."""
from __future__ import annotations

import streamlit as st

from corgan_core import audit
from corgan_core.report import DEFAULT_THRESHOLDS
from corgan_core.runs import Run

from . import state, widgets


def steward_limits() -> dict:
    """The limits the steward set on the Privacy page in this session (its ``limit-<name>`` inputs)."""
    return {k: float(st.session_state[f"limit-{k}"]) for k in DEFAULT_THRESHOLDS
            if st.session_state.get(f"limit-{k}") is not None}


def downloads(run: Run) -> None:
    """A build button, then the two downloads (kept for this run while the session lasts)."""
    st.subheader("Audit report")
    limits = steward_limits()
    st.caption("For the privacy officer: data source and SHA-256, split, settings, model card, results with "
               "intervals, DP epsilon, the go/no-go verdict and a review block. Judged by "
               + ("your limits from the Privacy page." if limits else "the documented default limits."))
    if st.button("Build the audit report", icon=":material/verified:", key="audit-build"):
        n, seed = int(state.value("eval_n", 0)) or None, int(state.value("eval_seed", 0))  # as the Export report
        with widgets.guarded("Building the audit report"), st.spinner("Building the audit report..."):
            st.session_state["audit_report"] = (run.id, *audit.render(run, n=n, seed=seed, thresholds=limits))
    kept = st.session_state.get("audit_report")
    if kept and kept[0] == run.id:
        c = st.columns(2)
        c[0].download_button("Download audit report (HTML)", kept[1], file_name=f"audit-{run.id}.html",
                             mime="text/html", on_click="ignore", icon=":material/description:", key="dl-audit-html")
        c[1].download_button("Download audit report (JSON)", kept[2], file_name=f"audit-{run.id}.json",
                             mime="application/json", on_click="ignore", icon=":material/data_object:",
                             key="dl-audit-json")
