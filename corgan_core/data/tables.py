"""Code tables: a long table of (patient, code[, count]) rows, and a wide table with one patient
column and several code columns (one encounter per row, as Diabetes 130-US' ``diag_1..diag_3``).

Codes that look like ICD-9 are grouped (``250.83`` -> ``250``, ``E888.9`` -> ``E888``); other codes
are kept as written (ICD-10 grouping with ``icd_version="10"``). Blank, ``?`` and NA cells are
missing. Binary: 1 if any row has the code; count: rows (encounters) with it, or the sum of the
count column.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .icd import check_grouping, group_series, is_missing
from .options import DataOptions
from ._build import build_sparse, ehr_kind
from ._io import (Table, blank_warning, clean, fail, find_column, list_names, read_columns, read_table,
                  resolve_columns, split_names)

PATIENT_NAMES = ("patient_nbr", "patient_id", "patient", "subject_id", "person_id", "pid", "id")
CODE_NAMES = ("code", "icd_code", "icd9_code", "icd10_code", "icd", "diagnosis", "concept_id", "dx")
COUNT_NAMES = ("count", "n", "counts", "freq", "frequency")
_MISSING = ("", "?", "nan", "none", "null", "na", "n/a")


def guess_patient_col(columns) -> str | None:
    for n in PATIENT_NAMES:
        c = find_column(columns, n)
        if c is not None:
            return c
    return None


def guess_code_cols(columns) -> list[str]:
    """Columns named like ``diag_1``, ``diag_2`` ... (the Diabetes 130-US layout)."""
    return [str(c) for c in columns if re.fullmatch(r"(diag|dx|icd)_?\d+", str(c).strip(), re.I)]


def _missing_mask(s: pd.Series) -> pd.Series:
    return s.isna() | s.astype(str).str.strip().str.lower().isin(_MISSING)


def _check_patients(t: Table, col: str) -> None:
    bad = _missing_mask(t.df[col])
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise fail(f"{t.file} has no patient id in column {col!r} at {t.row(i)}")


def _version(options: DataOptions) -> str:
    if options.icd_version not in ("9", "10", "both"):
        raise fail(f"Unknown ICD version {options.icd_version!r}; use 9, 10 or both")
    return "10" if options.icd_version == "10" else "auto"


def _name_hint(cols, file: str, what: str) -> str:
    return (f"{file} has no column named like {what} (columns found: {list_names(cols)}); name the columns "
            f"with patient_col, code_cols and count_col (CLI: --patient-col, --code-cols, --count-col) "
            f"and use source long")


def _long_columns(cols: list[str], options: DataOptions, file: str) -> tuple[str, str, str | None]:
    """(patient, code, count) columns: named by the options, else guessed from their names only.

    A column is never taken for being first or left over (a renamed code column once loaded START
    dates as codes), except the one other column of a two-column table.
    """
    names = split_names(options.code_cols)
    if len(names) > 1:
        raise fail(f"A long table takes one code column, but {len(names)} were named for {file} "
                   f"({options.code_cols}); use source wide-codes for several code columns")
    pcol = resolve_columns(cols, [options.patient_col], file, "the patient id")[0] if options.patient_col \
        else guess_patient_col(cols)
    ccol = resolve_columns(cols, names, file, "the codes")[0] if names else None
    if ccol is None:
        ccol = next((find_column([c for c in cols if c != pcol], n) for n in CODE_NAMES
                     if find_column([c for c in cols if c != pcol], n)), None)
    if pcol is None and ccol is not None and len(cols) == 2:
        pcol = next(c for c in cols if c != ccol)
    if ccol is None and pcol is not None and len(cols) == 2:
        ccol = next(c for c in cols if c != pcol)
    if pcol is None:
        raise fail(_name_hint(cols, file, "a patient id (patient, patient_id, subject_id, person_id)"))
    if ccol is None or ccol == pcol:
        raise fail(_name_hint(cols, file, "a code (code, icd_code, diagnosis, dx)"))
    cntcol = None
    if options.count_col:
        cntcol = resolve_columns(cols, [options.count_col], file, "the counts")[0]
    else:
        rest = [c for c in cols if c not in (pcol, ccol)]
        cntcol = next((find_column(rest, n) for n in COUNT_NAMES if find_column(rest, n)), None)
    return pcol, ccol, cntcol


def load_long(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """A long table: one (patient, code[, count]) per row; columns guessed only from their names."""
    file = str(path)
    kind = ehr_kind(options, file)
    grouping = check_grouping(options.grouping)
    version = _version(options)
    cols = read_columns(path)
    pcol, ccol, cntcol = _long_columns(cols, options, file)
    use = [pcol, ccol] + ([cntcol] if cntcol else [])
    t = read_table(path, usecols=use, dtype=str)
    t.df = t.df.reset_index(drop=True)
    _check_patients(t, pcol)
    blank = _missing_mask(t.df[ccol])
    df = t.df[~blank]
    counts = None
    if cntcol:
        counts = _numeric_counts(t, df, cntcol)
    codes = group_series(df[ccol], version, grouping, prefix=False)
    ds = build_sparse(df[pcol], codes, kind=kind, file=file, source=file, counts=counts,
                      min_count=options.min_count)
    note = blank_warning(file, int(blank.sum()), len(blank), ccol)
    ds.warnings.extend([note] if note else [])
    return ds


def _numeric_counts(t: Table, df: pd.DataFrame, col: str) -> pd.Series:
    raw = df[col]
    num = pd.to_numeric(raw.str.strip(), errors="coerce")
    bad = num.isna() | ~np.isfinite(num.to_numpy(np.float64, na_value=np.nan))
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        val = raw.iloc[i]
        what = "no count" if is_missing(val) else f"the non-numeric count {clean(val, 40)!r}"
        raise fail(f"{t.file} has {what} at {t.row(df.index[i])}, column {col!r}")
    neg = num < 0
    if neg.any():
        i = neg.to_numpy().nonzero()[0][0]
        raise fail(f"{t.file} has a negative count ({raw.iloc[i].strip()}) at "
                   f"{t.row(df.index[i])}, column {col!r}; counts must be 0 or more")
    return num


def load_wide_codes(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """A patient column plus several code columns; each row is one encounter (``?`` = missing)."""
    file = str(path)
    kind = ehr_kind(options, file)
    grouping = check_grouping(options.grouping)
    version = _version(options)
    cols = read_columns(path)
    if options.patient_col:
        pcol = resolve_columns(cols, [options.patient_col], file, "the patient id")[0]
    else:
        pcol = guess_patient_col(cols)
        if pcol is None:
            raise fail(f"{file} has no patient id column (columns found: {', '.join(cols[:20])}); "
                       f"name it with patient_col")
    names = split_names(options.code_cols)
    ccols = resolve_columns(cols, names, file, "the codes") if names else guess_code_cols(cols)
    if not ccols:
        raise fail(f"{file} has no code columns such as diag_1, diag_2 (columns found: "
                   f"{', '.join(cols[:20])}); name them with code_cols")
    t = read_table(path, usecols=[pcol, *ccols], dtype=str)
    t.df = t.df.reset_index(drop=True)
    _check_patients(t, pcol)
    long = pd.concat([t.df[c] for c in ccols])  # index = encounter row
    long = long[~_missing_mask(long)]
    codes = group_series(long, version, grouping, prefix=False)
    patients = t.df[pcol].loc[long.index]
    enc = pd.Series(long.index, index=long.index)
    return build_sparse(patients, codes, kind=kind, file=file, source=file,
                        encounters=enc, min_count=options.min_count)
