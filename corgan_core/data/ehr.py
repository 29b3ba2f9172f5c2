"""Raw EHR loaders: MIMIC-III, MIMIC-IV and eICU diagnosis tables -> patient x ICD code matrix.

Rows are patients that have at least one kept diagnosis; columns are (grouped) ICD codes in ICD
order. Binary: 1 if any admission has the code; count: the number of distinct admissions (eICU:
ICU stays) that have it.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pandas as pd

from .dataset import Dataset
from .icd import VERSIONS, check_grouping, group_series, grouped_titles, icd_sort_key
from .options import DataOptions
from ._build import build_sparse, ehr_kind
from ._io import Table, blank_warning, fail, list_names, read_columns, read_table, resolve_columns

_EICU_ICD9 = re.compile(r"^(?:\d{3}|V\d{2}|E\d{3})(?:\.\d{1,2})?$")
_EICU_PROC = re.compile(r"^\d{1,2}\.\d+$")  # ICD-9 procedure codes such as 31.1 (tracheostomy)


def find_file(folder: Path, *names: str) -> Path | None:
    """A file of ``folder`` whose name matches one of ``names`` case-insensitively."""
    if not folder.is_dir():
        return None
    wanted = [n.lower() for n in names]
    found = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for w in wanted:
        if w in found:
            return found[w]
    return None


def _table_file(path: Path, stems: tuple[str, ...], what: str, expected: str) -> Path:
    """The diagnosis table for ``path`` (a folder holding it, or the file itself)."""
    if not path.exists():
        raise fail(f"{what} data not found: {path} does not exist")
    if path.is_file():
        return path
    for sub in (path, path / "hosp"):
        names = [f"{s}{ext}" for s in stems for ext in (".csv", ".csv.gz", ".parquet")]
        hit = find_file(sub, *names)
        if hit is not None:
            return hit
    found = sorted(p.name for p in path.iterdir())
    raise fail(f"The folder {path} does not hold the {what} tables: expected {expected} "
               f"(found: {list_names(found) or 'nothing'})")


def _check_filled(t: Table, col: str) -> None:
    bad = t.df[col].isna() | (t.df[col].astype(str).str.strip() == "")
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise fail(f"{t.file} has no value in column {col!r} at {t.row(i)}")


def _read(file: Path, cols: list[str], what: str) -> tuple[Table, list[str]]:
    found = read_columns(file)
    actual = resolve_columns(found, cols, str(file), what)
    t = read_table(file, usecols=actual, dtype=str)
    t.df = t.df.reset_index(drop=True)
    return t, actual


def _encounters(hadm: pd.Series) -> pd.Series:
    """Admission ids; a row without one counts as an admission of its own."""
    return hadm.fillna(pd.Series("row" + hadm.index.astype(str), index=hadm.index))


def _check_version(options: DataOptions) -> None:
    if options.icd_version not in VERSIONS:
        raise fail(f"Unknown ICD version {options.icd_version!r}; use 9, 10 or both")


def load_mimic3(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """MIMIC-III: a folder with DIAGNOSES_ICD.csv[.gz] (or that file), titles from D_ICD_DIAGNOSES."""
    path = Path(path)
    file = _table_file(path, ("DIAGNOSES_ICD",), "MIMIC-III", "DIAGNOSES_ICD.csv or DIAGNOSES_ICD.csv.gz")
    kind = ehr_kind(options, str(file))
    grouping = check_grouping(options.grouping)
    t, (subj, hadm, code) = _read(file, ["SUBJECT_ID", "HADM_ID", "ICD9_CODE"], "MIMIC-III diagnoses")
    _check_filled(t, subj)
    df = t.df[t.df[code].notna() & (t.df[code].str.strip() != "")]
    notes = [blank_warning(str(file), len(t.df) - len(df), len(t.df), code)]
    codes = group_series(df[code], "9", grouping)
    enc = _encounters(df[hadm])
    titles = {}
    tfile = find_file(file.parent, "D_ICD_DIAGNOSES.csv", "D_ICD_DIAGNOSES.csv.gz")
    if tfile is not None:
        titles = _titles(tfile, ["ICD9_CODE"], None, grouping, set(codes))
    return _noted(build_sparse(df[subj], codes, kind=kind, file=str(file), source=str(path),
                               encounters=enc if kind == "count" else None,
                               min_count=options.min_count, titles=titles), notes)


def _noted(ds: Dataset, notes: list) -> Dataset:
    ds.warnings.extend(n for n in notes if n)
    return ds


def _titles(tfile: Path, code_col: list[str], version_col: str | None, grouping: str,
            wanted: set, versions=("9",), prefix: bool = False) -> dict[str, str]:
    found = read_columns(tfile)
    title_col = next((c for c in found if c.lower() == "long_title"), None) or \
        next((c for c in found if c.lower() == "short_title"), None)
    if title_col is None:
        raise fail(f"{tfile} has no column 'long_title' or 'short_title' (columns found: {list_names(found)})")
    cols = code_col + ([version_col] if version_col else []) + [title_col]
    t, actual = _read(tfile, cols, "code titles")
    df = t.df.dropna()
    out: dict[str, str] = {}
    for v in versions:
        part = df if version_col is None else df[df[actual[1]].str.strip() == v]
        full = dict(zip(part[actual[0]].str.strip(), part[actual[-1]]))
        out.update(grouped_titles(full, sorted(wanted), v, grouping, prefix=prefix))
    return out


def load_mimic4(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """MIMIC-IV: hosp/diagnoses_icd.csv.gz with ICD-9 and ICD-10 codes named ``ICD9:401``/``ICD10:I10``."""
    path = Path(path)
    file = _table_file(path, ("diagnoses_icd",), "MIMIC-IV", "hosp/diagnoses_icd.csv.gz")
    kind = ehr_kind(options, str(file))
    grouping = check_grouping(options.grouping)
    _check_version(options)
    t, (subj, hadm, code, ver) = _read(file, ["subject_id", "hadm_id", "icd_code", "icd_version"],
                                       "MIMIC-IV diagnoses")
    _check_filled(t, subj)
    df = t.df[t.df[code].notna() & (t.df[code].str.strip() != "")]
    notes = [blank_warning(str(file), len(t.df) - len(df), len(t.df), code)]
    if df.empty:
        raise fail(f"{file} yields an empty matrix: every row's {code!r} is blank")
    v = df[ver].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    bad = ~v.isin(["9", "10"])
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raw = df[ver].iloc[i]
        what = "no ICD version" if raw is None or str(raw).strip() in ("", "nan") else f"the ICD version {str(raw).strip()!r}"
        raise fail(f"{t.file} has {what} at {t.row(df.index[i])}, column {ver!r}; every diagnosis needs "
                   f"9 or 10 there, so fix or remove that row")
    if options.icd_version != "both":
        keep = v == options.icd_version
        other = "10" if options.icd_version == "9" else "9"
        if not keep.any():
            raise fail(f"{file} yields an empty matrix: it holds no ICD-{options.icd_version} codes, only "
                       f"ICD-{other}; use icd_version {other} or both (--icd-version)")
        df, v = df[keep], v[keep]
    codes = group_series(df[code], v, grouping, prefix=True)
    enc = _encounters(df[hadm])
    titles = {}
    tfile = find_file(file.parent, "d_icd_diagnoses.csv", "d_icd_diagnoses.csv.gz")
    if tfile is not None:
        titles = _titles(tfile, ["icd_code"], "icd_version", grouping, set(codes),
                         versions=("9", "10"), prefix=True)
    return _noted(build_sparse(df[subj], codes, kind=kind, file=str(file), source=str(path),
                               encounters=enc if kind == "count" else None,
                               min_count=options.min_count, titles=titles), notes)


def load_eicu(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """eICU: diagnosis.csv.gz; ``icd9code`` lists ICD-9 then ICD-10 codes (``"401.9, I10"``).

    The ICD-9 codes are used unless ``icd_version == "10"`` (both codings describe the same
    diagnosis, so "both" means ICD-9 here). ICD-9 procedure codes (``31.1``) are skipped. With
    patient.csv.gz beside the file, stays are grouped to patients (``uniquepid``); otherwise each
    ICU stay (``patientunitstayid``) is a row. Titles are the most frequent diagnosis string.
    """
    path = Path(path)
    file = _table_file(path, ("diagnosis",), "eICU", "diagnosis.csv.gz")
    kind = ehr_kind(options, str(file))
    grouping = check_grouping(options.grouping)
    _check_version(options)
    dstr = next((c for c in read_columns(file) if c.lower() == "diagnosisstring"), None)
    t, (stay, icd, *_) = _read(file, ["patientunitstayid", "icd9code"] + ([dstr] if dstr else []),
                               "eICU diagnoses")
    _check_filled(t, stay)
    df = t.df[t.df[icd].notna() & (t.df[icd].str.strip() != "")]
    notes = [blank_warning(str(file), len(t.df) - len(df), len(t.df), icd, "diagnosis rows")]
    tok = df[icd].str.split(",").explode().str.strip().str.upper()
    tok = tok[tok != ""]
    is9 = tok.str.match(_EICU_ICD9.pattern)
    is_proc = tok.str.match(_EICU_PROC.pattern)
    ten = options.icd_version == "10"
    tok = tok[~is9 & ~is_proc] if ten else tok[is9]
    if tok.empty:
        other = "9" if ten else "10"
        raise fail(f"{file} yields an empty matrix: no ICD-{'10' if ten else '9'} codes were found in column "
                   f"{icd!r}; try icd_version {other} (--icd-version)")
    codes = group_series(tok, "10" if ten else "9", grouping, prefix=ten)
    stays = df.loc[tok.index, stay]
    patients = stays
    pfile = find_file(file.parent, "patient.csv", "patient.csv.gz")
    if pfile is not None:
        pt, (pstay, upid) = _read(pfile, ["patientunitstayid", "uniquepid"], "eICU patients")
        _check_filled(pt, upid)
        mapping = pd.Series(pt.df[upid].to_numpy(), index=pt.df[pstay].str.strip())
        mapping = mapping[~mapping.index.duplicated()]
        patients = stays.str.strip().map(mapping)
        if patients.isna().any():
            i = patients.isna().to_numpy().nonzero()[0][0]
            raise fail(f"{t.file} has an ICU stay at {t.row(stays.index[i])} that {pfile} does not list "
                       f"({int(patients.isna().sum()):,} of its codes are affected)")
    titles = {}
    if dstr is not None:
        ds = df.loc[tok.index, dstr]
        frame = pd.DataFrame({"c": codes.to_numpy(), "t": ds.to_numpy()}).dropna()
        frame["t"] = frame["t"].str.split("|").str[-1].str.strip()
        top = frame.groupby("c")["t"].agg(lambda s: s.value_counts().index[0])
        titles = top.to_dict()
    return _noted(build_sparse(patients, codes, kind=kind, file=str(file), source=str(path),
                               encounters=stays if kind == "count" else None,
                               sort_key=partial(icd_sort_key, version=10 if ten else 9),
                               min_count=options.min_count, titles=titles), notes)
