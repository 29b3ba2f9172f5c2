"""Forms built from the config dataclasses (``corgan_core.options.fields_of``): one source of defaults.

Each field becomes one widget with the field's help as its tooltip and caption; ``start`` holds the
values to show first (the dataclass default, then a preset, then e.g. the quick-demo overrides).
"""
from __future__ import annotations

import math

import streamlit as st

from corgan_core.options import fields_of


def _step(value: float) -> float:
    if value == 0:
        return 0.01
    return 10.0 ** math.floor(math.log10(abs(value)))


def field_widget(f: dict, value, key: str, choices=None):
    """One widget for one dataclass field; returns the value the user set."""
    label = f["name"].replace("_", " ")
    helptext = f["help"] or None
    choices = choices or f["choices"]
    kind = f["type"]
    if choices:
        options = list(choices)
        if value not in options:
            options.insert(0, value)
        return st.selectbox(label, options, index=options.index(value), key=key, help=helptext)
    if kind is bool:
        return st.checkbox(label, value=bool(value), key=key, help=helptext)
    if kind is int:
        return int(st.number_input(label, value=int(value), step=1, key=key, help=helptext))
    if kind is float:
        return float(st.number_input(label, value=float(value), step=_step(float(value)), format="%g",
                                     key=key, help=helptext))
    return st.text_input(label, value="" if value is None else str(value), key=key, help=helptext)


def dataclass_form(cls, start: dict | None = None, *, key: str, exclude: tuple[str, ...] = (),
                   choices: dict | None = None, columns: int = 2) -> dict:
    """Widgets for every field of ``cls``; returns ``{name: value}`` for all shown fields."""
    start = dict(start or {})
    choices = choices or {}
    fields = [f for f in fields_of(cls) if f["name"] not in exclude]
    cols = st.columns(columns)
    out = {}
    for i, f in enumerate(fields):
        with cols[i % columns]:
            out[f["name"]] = field_widget(f, start.get(f["name"], f["default"]), f"{key}-{f['name']}",
                                          choices.get(f["name"]))
    return out



def data_choices() -> dict:
    """Choices of the DataOptions fields that take one of a few words (from the dataclass)."""
    from corgan_core.data import DataOptions
    from corgan_core.options import fields_of

    return {f["name"]: tuple(f["choices"]) for f in fields_of(DataOptions) if f["choices"]}


def missing(sentence: str):
    """A CorganError for a form left incomplete (shown in an error box)."""
    from corgan_core.errors import CorganError

    return CorganError(sentence)


@st.cache_resource(show_spinner=False)
def devices() -> list[tuple[str, str]]:
    """Devices this machine offers (auto, each GPU, cpu)."""
    from corgan_core.runs import available_devices

    return available_devices()
