"""Privacy: could the synthetic patients reveal who was in the training data? One verdict per measure."""
import streamlit as st

from dashboard import eval_charts, evaluation, verdicts, widgets

st.title("Privacy")
st.caption("Each measure plays an attacker against the synthetic data, using training patients (members) and "
           "held-out patients (non-members). Each verdict rests on a 95% interval: 'above limit' only when the whole "
           "interval is beyond your limit, 'inconclusive' when it straddles it. No real patient's record is shown.")
run = widgets.pick_run("Run", need_model=True, key="privacy_run")
if run is not None:
    n, seed = evaluation.settings(run)
    with st.expander("Limits set by the data steward"):
        c = st.columns(3)
        limits = {k: c[i % 3].number_input(text, min_value=0.0, max_value=1.0, value=float(evaluation.DEFAULT_THRESHOLDS[k]),
                                           step=0.01, format="%.3f", key=f"limit-{k}")
                  for i, (k, text) in enumerate(verdicts.PRIVACY_THRESHOLDS.items())}
    with widgets.guarded("The evaluation"):
        rep = evaluation.report(run, n, seed, limits)
        priv = rep["privacy"]
        evaluation.warnings(rep)
        fails = [k for k, m in priv.items() if m.get("verdict") == "fail"]
        unsure = [k for k, m in priv.items() if m.get("verdict") == "inconclusive"]
        judged = [k for k, m in priv.items() if m.get("verdict")]
        if fails or unsure:
            st.warning(f"{len(fails)} of {len(judged)} privacy measures are above the limits you set and {len(unsure)} are "
                       "inconclusive (the data cannot tell either way): review them below before sharing this data.",
                       icon=":material/gpp_maybe:")
        else:
            st.success(f"All {len(judged)} judged privacy measures are within the limits you set.", icon=":material/verified_user:")
        for name in [*verdicts.PRIVACY_THRESHOLDS, "epsilon"]:
            if name in priv:
                verdicts.show(name, priv[name])
        for fig in (eval_charts.privacy_overview(rep), eval_charts.membership(rep)):
            if fig is not None:
                st.plotly_chart(fig, width="stretch")
        st.caption("The attacker calls a record a training member when a synthetic patient lies within the distance "
                   "threshold. Left: precision for attackers holding a share r of the real records (near the dashed "
                   "chance level: the attack fails; hover a point for how many patients it named). Right: TPR - FPR, "
                   "the judged figure, with its interval and your limit.")
        left, right = st.columns(2)
        for col, fig in ((left, eval_charts.dcr(rep)), (right, eval_charts.attribute(rep))):
            if fig is not None:
                col.plotly_chart(fig, width="stretch")
        st.dataframe(verdicts.metrics_table(priv), hide_index=True, width="stretch")
        evaluation.skipped(rep, ("membership", "dcr", "copies", "uniqueness", "attribute", "epsilon"))
        widgets.link("export", "Next: download the synthetic data", ":material/download:")
