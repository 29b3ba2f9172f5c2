"""Fidelity: do the synthetic patients look like real held-out patients, code by code, pair by pair and beyond?"""
import streamlit as st

from dashboard import continuous_charts, eval_charts, evaluation, verdicts, widgets

st.title("Fidelity")
st.caption("Synthetic patients are compared with held-out real patients the model never saw. Every figure has a 95% "
           "interval, the real-data ceiling (what real training patients score against the same held-out patients) "
           "and the independent floor (each code drawn on its own). Inconclusive means the interval straddles the "
           "limit: more patients are needed to decide.")
run = widgets.pick_run("Run", need_model=True, key="fidelity_run")
if run is not None:
    n, seed = evaluation.settings(run)
    with widgets.guarded("The evaluation"):
        rep, titles = evaluation.report(run, n, seed), evaluation.titles(run)
        fid, uti = rep["fidelity"], rep["utility"]
        evaluation.warnings(rep)
        c = st.columns(4)
        for col, (name, label) in zip(c, [("frequency_r2", "Code frequency R²"), ("cooccurrence_r2", "Co-occurrence R²"),
                                          ("threeway_r2", "Three-way R²"),
                                          ("prediction_synthetic_auroc", "Prediction AUROC")]):
            evaluation.metric(col, label, fid.get(name) or uti.get(name))
        st.markdown(verdicts.summary({**fid, **uti}))
        if fid.get("spectrum_distance"):  # continuous data (issue 16)
            st.subheader("Continuous values: spectra and columns")
            for fig in continuous_charts.figures(rep):
                st.plotly_chart(fig, width="stretch")
        for fig in (eval_charts.fidelity_overview(rep), eval_charts.bands(rep)):
            if fig is not None:
                st.plotly_chart(fig, width="stretch")
        if "frequency_r2" in fid and fid["frequency_r2"].get("value") is not None:
            left, right = st.columns([3, 2])
            train = left.toggle("Also show training patients", help="Training patients are what the model saw; "
                                "held-out patients show whether it generalises.")
            left.plotly_chart(eval_charts.frequency(rep, titles, train), width="stretch")
            right.markdown("**Codes the synthetic patients get most wrong**")
            right.dataframe(eval_charts.furthest(rep, titles), hide_index=True, width="stretch")
            missing = eval_charts.never_generated(rep, titles)
            if missing is not None:
                right.markdown("**Codes the synthetic patients never have**")
                right.dataframe(missing, hide_index=True, width="stretch")
        hint = verdicts.baseline_hint(fid)
        if hint:
            st.info(hint, icon=":material/lightbulb:")
        left, right = st.columns(2)
        for col, fig in ((left, eval_charts.cooccurrence(rep, titles)), (right, eval_charts.prediction(rep, titles))):
            if fig is not None:
                col.plotly_chart(fig, width="stretch")
        fig = eval_charts.classifier_bars(rep)
        if fig is not None:
            st.subheader("Classifier fidelity (train on synthetic, test on real)")
            st.plotly_chart(fig, width="stretch")
            st.dataframe(eval_charts.classifier_table(rep), hide_index=True, width="stretch")
        st.subheader("All fidelity and utility measures")
        st.dataframe(verdicts.metrics_table({**fid, **uti}), hide_index=True, width="stretch")
        evaluation.skipped(rep, ("classifier", "probability", "cooccurrence", "threeway", "bands", "agreement",
                                 "prediction", "discriminator", "continuous"))
        widgets.link("privacy", "Next: is it private?", ":material/shield_lock:")
