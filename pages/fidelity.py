"""Fidelity: do the synthetic patients look like real held-out patients, code by code and pair by pair?"""
import streamlit as st

from dashboard import eval_charts, evaluation, verdicts, widgets

st.title("Fidelity")
st.caption("Synthetic patients are compared with held-out real patients the model never saw. Points on the "
           "dashed diagonal are perfect; the independent baseline draws each code on its own, so a useful model "
           "must beat it on pairs of codes.")
run = widgets.pick_run("Run", need_model=True, key="fidelity_run")
if run is not None:
    n, seed = evaluation.settings(run)
    with widgets.guarded("The evaluation"):
        rep, titles = evaluation.report(run, n, seed), evaluation.titles(run)
        fid, uti = rep["fidelity"], rep["utility"]
        c = st.columns(4)
        for col, (name, label) in zip(c, [("frequency_r2", "Code frequency R²"), ("cooccurrence_r2", "Co-occurrence R²"),
                                          ("discriminator_auroc", "Real-vs-synthetic AUROC"),
                                          ("prediction_auroc_gap", "Prediction AUROC gap")]):
            m = fid.get(name) or uti.get(name)
            if m and m["value"] is not None:
                col.metric(label, f"{m['value']:.3f}", help=m["label"] + (f"; independent baseline {m['baseline']:.3f}"
                                                                          if m.get("baseline") is not None else ""))
        st.markdown(verdicts.summary({**fid, **uti}))
        if "frequency_r2" in fid:
            left, right = st.columns([3, 2])
            train = left.toggle("Also show training patients", help="Training patients are what the model saw; "
                                "held-out patients show whether it generalises.")
            left.plotly_chart(eval_charts.frequency(rep, titles, train), width="stretch")
            right.markdown("**Codes the synthetic patients get most wrong**")
            right.dataframe(eval_charts.furthest(rep, titles), hide_index=True, width="stretch", column_config={
                "code": st.column_config.TextColumn(width="small"), "title": st.column_config.TextColumn(width="medium")})
        hint = verdicts.baseline_hint(fid)
        if hint:
            st.info(hint, icon=":material/lightbulb:")
        left, right = st.columns(2)
        if "cooccurrence_r2" in fid:
            left.plotly_chart(eval_charts.cooccurrence(rep, titles), width="stretch")
        fig = eval_charts.prediction(rep, titles)
        if fig is not None:
            right.plotly_chart(fig, width="stretch")
            right.caption("For each frequent code, a classifier predicts it from the patient's other codes. "
                          "Points near the diagonal: synthetic patients teach the same as real ones.")
        table = eval_charts.classifier_table(rep)
        if table is not None:
            st.subheader("Classifier fidelity (train on synthetic, test on real)")
            st.plotly_chart(eval_charts.classifier_bars(table), width="stretch")
            st.dataframe(table, hide_index=True, width="stretch")
        st.subheader("All fidelity and utility measures")
        st.dataframe(verdicts.metrics_table({**fid, **uti}), hide_index=True, width="stretch")
        for s in rep["skipped"]:
            if s["metric"] in ("classifier", "probability", "cooccurrence", "prediction", "discriminator"):
                st.caption(f"Not computed - {s['metric']}: {s['reason']}")
        widgets.link("privacy", "Next: is it private?", ":material/shield_lock:")
