"""Export: download a run's synthetic patients (CSV, Parquet, npz, with code names) and its evaluation report."""
import streamlit as st

from corgan_core import omop_out
from dashboard import audit_ui, evaluation, widgets

st.title("Export")
st.caption("Synthetic patients are drawn from the trained model; no real patient's row is ever written out.")
run = widgets.pick_run("Run", need_model=True, key="export_run")
if run is not None:
    cfg = run.config()
    c = st.columns(2)
    n = c[0].number_input("Synthetic patients", min_value=1, max_value=100_000, step=100,
                          value=min(int(cfg["split"]["train"]), 100_000), help="Default: as many as the model trained on (at most 100,000 per download).")
    seed = c[1].number_input("Sampling seed", value=0, step=1, help="The same seed gives the same patients.")
    with widgets.guarded("Drawing the synthetic patients"):
        with st.spinner("Drawing synthetic patients..."):
            sample = evaluation.synthetic(run.id, int(n), int(seed))  # kept in the run: drawn once
        st.subheader("Synthetic data")
        st.caption(f"{int(n):,} synthetic patients x {cfg['data']['codes']:,} columns. Each column is named by its "
                   "code as the source gave it (e.g. a three-digit ICD-9 group or an OMOP concept id); "
                   "codes.csv gives every column's title.")
        c = st.columns(4)
        mime = {"csv": "text/csv", "parquet": "application/octet-stream", "npz": "application/octet-stream"}
        for col, fmt in zip(c, mime):  # each file is written when its button is pressed, then kept
            col.download_button(f"Download {fmt.upper()}", evaluation.file_bytes(run.id, fmt, int(n), int(seed)),
                                file_name=f"synthetic-{run.id}.{fmt}", mime=mime[fmt], on_click="ignore",
                                icon=":material/download:", key=f"dl-{fmt}")
        c[3].download_button("Download codes.csv", evaluation.codes_file(run.id).read_bytes(), file_name="codes.csv",
                             mime="text/csv", on_click="ignore", icon=":material/download:", key="dl-codes",
                             help="code,title for every column of the downloads")
        with st.expander("First synthetic patients (preview)"):
            st.dataframe(evaluation.preview(sample), hide_index=True)
    if omop_out.is_omop_run(run):  # codes are OMOP concept ids: OHDSI tools can read the patients
        st.subheader("As an OMOP CDM")
        st.caption(f"person, observation_period and condition_occurrence tables: synthetic person ids, one condition "
                   f"row per code, all on the placeholder date {omop_out.PLACEHOLDER_DATE}; no vocabulary tables.")
        c = st.columns([1, 2, 1], vertical_alignment="bottom")
        c[0].download_button("Download OMOP .duckdb", lambda: omop_out.omop_file(run, int(n), int(seed)).read_bytes(),
                             file_name=f"synthetic-{run.id}.duckdb", on_click="ignore", icon=":material/download:", key="dl-omop")
        url = c[1].text_input("PostgreSQL target", placeholder="postgresql://me@host/db?schema=synthetic",
                              help="A new schema; the password comes from CORGAN_PG_PASSWORD (or Streamlit secrets).")
        if c[2].button("Write to PostgreSQL", disabled=not url.strip(), key="omop-pg"):
            with widgets.guarded("Writing the OMOP tables"), st.spinner("Writing OMOP tables..."):
                _, where, rows = omop_out.write_run_omop(run, url, int(n), int(seed))
                st.success(f"Wrote {int(n):,} synthetic persons and {rows:,} condition rows to {where}.")
    st.subheader("Evaluation report")
    evaluation.report_downloads(run)
    audit_ui.downloads(run)
