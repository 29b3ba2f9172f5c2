"""Session state the pages share: the chosen data, the run being watched, settings kept across pages.

Streamlit forgets a widget's value when its page is not shown; values that must survive a page
change live under plain keys here and are copied into widgets on each render (``keep``).
"""
from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from corgan_core.data import DataOptions, Dataset, load
from corgan_core.data.upload import UPLOAD_DIR
from corgan_core.demo import DIABETES_DEMO, DIABETES_DEMO_LABEL, EUNOMIA_DEMO_LABEL
from corgan_core.runs import Run, find_run, list_runs, runs_dir

DEMO = str(DIABETES_DEMO)  # the default data on a fresh install: real, correlated records
DEMOS = {DEMO: DIABETES_DEMO_LABEL, "demo": EUNOMIA_DEMO_LABEL}  # path -> label; "demo" is the OMOP example


def keep(name: str, default) -> str:
    """Key of a widget whose value survives page changes; pass ``on_change=saver(name)`` and no value."""
    if name not in st.session_state:
        st.session_state[name] = default
    st.session_state["w_" + name] = st.session_state[name]
    return "w_" + name


def value(name: str, default):
    """The kept value ``name`` (``default`` until a page's widget sets it)."""
    return st.session_state.setdefault(name, default)


def widget_key(name: str) -> str:
    return "w_" + name


def saver(name: str):
    def _save():
        st.session_state[name] = st.session_state["w_" + name]
    return _save


# ---- data ----------------------------------------------------------------------------------------
def data_choice() -> dict:
    """``{"path", "options", "label"}`` of the data in use (the demo until the user picks other data)."""
    if "data" not in st.session_state:
        st.session_state["data"] = {"path": DEMO, "options": asdict(DataOptions()), "label": DEMOS[DEMO]}
    return st.session_state["data"]


def set_data(path: str, options: DataOptions, label: str, where: str = "") -> None:
    st.session_state["data"] = {"path": path, "options": asdict(options), "label": label, "where": where}


@st.cache_resource(show_spinner="Loading the data...", max_entries=8)
def _load(path: str, options_items: tuple) -> Dataset:
    return load(path, DataOptions(**dict(options_items)))


def load_data(path: str, options: DataOptions | dict) -> Dataset:
    """Load (once per path and options; shared by every session) - raises CorganError."""
    opts = options if isinstance(options, dict) else asdict(options)
    return _load(path, tuple(sorted(opts.items())))


def current_dataset() -> Dataset:
    d = data_choice()
    return load_data(d["path"], d["options"])


# ---- runs ----------------------------------------------------------------------------------------
def runs() -> list[Run]:
    return list_runs()


def watched_run() -> Run | None:
    """The run this session last started or picked, else the newest run on disk (survives restarts)."""
    rid = st.session_state.get("run_id")
    if rid:
        try:
            return find_run(rid)
        except Exception:  # noqa: BLE001 - deleted meanwhile
            st.session_state.pop("run_id", None)
    found = list_runs()
    return found[0] if found else None


def watch(run: Run | str) -> None:
    st.session_state["run_id"] = run if isinstance(run, str) else run.id


def runs_folder() -> str:
    return str(runs_dir().resolve())


def uploads_folder() -> str:
    """Uploads are kept beside the runs, which remember their data by path."""
    return str(runs_dir() / UPLOAD_DIR)
