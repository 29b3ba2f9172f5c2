"""The Cohorts page's parts: build a definition, show the comparison, browse and export SYNTHETIC members.

Real patients appear only through ``corgan_core.cohort_compare`` aggregates (small cells suppressed);
the member browser and the export read the synthetic sample alone.
"""
from __future__ import annotations

import json

import streamlit as st

from corgan_core.cohort import CohortDefinition, Range, column_indices, label, search_codes
from corgan_core.cohort_compare import CohortSettings
from corgan_core.cohort_text import table
from corgan_core.cohort_run import members, records, run_data
from corgan_core.data import Dataset
from corgan_core.errors import CorganError
from corgan_core.export import to_frame
from corgan_core.runs import Run

from . import cohort_charts
from .forms import dataclass_form

KEYS = {"all_of": "cohort_all", "any_of": "cohort_any", "none_of": "cohort_none"}
PER_PAGE = 10


@st.cache_resource(show_spinner="Loading the held-out patients and drawing the synthetic ones...", max_entries=4)
def _data(run_dir: str, stamp: str, n: int, seed: int) -> tuple[Dataset, Dataset]:
    return run_data(Run.open(run_dir), n, seed)


def data(run: Run, n: int, seed: int) -> tuple[Dataset, Dataset]:
    """The run's real holdout and synthetic sample (once per model file, n and seed)."""
    src = run.model_file()
    stamp = f"{src.name}-{src.stat().st_mtime_ns if src.exists() else 0}"
    return _data(str(run.dir), stamp, int(n), int(seed))


def _load_upload(codes: list[str]) -> None:
    """Put an uploaded definition into the builder's widgets (before they are drawn)."""
    up = st.session_state.get("cohort_upload")
    if up is None:
        return
    try:
        d = CohortDefinition.from_json(up.getvalue().decode("utf-8", "replace"), where=up.name)
        column_indices(d, codes, "this run's data")
    except CorganError as err:
        st.session_state["cohort_upload_error"] = str(err)
        return
    st.session_state.pop("cohort_upload_error", None)
    for field, key in KEYS.items():
        st.session_state[key] = list(getattr(d, field))
    st.session_state["cohort_min"] = int(d.min_count)
    st.session_state["cohort_ranges"] = [r.column for r in d.ranges]
    for r in d.ranges:
        st.session_state[f"cohort_lo_{r.column}"] = r.low
        st.session_state[f"cohort_hi_{r.column}"] = r.high
    st.session_state["cohort_name"] = d.name


def _keep_known(codes: list[str]) -> None:
    """Drop codes a previous run had but this one lacks (a select box refuses unknown values)."""
    known = set(codes)
    for key in [*KEYS.values(), "cohort_ranges"]:
        if key in st.session_state:
            st.session_state[key] = [c for c in st.session_state[key] if c in known]


def builder(real: Dataset, syn: Dataset) -> CohortDefinition:
    """Search box, the three code lists, and (by kind) a minimum count or ranges; returns the definition."""
    codes, titles = real.codes, real.titles
    _keep_known(codes)
    with st.expander("Load a saved definition (JSON)"):
        st.file_uploader("Cohort definition", type=["json"], key="cohort_upload", on_change=_load_upload, args=(codes,))
        if st.session_state.get("cohort_upload_error"):
            st.error(st.session_state["cohort_upload_error"])
    query = st.text_input("Find codes by code or title", key="cohort_query", placeholder="e.g. heart failure, 250, kidney")
    if query:
        hits = search_codes(codes, titles, query, limit=12)
        st.caption("Matches: " + ("; ".join(label(c, titles) for c in hits) if hits else "none") +
                   " (type the code or part of its title in a box below to pick it).")
    fmt = lambda c: label(c, titles)  # noqa: E731
    # one full-width box each: titled codes are long, and a narrow box hides all chips but one
    picked = {f: st.multiselect(text, codes, key=KEYS[f], format_func=fmt, placeholder="Search code or title")
              for f, text in [("all_of", "Must have all of"), ("any_of", "Must have at least one of"),
                              ("none_of", "Must have none of")]}
    min_count, ranges = 1, []
    if real.kind == "count":
        min_count = int(st.number_input("A code counts as present from this many occurrences", min_value=1, step=1,
                                        key="cohort_min"))
    if real.kind == "continuous":
        cols = st.multiselect("Ranges on columns", codes, key="cohort_ranges", format_func=fmt)
        for col in cols:
            v = syn.dense()[:, codes.index(col)]  # defaults from SYNTHETIC values: a real extreme is one patient's
            for key, default in ((f"cohort_lo_{col}", float(v.min())), (f"cohort_hi_{col}", float(v.max()))):
                st.session_state.setdefault(key, default)
            lo_hi = st.columns(2)
            lo = lo_hi[0].number_input(f"{col} from", value=None, key=f"cohort_lo_{col}", format="%g")
            hi = lo_hi[1].number_input(f"{col} to", value=None, key=f"cohort_hi_{col}", format="%g")
            ranges.append(Range(col, lo, hi))
    name = st.text_input("Cohort name (optional)", key="cohort_name")
    return CohortDefinition(**picked, min_count=min_count, ranges=tuple(ranges), name=name)


def settings_form() -> CohortSettings:
    """k, confidence, associated codes listed and tolerance, from CohortSettings' fields."""
    with st.expander("Cohort settings (small-cell threshold k, confidence, tolerance)"):
        return CohortSettings(**dataclass_form(CohortSettings, key="cohort_set", columns=4))


def show(c: dict) -> None:
    """The plain sentence, the sizes, the three charts and the associated-codes table."""
    box = {"pass": st.success, "fail": st.error, "inconclusive": st.info}[c["verdict"]]
    box(c["sentence"], icon={"pass": ":material/check_circle:", "fail": ":material/error:",
                             "inconclusive": ":material/help:"}[c["verdict"]])
    if c["detail"]:
        st.markdown(c["detail"])
    r, s = c["real"], c["synthetic"]
    m = st.columns(4)
    m[0].metric("Real held-out members", "suppressed" if r["suppressed"] else f"{r['members']:,}",
                help=f"Out of {r['patients']:,} held-out patients the model never saw.")
    m[1].metric("Synthetic members", f"{s['members']:,}", help=f"Out of {s['patients']:,} synthetic patients.")
    m[2].metric("Synthetic / real share", "-" if c["ratio"]["value"] is None else f"{c['ratio']['value']:.2f}")
    m[3].metric("Verdict", c["verdict"])
    for note in c["notes"]:
        st.caption(note)
    if not c["real"]["suppressed"] and c["real"]["members"] == 0 and s["members"] == 0:
        return
    left, right = st.columns(2)
    left.plotly_chart(cohort_charts.prevalence_bars(c), width="stretch", key="cohort_bars")
    right.plotly_chart(cohort_charts.prevalence_scatter(c), width="stretch", key="cohort_scatter")
    st.plotly_chart(cohort_charts.profile_histogram(c), width="stretch", key="cohort_hist")
    st.subheader("Codes most associated with the cohort")
    st.caption("Prevalence inside and outside the cohort; lift = inside / outside; OR = odds ratio "
               "(0.5 added to every cell). Empty real cells rest on fewer than k patients.")
    st.dataframe(table(c), hide_index=True, width="stretch", column_config={
        k: st.column_config.NumberColumn(format="percent" if c["kind"] != "continuous" else "%.3g")
        for k in ("real_in", "synthetic_in", "real_out", "synthetic_out")})


def browse(defn: CohortDefinition, syn: Dataset) -> Dataset | None:
    """Synthetic members as readable lists of titled codes, a page at a time; returns the members."""
    try:
        mem = members(defn, syn)
    except CorganError as err:
        st.info(str(err))
        return None
    st.subheader(f"Synthetic members ({mem.n_patients:,})")
    st.caption("These are synthetic patients drawn from the model; real patients are never listed.")
    start = int(st.number_input("First member shown", min_value=1, max_value=mem.n_patients, step=PER_PAGE,
                                key="cohort_first")) - 1
    for rec in records(mem, PER_PAGE, start):
        st.markdown(f"**{rec['patient']}** ({rec['codes']} codes): " + "; ".join(rec["record"]))
    return mem


def downloads(run: Run, defn: CohortDefinition, c: dict, mem: Dataset | None) -> None:
    """Save the definition, the comparison, and the synthetic members (CSV)."""
    b = st.columns(3)
    b[0].download_button("Save definition (JSON)", defn.to_json(), file_name=f"cohort-{defn.name or 'definition'}.json",
                         mime="application/json", on_click="ignore", icon=":material/save:")
    b[1].download_button("Comparison (JSON)", json.dumps(c, indent=1, default=str), file_name=f"cohort-{run.id}.json",
                         mime="application/json", on_click="ignore", icon=":material/data_object:")
    if mem is not None:
        csv = to_frame(mem.dense(), mem.codes, mem.kind).to_csv(index=False)
        b[2].download_button("Synthetic members (CSV)", csv, file_name=f"cohort-members-{run.id}.csv",
                             mime="text/csv", on_click="ignore", icon=":material/download:")
