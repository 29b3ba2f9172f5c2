"""Train: choose a model and its options, start/stop/resume a run, watch its curves and sample quality live."""
import streamlit as st

from corgan_core.data import DataOptions
from corgan_core.models import PRESETS, REGISTRY, get_model_class
from corgan_core.runs import QUICK_TIME_BUDGET_S, Run, TrainSettings, quick_overrides
from dashboard import forms, state, widgets

st.title("Train")
st.caption("A generator learns to produce synthetic patients that look like the training patients. "
           "Training runs in its own process: you can leave this page, open another tab or restart the server.")
data, defaults = state.data_choice(), TrainSettings()
with widgets.guarded("Loading the data"):
    ds = state.current_dataset()
    st.markdown(f"**Data:** {data['label']} - {ds.n_patients:,} patients x {ds.n_codes:,} codes, "
                f"held-out share {state.value('holdout', defaults.holdout):.0%}")
    widgets.link("data", "Change the data or the split", ":material/table_view:")

with st.container(border=True):
    c = st.columns([2, 2, 2, 1])
    model = c[0].selectbox("Model", sorted(REGISTRY), index=sorted(REGISTRY).index("corgan") if "corgan" in REGISTRY else 0)
    preset = c[1].selectbox("Preset", list(PRESETS.get(model, {"default": {}})),
                            help="Named sets of options; 'default' is the recommended one.")
    devices = forms.devices()
    device = c[2].selectbox("Device", [d for d, _ in devices], format_func=dict(devices).get,
                            help="auto uses a GPU when there is one.")
    seed = c[3].number_input("Seed", step=1, key=state.keep("seed", defaults.seed), on_change=state.saver("seed"))
    st.caption((get_model_class(model).__doc__ or "").strip().splitlines()[0])
    Config = get_model_class(model).Config
    quick = st.toggle("Quick demo", value=data["path"] in state.DEMOS,
                      help=f"Sets {', '.join(f'{k}={v}' for k, v in quick_overrides(Config).items())} and a time "
                           f"limit of {QUICK_TIME_BUDGET_S:.0f} s: on the Diabetes demo that is enough to beat "
                           "independent sampling on pairs of codes. Turn off for a real model.")
    start = {**PRESETS.get(model, {}).get(preset, {}), **(quick_overrides(Config) if quick else {})}
    dp = tuple(f["name"] for f in forms.fields_of(Config) if f["name"].startswith("dp_"))
    with st.expander(f"Model options ({len(forms.fields_of(Config)) - len(dp)}; hover a name for its meaning)"):
        values = forms.dataclass_form(Config, start, key=f"opt-{model}-{preset}-{quick}", columns=3, exclude=dp)
    if dp:
        with st.expander("Differential privacy (DP-SGD): off unless an epsilon or a noise multiplier is set"):
            values |= forms.dataclass_form(Config, start, key=f"dp-{model}-{preset}", columns=3, exclude=tuple(values))
    with st.expander("Run settings"):
        budget = st.number_input("Time limit (seconds, 0 = none)", min_value=0.0,
                                 value=QUICK_TIME_BUDGET_S if quick else defaults.time_budget_s, step=30.0,
                                 key=f"budget-{quick}", help="Training ends cleanly, as finished, after this long. An epoch cap left at the "
                                      "model's default is then raised so the limit, not the cap, ends training; "
                                      "a cap you typed (the quick demo's) and DP runs keep theirs.")
    if st.button("Start training", type="primary", icon=":material/play_arrow:"):
        with widgets.guarded("Starting the run"):
            settings = TrainSettings(seed=int(seed), device=device, holdout=float(state.value("holdout", defaults.holdout)),
                                     time_budget_s=float(budget))
            run = Run.create(data["path"], model=model, preset=preset, model_config=values,
                             data_options=DataOptions(**data["options"]), settings=settings, dataset=ds)
            run.start()
            state.watch(run)
            st.toast(f"Started run {run.id}")

st.subheader("Progress")
run = widgets.pick_run("Run shown", empty="No run yet: press Start training above.")
if run is not None:
    status = run.status()["status"]
    c = st.columns(6)
    if status in widgets.ACTIVE and c[0].button("Stop", icon=":material/stop:"):
        with widgets.guarded("Stopping the run"):
            run.stop()
            st.rerun()
    if status in ("stopped", "died", "failed") and c[0].button("Resume", icon=":material/resume:"):
        with widgets.guarded("Resuming the run"):
            run.resume()
            st.rerun()
    widgets.monitor(run)
    if status in ("finished", "stopped"):
        c = st.columns(3)
        with c[0]:
            widgets.link("fidelity", "Next: how faithful are the synthetic patients?", ":material/compare:")
    if status in ("failed", "died"):
        with st.expander("Last lines of the run's log"):
            st.code(run.log_tail(30) or "(empty)", language=None)
