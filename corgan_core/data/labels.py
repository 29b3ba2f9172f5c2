"""The binary task of a labelled table: one named class is positive (1), every other class is 0.

The corGAN paper judges Epileptic Seizure by seizure (y = 1) vs the rest, not by its five classes;
``DataOptions.positive`` names the positive class. ``auto`` uses 1 for the UCI Epileptic Seizure
table (value columns X1..X178 and label y, its documented layout) unless its label is already 0/1,
and otherwise keeps the label as it is; ``none`` always keeps it.
"""
from __future__ import annotations

import numpy as np

from ._io import fail
from .dataset import Dataset
from .options import DataOptions

EPILEPTIC_COLUMNS = [f"X{i}" for i in range(1, 179)]


def is_epileptic_seizure(ds: Dataset) -> bool:
    """The UCI Epileptic Seizure layout: X1..X178 in order and a label named y."""
    return ds.kind == "continuous" and list(ds.codes) == EPILEPTIC_COLUMNS and (ds.label_name or "").lower() == "y"


def positive_class(ds: Dataset, options: DataOptions) -> str | None:
    """The positive class ``options.positive`` asks for on ``ds`` (None: keep the label as it is)."""
    value = str(options.positive).strip()
    if value.lower() == "none" or value == "":
        return None
    if value.lower() == "auto":  # a label already 0/1 (e.g. a table saved after this mapping) stays
        binary = ds.labels is not None and np.isin(np.asarray(ds.labels, dtype=object), (0, 1)).all()
        return "1" if is_epileptic_seizure(ds) and not binary else None
    return value


def binary_task(ds: Dataset, options: DataOptions, file) -> Dataset:
    """``ds`` with its label mapped to 1 (the positive class) and 0 (every other class)."""
    value = positive_class(ds, options)
    if value is None:
        return ds
    if ds.labels is None:
        raise fail(f"{file} has no label column, so the positive class {value!r} cannot be applied; "
                   f"name the label with label_col or leave positive at auto")
    y = np.asarray(ds.labels)
    if np.issubdtype(y.dtype, np.number):
        try:
            hit = y == float(value)
        except ValueError:
            hit = np.zeros(len(y), bool)
    else:
        hit = y.astype(str) == value
    if not hit.any():
        found = ", ".join(map(str, np.unique(y)[:10]))
        raise fail(f"{file} has no row whose label {ds.label_name!r} is the positive class {value!r} "
                   f"(labels found: {found})")
    ds.labels = hit.astype(np.int64)
    return ds
