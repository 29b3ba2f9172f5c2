"""Cohorts: pick patients the way a clinician would, and see whether the synthetic cohort looks like the real one."""
import streamlit as st

from corgan_core.cohort_run import compare_run
from dashboard import cohort_ui, evaluation, widgets

st.title("Cohorts")
st.caption("Describe a cohort by its codes (e.g. diabetes with heart failure, without chronic kidney disease) and "
           "compare the synthetic patients in it with the held-out real patients in it, whom the model never saw. "
           "Real patients appear only as counts and shares over at least k patients; smaller cells are suppressed. "
           "Only synthetic patients are listed one by one.")
run = widgets.pick_run("Run", need_model=True, key="cohort_run_pick")
if run is not None:
    n, seed = evaluation.settings(run)
    settings = cohort_ui.settings_form()
    with widgets.guarded("The cohort comparison"):
        real, syn = cohort_ui.data(run, n, seed)
        defn = cohort_ui.builder(real, syn)
        if defn.is_empty:
            st.info("Pick at least one code above (or a range) to define a cohort.", icon=":material/group_add:")
        else:
            st.markdown(f"**Cohort:** {defn.describe(real.titles)}")
            comparison = compare_run(run, defn, n, seed, settings, data=(real, syn))
            cohort_ui.show(comparison)
            members = cohort_ui.browse(defn, syn)
            cohort_ui.downloads(run, defn, comparison, members)
