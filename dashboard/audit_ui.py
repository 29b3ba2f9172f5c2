"""The audit report on the Export page: built on request, then offered as HTML and JSON downloads."""
from __future__ import annotations

import streamlit as st

from corgan_core import audit
from corgan_core.runs import Run

from . import widgets


def downloads(run: Run, thresholds: dict | None = None) -> None:
    """A build button, then the two downloads (kept for this run while the session lasts)."""
    st.subheader("Audit report")
    st.caption("For the privacy officer: data source and SHA-256, split, settings, model card, results with "
               "intervals, DP epsilon, the go/no-go verdict against the limits in force, and a review block.")
    if st.button("Build the audit report", icon=":material/verified:", key="audit-build"):
        with widgets.guarded("Building the audit report"), st.spinner("Building the audit report..."):
            st.session_state["audit_report"] = (run.id, *audit.render(run, thresholds=thresholds))
    kept = st.session_state.get("audit_report")
    if kept and kept[0] == run.id:
        c = st.columns(2)
        c[0].download_button("Download audit report (HTML)", kept[1], file_name=f"audit-{run.id}.html",
                             mime="text/html", on_click="ignore", icon=":material/description:", key="dl-audit-html")
        c[1].download_button("Download audit report (JSON)", kept[2], file_name=f"audit-{run.id}.json",
                             mime="application/json", on_click="ignore", icon=":material/data_object:",
                             key="dl-audit-json")
