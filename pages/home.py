"""Start: what corGAN studio is, who it is for, the four steps, and where the demo and the report are."""
import streamlit as st

from dashboard import state, widgets

st.title("corGAN studio")
st.markdown("Turn real patient records into **synthetic patients** that can be shared more freely, and see, "
            "in charts, **how faithful** they are to the real ones and **how safe** they are for the real "
            "patients behind them.")
st.caption("For data stewards and privacy officers who decide what may leave their hands, clinicians who want "
           "to explore synthetic cohorts, and workshops that show how synthetic health data works.")

STEPS = [
    ("data", ":material/table_view:", "1. Data", "Pick the data: the built-in demo (20,000 real hospital "
     "patients from the Diabetes 130-US study), a file on this server, or an upload."),
    ("train", ":material/model_training:", "2. Train", "Train corGAN (or a baseline) in the background; watch its "
     "losses and, more telling, the quality of its samples at every checkpoint."),
    ("fidelity", ":material/compare:", "3. Fidelity", "Compare synthetic with held-out real patients: code "
     "frequencies, pairs of codes, and whether classifiers trained on synthetic data work on real data."),
    ("privacy", ":material/shield_lock:", "4. Privacy", "Attack the synthetic data as an adversary would: can it "
     "tell who was in the training data, or does it copy real patients?"),
]
cols = st.columns(4)
for col, (page, icon, title, text) in zip(cols, STEPS):
    with col.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(text)
        widgets.link(page, f"Open {title.split(' ', 1)[1]}", icon)

with st.container(border=True):
    st.markdown("**Try it in two minutes.** The demo data is already loaded "
                f"({state.data_choice()['label']}). On the Train page, keep *Quick demo* on and press "
                "*Start training*; when it finishes, open Fidelity and Privacy.")
    widgets.link("train", "Go to Train", ":material/play_arrow:")
st.markdown("**Cohorts.** Clinicians can describe a cohort in codes (e.g. diabetes with heart failure, without "
            "chronic kidney disease), browse synthetic members and see how closely the synthetic cohort matches the "
            "same cohort among real held-out patients (real patients appear only as counts of at least ten).")
widgets.link("cohorts", "Go to Cohorts", ":material/groups:")
st.markdown("**Reports.** The Export page downloads the synthetic patients (CSV, Parquet, npz) and the "
            "evaluation report (JSON and a self-contained HTML page). The Runs page lists and compares every run.")
widgets.link("export", "Go to Export", ":material/download:")
