"""Privacy: could the synthetic patients reveal who was in the training data? One verdict per measure."""
import streamlit as st

from dashboard import eval_charts, evaluation, verdicts, widgets

st.title("Privacy")
st.caption("Each measure plays an attacker against the synthetic data, using training patients (members) and "
           "held-out patients (non-members). Set the limits you accept; no real patient's record is shown.")
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
        fails = [k for k, m in priv.items() if m.get("verdict") == "fail"]
        judged = [k for k, m in priv.items() if m.get("verdict")]
        if fails:
            st.warning(f"{len(fails)} of {len(judged)} privacy measures are above the limits you set: review them below "
                       "before sharing this data.", icon=":material/gpp_maybe:")
        else:
            st.success(f"All {len(judged)} judged privacy measures are within the limits you set.", icon=":material/verified_user:")
        for name in [*verdicts.PRIVACY_THRESHOLDS, "epsilon"]:
            if name in priv:
                verdicts.show(name, priv[name])
        fig = eval_charts.membership(rep)
        if fig is not None:
            st.plotly_chart(fig, width="stretch")
            st.caption("The attacker holds a share r of the real records and calls a record a training member when a "
                       "synthetic patient lies within the distance threshold. Lines near the dashed chance level mean "
                       "the attack fails; at small thresholds the attacker names very few patients (hover a point), "
                       "so precision there is noisy.")
        left, right = st.columns(2)
        for col, fig in ((left, eval_charts.dcr(rep)), (right, eval_charts.attribute(rep))):
            if fig is not None:
                col.plotly_chart(fig, width="stretch")
        st.dataframe(verdicts.metrics_table(priv), hide_index=True, width="stretch")
        for s in rep["skipped"]:
            if s["metric"] in ("membership", "dcr", "copies", "uniqueness", "attribute", "epsilon"):
                st.caption(f"Not computed - {s['metric']}: {s['reason']}")
        widgets.link("export", "Next: download the synthetic data", ":material/download:")
