"""Source detection and ``load``: every source becomes a :class:`Dataset` (patient x code matrix + vocabulary).

Imported on first use by :mod:`corgan_core.data` (the loaders need pandas, which a process that
only samples or evaluates a run does not).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from .dataset import Dataset
from .ehr import find_file, load_eicu, load_mimic3, load_mimic4
from .labels import binary_task
from .matrix import load_npy, load_npz, load_table, refuse_pickle
from .meds import is_meds_folder, load_meds
from .omop import DEMO_SOURCE, load_demo, load_omop
from .options import DataOptions
from .postgres import is_database_url, load_postgres, shown
from .synthea import conditions_file, is_synthea_conditions, load_synthea
from .tables import CODE_NAMES, guess_code_cols, guess_patient_col, load_long, load_wide_codes
from ._build import check_options, with_overrides
from ._io import PARQUET, PICKLES, TEXT, clean, fail, find_column, read_columns, read_table, split_member, split_names, suffix


def _demo(path, options: DataOptions = DataOptions()) -> Dataset:
    return load_demo(options)


LOADERS = {
    "npz": load_npz,
    "npy": load_npy,
    "csv": load_table,
    "parquet": load_table,
    "mimic3": load_mimic3,
    "mimic4": load_mimic4,
    "eicu": load_eicu,
    "long": load_long,
    "wide-codes": load_wide_codes,
    "omop": load_omop,
    "postgres": load_postgres,
    "meds": load_meds,
    "synthea": load_synthea,
    "demo": _demo,
}
"""Source name -> ``loader(path, options) -> Dataset``."""

_TABLES = (*TEXT, *PARQUET, ".zip")


def _detect_folder(p: Path) -> str:
    if is_meds_folder(p):
        return "meds"
    diag = find_file(p, "DIAGNOSES_ICD.csv", "DIAGNOSES_ICD.csv.gz")
    if diag is not None:
        low = {c.lower() for c in read_columns(diag)}
        return "mimic4" if "icd_version" in low else "mimic3"
    if find_file(p / "hosp", "diagnoses_icd.csv", "diagnoses_icd.csv.gz") is not None:
        return "mimic4"
    if find_file(p, "diagnosis.csv", "diagnosis.csv.gz") is not None:
        return "eicu"
    if conditions_file(p) is not None:
        return "synthea"
    found = sorted(x.name for x in p.iterdir())
    shown = ", ".join(found[:12]) + (" ..." if len(found) > 12 else "")
    raise fail(f"The folder {p} holds none of the expected tables: DIAGNOSES_ICD.csv (MIMIC-III), "
               f"hosp/diagnoses_icd.csv.gz (MIMIC-IV), diagnosis.csv.gz (eICU), conditions.csv (Synthea) or data/*.parquet (MEDS) (found: {shown or 'nothing'})")


def _detect_table(path: str, options: DataOptions) -> str:
    if len(split_names(options.code_cols)) > 1:
        return "wide-codes"
    cols = read_columns(path)
    low = {c.strip().lower() for c in cols}
    if {"subject_id", "hadm_id", "icd9_code"} <= low:
        return "mimic3"
    if {"subject_id", "hadm_id", "icd_code", "icd_version"} <= low:
        return "mimic4"
    if {"patientunitstayid", "icd9code"} <= low:
        return "eicu"
    if is_synthea_conditions(cols):
        return "synthea"
    if options.count_col or (options.patient_col and options.code_cols):
        return "long"
    if guess_code_cols(cols) and (options.patient_col or guess_patient_col(cols)):
        return "wide-codes"
    if 2 <= len(cols) <= 3:
        # a long table: a column named like a code, or repeated patients beside text codes
        first = find_column(cols, options.patient_col) if options.patient_col else cols[0]
        others = [c for c in cols if c != first]
        if any(c.strip().lower() in CODE_NAMES for c in others):
            return "long"
        head = read_table(path, nrows=500).df
        if first in head.columns and head[first].duplicated().any() and any(
                not pd.api.types.is_numeric_dtype(head[c]) for c in others if c in head.columns):
            return "long"
    return "parquet" if suffix(path) in PARQUET else "csv"


def detect_source(path: str | Path, options: DataOptions = DataOptions()) -> str:
    """The loader name ``load`` would use for ``path`` with ``source="auto"``."""
    if str(path).strip().lower() == DEMO_SOURCE:
        return "demo"
    if is_database_url(path):
        return "postgres"
    p, _member = split_member(path)
    suf = suffix(p)
    if suf in PICKLES:
        raise refuse_pickle(p)
    if not p.exists():
        raise fail(f"File or folder not found: {p}")
    if p.is_dir():
        return _detect_folder(p)
    if suf == ".npy":
        return "npy"
    if suf == ".npz":
        return "npz"
    if suf in (".duckdb", ".db"):
        return "omop"
    if suf in _TABLES:
        return _detect_table(str(path), options)
    raise fail(f"Cannot tell how to read {p}: the file type {suf or '(none)'} is not one of .npz, "
               f".npy, .csv, .csv.gz, .parquet, .zip, .duckdb or a MIMIC/eICU folder; name the "
               f"loader with source ({', '.join(LOADERS)})")


def load(path: str | Path, options: DataOptions = DataOptions(), **overrides) -> Dataset:
    """:func:`corgan_core.data.load` (documented there)."""
    options = with_overrides(options, overrides)
    source = str(options.source or "auto").strip().lower()
    if source not in LOADERS and source != "auto":
        raise fail(f"Unknown data source {options.source!r} for {shown(path)}; use auto or one of "
                   f"{', '.join(LOADERS)}")
    check_options(options, "the demo data" if source == "demo" or str(path).strip().lower() == "demo" else shown(path))
    if source == "demo":
        return load_demo(options)
    if path is None or str(path).strip() == "":
        raise fail("No data path was given; pass a file, a folder or \"demo\"")
    if source == "auto":
        source = detect_source(path, options)
    if source == "demo":
        return load_demo(options)
    if source == "postgres" or is_database_url(path):
        if not is_database_url(path):
            raise fail(f"Source postgres reads a database URL such as postgresql://user@host/db?schema=cdm, not {path}")
        return binary_task(load_postgres(str(path), options), options, shown(path))
    p, _member = split_member(path)
    if suffix(p) in PICKLES:
        raise refuse_pickle(p)
    if not p.exists():
        raise fail(f"File or folder not found: {p}")
    loader = LOADERS[source]
    try:
        if p.is_dir() and source not in ("mimic3", "mimic4", "eicu", "synthea", "meds"):
            raise fail(f"{p} is a folder; source {source} reads a single file")
        return binary_task(loader(path, options), options, path)
    except DataError:
        raise
    except MemoryError:
        raise fail(f"{path} is too large to load into memory as a {source} matrix")
    except Exception as e:  # noqa: BLE001 - nothing raw escapes load()
        raise fail(f"{path} could not be loaded as {source} data ({type(e).__name__}: {clean(e)})")
