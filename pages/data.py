"""Data: pick a demo, a path on the server or an upload; see what the matrix holds and how it is split."""
import streamlit as st

from corgan_core.data import DataOptions, split
from corgan_core.runs.settings import TrainSettings
from corgan_core.verdict import size_warning
from dashboard import charts, forms, state, uploads, widgets

st.title("Data")
st.caption("Patients become rows and diagnosis codes become columns (1 = the patient has the code). "
           "The model learns from this matrix.")
chosen = state.data_choice()
PLACES = ["Demo data", "A file or folder on this server", "Upload a file"]
with st.container(border=True):
    where = st.radio("Where is the data?", PLACES, horizontal=True,
                     index=PLACES.index(chosen.get("where") or PLACES[chosen["path"] not in state.DEMOS]))
    path_text = upload = demo = None
    if where == "Demo data":
        demo = st.radio("Demo", list(state.DEMOS), format_func=state.DEMOS.get,
                        index=list(state.DEMOS).index(chosen["path"]) if chosen["path"] in state.DEMOS else 0)
    elif where == PLACES[1]:
        path_text = st.text_input("Path", key=state.keep("path_text", chosen["path"] if chosen.get("where") == PLACES[1] else ""),
                                  on_change=state.saver("path_text"),
                                  placeholder="/data/mimic-iii (a folder with DIAGNOSES_ICD.csv), a .csv/.npz/.parquet file, a MEDS folder or postgresql://me@host/db?schema=cdm",
                                  help="A PostgreSQL URL takes its password from CORGAN_PG_PASSWORD (a root-level key in .streamlit/secrets.toml sets it); never type it into the URL.")
    else:
        upload = st.file_uploader("File (.npz, .npy, .csv, .csv.gz, .parquet, or a .zip of a MIMIC folder)",
                                  type=["npz", "npy", "csv", "gz", "parquet", "zip"])
    main = forms.dataclass_form(DataOptions, chosen["options"], key="data", columns=3, choices=forms.data_choices(),
                                exclude=("source", "icd_version", "patient_col", "code_cols", "count_col", "id_col", "label_col",
                                         "domains", "date_from", "date_to", "concepts", "code_prefix"))
    with st.expander("More options (loader, ICD version, table columns, OMOP and MEDS filters)"):
        more = forms.dataclass_form(DataOptions, chosen["options"], key="data", columns=3,
                                    choices=forms.data_choices(), exclude=tuple(main))
    if st.button("Use this data", type="primary"):
        with widgets.guarded("Loading the data"):
            options = DataOptions(**main, **more)
            if demo is not None:
                path, label = demo, state.DEMOS[demo]
                state.load_data(path, options)
            elif where == PLACES[2]:
                path, label = uploads.load_upload(upload, options)
            else:
                if not (path_text or "").strip():
                    raise forms.missing("Type the path of a file or folder on this server first.")
                path, label = path_text.strip(), path_text.strip()
                state.load_data(path, options)
            state.set_data(path, options, label, where)
            st.toast(f"Now using {label}")
    if where == PLACES[2]:
        uploads.manage()

with widgets.guarded("Loading the data"):
    ds = state.current_dataset()
    info = ds.summary(top=15)
    st.subheader(f"In use: {state.data_choice()['label']}")
    for note in info.get("warnings") or []:
        st.warning(note, icon=":material/warning:")
    noun = "Columns" if ds.kind == "continuous" else "Codes"
    c = st.columns(4)
    c[0].metric("Patients", f"{info['patients']:,}")
    c[1].metric(noun, f"{info['codes']:,}", help=f"Kind: {ds.kind}" + (f"; label {info['label']} kept out" if info["label"] else ""))
    c[2].metric("Density", f"{info['density']:.1%}", help="Share of the matrix cells that are not zero.")
    c[3].metric("Codes per patient" if noun == "Codes" else "Non-zero columns per patient", f"{info['codes_per_patient']['mean']:.1f}",
                help=f"median {info['codes_per_patient']['median']:g}, range {info['codes_per_patient']['min']}-{info['codes_per_patient']['max']}")
    left, right = st.columns(2)
    for col, fig in zip((left, right), charts.data_figures(ds, info)):
        col.plotly_chart(fig, width="stretch")

    st.subheader("Training and held-out patients")
    defaults = TrainSettings()
    c = st.columns(2)
    holdout = c[0].slider("Held-out share", 0.0, 0.5, step=0.05, key=state.keep("holdout", defaults.holdout),
                          on_change=state.saver("holdout"),
                          help="Patients kept away from training, to judge fidelity and privacy fairly.")
    seed = c[1].number_input("Seed", step=1, key=state.keep("seed", defaults.seed), on_change=state.saver("seed"),
                             help="Fixes the split and the training randomness.")
    sp = split(ds, holdout, int(seed))
    st.markdown(f"**{len(sp.train):,}** patients train the model; **{len(sp.holdout):,}** held-out patients are "
                "never shown to it and are used to check how faithful and how private the synthetic patients are.")
    if size_warning(len(sp.train), len(sp.holdout)):
        st.warning(size_warning(len(sp.train), len(sp.holdout)), icon=":material/straighten:")
    widgets.link("train", "Next: train a model", ":material/arrow_forward:")
