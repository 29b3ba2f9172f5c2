"""Derived data sets: a seeded subset of patients, and titles taken from an ICD title table.

``corgan data convert --rows N --titles FILE`` uses both; the embedded Diabetes 130-US demo was
made that way (see ``corgan_core/demo/README.md``).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ._io import fail, find_column, read_table
from .dataset import Dataset
from .icd import grouped_titles

_CODE_NAMES = ("icd9_code", "icd_code", "code")
_TITLE_NAMES = ("long_title", "title", "description", "short_title")


def subset(ds: Dataset, rows: int, seed: int = 0) -> Dataset:
    """``rows`` patients drawn without replacement (seeded), keeping only codes they have."""
    if not 1 <= rows <= ds.n_patients:
        raise fail(f"--rows must be between 1 and the {ds.n_patients} patients of {ds.source}; got {rows}")
    picked = np.sort(np.random.default_rng(seed).choice(ds.n_patients, rows, replace=False))
    sub = ds.take(picked)
    if ds.kind == "continuous":
        return sub
    keep = np.flatnonzero(np.asarray((sub.X != 0).sum(0)).ravel() > 0)
    codes = [sub.codes[j] for j in keep]
    return replace(sub, X=sub.X[:, keep].tocsr(), codes=codes,
                   titles={c: t for c, t in sub.titles.items() if c in set(codes)})


def with_icd_titles(ds: Dataset, table: str | Path, version: str = "9", grouping: str = "3digit") -> Dataset:
    """Titles for ``ds``'s ICD codes from a table with a code and a title column (e.g. MIMIC's
    ``D_ICD_DIAGNOSES.csv``); three-digit groups are titled as groups. Existing titles stay."""
    df = read_table(table, dtype=str).df
    code_col = next((find_column(df.columns, n) for n in _CODE_NAMES if find_column(df.columns, n)), None)
    title_col = next((find_column(df.columns, n) for n in _TITLE_NAMES if find_column(df.columns, n)), None)
    if code_col is None or title_col is None:
        raise fail(f"{table} needs a code column ({', '.join(_CODE_NAMES)}) and a title column "
                   f"({', '.join(_TITLE_NAMES)}); it has {', '.join(map(str, df.columns))}")
    pairs = df[[code_col, title_col]].dropna()
    titles = dict(zip(pairs[code_col].str.strip(), pairs[title_col].str.strip()))
    found = grouped_titles(titles, list(ds.codes), version, grouping)
    return replace(ds, titles={**found, **ds.titles})
