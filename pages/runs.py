"""Runs: every training run with its status and key figures; compare runs; delete a run."""
import streamlit as st

from corgan_core.runs import find_run
from corgan_core.runs.quality import MEASURES, title
from corgan_core.runs.views import compare_table, runs_table, short_label
from dashboard import charts, state, widgets

SHORT = {  # the headline measures of the table, in order, by a name that fits a column
    "frequency_r2": "freq R²", "cooccurrence_r2": "co-occ R²", "correlation_r2": "corr R²", "mi_auroc": "attack AUROC"}

st.title("Runs")
st.caption(f"Every training run kept in {state.runs_folder()} (the folder survives restarts). "
           "R² near 1 means faithful code frequencies; attack AUROC near 0.5 means the membership attack fails.")
with widgets.guarded("Reading the runs"):
    rows = runs_table()
    if not rows:
        st.info("No runs yet: start one on the Train page.")
        widgets.link("train", "Go to Train", ":material/model_training:")
        st.stop()
    # Only the columns that fit beside the sidebar (the run id names the model; seed, preset, the
    # all-zero and repeated shares are in the comparison below), the data set by its last path part.
    shown = [k for k in SHORT if any(k in r for r in rows)]
    table = [{**r, "data": str(r.get("data") or "").rstrip("/").rsplit("/", 1)[-1]} for r in rows]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_order=["run", "status", "data", "patients x codes", "epoch", *shown, "note"],
                 column_config={"run": st.column_config.TextColumn("run", pinned=True),
                                "patients x codes": st.column_config.TextColumn("size", help="patients x codes"),
                                **{k: st.column_config.NumberColumn(SHORT[k], format="%.3f",
                                                                    help=f"{MEASURES[k][0]} ({MEASURES[k][1]}), last checkpoint")
                                   for k in shown}})

    st.subheader("Compare runs")
    ids = [r["run"] for r in rows]
    picked = st.multiselect("Runs to compare", ids, default=ids[:2])
    if picked:
        runs = [find_run(i) for i in picked]
        st.dataframe(compare_table(runs), width="stretch")
        losses = {short_label(r): r.metrics("epochs") for r in runs}
        names = sorted(set().union(*(set(df["name"]) for df in losses.values() if not df.empty)))
        quality = {short_label(r): r.metrics("quality") for r in runs}
        left, right = st.columns(2)
        if names:
            name = left.selectbox("Loss", names, index=names.index("generator") if "generator" in names else 0,
                                  format_func=lambda n: charts.LOSS_LABELS.get(n, n))
            left.plotly_chart(charts.compare_losses(losses, name), width="stretch")
        metric = right.selectbox("Checkpoint measure", ["frequency_r2", "cooccurrence_r2", "mi_auroc", "zero_rows"],
                                 format_func=title)
        sampled = sorted({widgets.sampled_phase(r).lower() for r in runs})
        right.plotly_chart(charts.compare_quality(quality, metric, title(metric), "epoch of " + " / ".join(sampled)),
                           width="stretch")

    st.subheader("Delete a run")
    c = st.columns([3, 2, 1])
    victim = c[0].selectbox("Run to delete", ids, index=None, placeholder="Choose a run")
    sure = c[1].checkbox("Yes, delete its folder for good", disabled=victim is None)
    if c[2].button("Delete", type="primary", disabled=not (victim and sure), icon=":material/delete:"):
        with widgets.guarded("Deleting the run"):
            find_run(victim).delete()
            st.toast(f"Deleted {victim}")
            st.rerun()
