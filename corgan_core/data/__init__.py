"""Data loading: every source becomes a :class:`Dataset` (patient x code matrix + vocabulary).

``load(path, options, **overrides)`` picks a loader from the path when ``options.source`` is
``"auto"``; each loader can also be named (see ``LOADERS``). Every problem with the input is a
one-sentence :class:`~corgan_core.errors.DataError` naming the file (and row/column where it applies).

The loaders (and pandas, which they read with) are imported on first use (:mod:`.loading`): a
process that only samples or evaluates a stored run never pays for them.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from .dataset import DEFAULT_HOLDOUT, Dataset, Split, split
from .options import DataOptions
from .postgres import is_database_url

__all__ = ["DEFAULT_HOLDOUT", "Dataset", "Split", "split", "DataOptions", "load", "load_demo", "LOADERS", "demo_path",
           "detect_source", "is_database_url"]

# name -> submodule that defines it, for the names this package re-exports lazily
_LAZY = {
    **dict.fromkeys(("LOADERS", "detect_source"), "loading"),
    **dict.fromkeys(("find_file", "load_eicu", "load_mimic3", "load_mimic4"), "ehr"),
    "binary_task": "labels",
    **dict.fromkeys(("load_npy", "load_npz", "load_table", "refuse_pickle"), "matrix"),
    **dict.fromkeys(("is_meds_folder", "load_meds"), "meds"),
    **dict.fromkeys(("DEMO_SOURCE", "demo_path", "load_demo", "load_omop"), "omop"),
    **dict.fromkeys(("load_postgres", "shown"), "postgres"),
    **dict.fromkeys(("conditions_file", "is_synthea_conditions", "load_synthea"), "synthea"),
    **dict.fromkeys(("CODE_NAMES", "guess_code_cols", "guess_patient_col", "load_long", "load_wide_codes"), "tables"),
    **dict.fromkeys(("check_options", "with_overrides"), "_build"),
    **dict.fromkeys(("PARQUET", "PICKLES", "TEXT", "clean", "fail", "find_column", "read_columns", "read_table",
                     "split_member", "split_names", "suffix"), "_io"),
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def load(path: str | Path, options: DataOptions = DataOptions(), **overrides) -> Dataset:
    """Load ``path`` into a Dataset; ``overrides`` are DataOptions fields (``kind="count"``).

    ``path`` may be ``"demo"`` for the embedded Eunomia demo. For matrices and wide numeric tables
    the kind is inferred unless stated: a ``kind`` passed here as an override is checked against
    the values (binary must be 0/1), ``kind="continuous"`` in the options is always honoured.
    """
    from .loading import load as _load

    return _load(path, options, **overrides)
