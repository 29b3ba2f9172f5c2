"""Synthea CSV export: ``conditions.csv`` (START, STOP, PATIENT, ENCOUNTER, CODE, DESCRIPTION) -> a
patient x condition matrix, titles from DESCRIPTION.

Synthea codes conditions in SNOMED CT, so codes are kept as written (no ICD grouping) and columns
follow the code as text. ``patients.csv`` beside the file, when present, must list every patient the
conditions name. Binary: 1 if any encounter has the condition; count: distinct encounters with it.
"""
from __future__ import annotations

from pathlib import Path

from .dataset import Dataset
from .ehr import find_file
from .options import DataOptions
from ._build import build_sparse, ehr_kind
from ._io import blank_warning, fail, list_names, read_columns, read_table, resolve_columns

CONDITION_COLUMNS = ("PATIENT", "ENCOUNTER", "CODE", "DESCRIPTION")
"""Columns that mark a table as Synthea's conditions.csv (with START, which every export has)."""


def is_synthea_conditions(columns) -> bool:
    """True for the header of a Synthea ``conditions.csv``."""
    up = {str(c).strip().upper() for c in columns}
    return {"START", *CONDITION_COLUMNS} <= up


def conditions_file(path: Path) -> Path | None:
    """``conditions.csv[.gz]`` of a Synthea export folder (or None)."""
    return find_file(path, "conditions.csv", "conditions.csv.gz")


def _snomed_order(code: str) -> tuple:
    return (0, int(code), "") if code.isdigit() else (1, 0, code)


def load_synthea(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """A Synthea export folder (or its ``conditions.csv``)."""
    path = Path(path)
    file = conditions_file(path) if path.is_dir() else path
    if file is None:
        found = sorted(p.name for p in path.iterdir())
        raise fail(f"The folder {path} is not a Synthea CSV export: it has no conditions.csv "
                   f"(found: {list_names(found) or 'nothing'})")
    kind = ehr_kind(options, str(file))
    cols = read_columns(file)
    pcol, ecol, ccol, dcol = resolve_columns(cols, list(CONDITION_COLUMNS), str(file), "a Synthea conditions table")
    t = read_table(file, usecols=[pcol, ecol, ccol, dcol], dtype=str)
    t.df = t.df.reset_index(drop=True)
    miss = t.df[pcol].isna() | (t.df[pcol].str.strip() == "")
    if miss.any():
        raise fail(f"{t.file} has no patient id at {t.row(int(miss.to_numpy().nonzero()[0][0]))}, column {pcol!r}")
    blank = t.df[ccol].isna() | (t.df[ccol].str.strip() == "")
    df = t.df[~blank]
    codes = df[ccol].str.strip()
    patients = df[pcol].str.strip()
    pfile = find_file(file.parent, "patients.csv", "patients.csv.gz")
    if pfile is not None:
        known = read_table(pfile, usecols=resolve_columns(read_columns(pfile), ["Id"], str(pfile), "the patient ids"),
                           dtype=str).df.iloc[:, 0].str.strip()
        unknown = ~patients.isin(set(known))
        if unknown.any():
            i = int(unknown.to_numpy().nonzero()[0][0])
            raise fail(f"{t.file} names a patient at {t.row(df.index[i])} that {pfile} does not list "
                       f"({int(unknown.sum()):,} rows in all)")
    titles = (df.assign(c=codes).dropna(subset=[dcol]).groupby("c")[dcol]
              .agg(lambda s: s.value_counts().index[0]).to_dict())
    ds = build_sparse(patients, codes, kind=kind, file=str(file), source=str(path),
                      encounters=df[ecol].fillna("") if kind == "count" else None,
                      sort_key=_snomed_order, min_count=options.min_count, titles=titles)
    note = blank_warning(str(file), int(blank.sum()), len(blank), ccol)
    ds.warnings.extend([note] if note else [])
    return ds
