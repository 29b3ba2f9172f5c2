"""From (patient, code[, encounter | count]) rows to a sparse patient x code Dataset."""
from __future__ import annotations

from dataclasses import fields, replace
from functools import partial

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dataset import Dataset
from .icd import icd_sort_key
from .options import DataOptions
from ._io import fail

EHR_KINDS = ("binary", "count", "auto")


def with_overrides(options: DataOptions | None, overrides: dict) -> DataOptions:
    """``options`` with ``overrides`` (DataOptions field names) applied and basic values checked."""
    options = DataOptions() if options is None else options
    if not isinstance(options, DataOptions):
        raise fail(f"options must be a DataOptions, not {type(options).__name__}")
    names = [f.name for f in fields(DataOptions)]
    unknown = [k for k in overrides if k not in names]
    if unknown:
        raise fail(f"Unknown data option {unknown[0]!r}; use one of {', '.join(names)}")
    if overrides:
        options = replace(options, **overrides)
    try:
        mc = int(options.min_count)
    except (TypeError, ValueError):
        raise fail(f"min_count must be a whole number, not {options.min_count!r}")
    if mc != options.min_count:
        options = replace(options, min_count=mc)
    return options


def check_options(options: DataOptions, file) -> None:
    """Reject unknown kind / grouping / ICD version values, naming the input they were meant for."""
    from .dataset import KINDS
    from .icd import GROUPINGS, VERSIONS

    for name, value, allowed in (("kind", options.kind, (*KINDS, "auto")),
                                 ("grouping", options.grouping, GROUPINGS),
                                 ("icd_version", str(options.icd_version), VERSIONS)):
        if value not in allowed:
            raise fail(f"Unknown {name} {value!r} for {file}; use one of {', '.join(allowed)}")


def ehr_kind(options: DataOptions, file: str) -> str:
    """The kind an EHR source yields: binary (the default) or count."""
    if options.kind not in EHR_KINDS:
        if options.kind == "continuous":
            raise fail(f"{file} holds diagnosis codes, which load as binary or count data, not "
                       f"continuous (continuous is for wide numeric tables)")
        raise fail(f"Unknown data kind {options.kind!r} for {file}; use binary or count")
    return "count" if options.kind == "count" else "binary"


def natural_order(ids: np.ndarray) -> np.ndarray:
    """Sort order of id strings: numerically when all are integers, else as text."""
    s = pd.Series(ids, dtype=object).astype(str)
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().all():
        return np.lexsort((s.to_numpy(), num.to_numpy()))
    return np.argsort(s.to_numpy(), kind="stable")


def build_sparse(patients: pd.Series, codes: pd.Series, *, kind: str, file: str, source: str,
                 encounters: pd.Series | None = None, counts: pd.Series | None = None,
                 sort_key=None, min_count: int = 1, titles: dict | None = None) -> Dataset:
    """Aggregate rows into a CSR matrix.

    Binary: 1 if any row has the code. Count: with ``encounters``, the number of distinct
    encounters with the code; with ``counts``, the sum of counts; otherwise the number of rows.
    Columns are ordered by ``sort_key`` (ICD order by default); rows by patient id.
    """
    patients = pd.Series(patients).astype(str).reset_index(drop=True)
    codes = pd.Series(codes).astype(str).reset_index(drop=True)
    if len(codes) == 0:
        raise fail(f"{file} yields an empty matrix: no diagnosis codes were found")
    frame = {"p": patients, "c": codes}
    if encounters is not None:
        frame["e"] = pd.Series(encounters).astype(str).reset_index(drop=True)
    if counts is not None:
        frame["w"] = pd.Series(counts, dtype="float64").reset_index(drop=True)
    df = pd.DataFrame(frame)
    if encounters is not None:
        df = df.drop_duplicates(["p", "c", "e"])
    p_codes, p_uniq = pd.factorize(df["p"], sort=False)
    c_codes, c_uniq = pd.factorize(df["c"], sort=False)
    p_uniq = np.asarray(p_uniq, dtype=object)
    c_uniq = np.asarray(c_uniq, dtype=object)
    # reorder: patients naturally, codes in ICD order
    p_order = natural_order(p_uniq)
    key = sort_key or partial(icd_sort_key)
    c_order = np.array(sorted(range(len(c_uniq)), key=lambda i: (key(c_uniq[i]), c_uniq[i])), dtype=np.int64)
    p_rank = np.empty(len(p_uniq), dtype=np.int64)
    p_rank[p_order] = np.arange(len(p_uniq))
    c_rank = np.empty(len(c_uniq), dtype=np.int64)
    c_rank[c_order] = np.arange(len(c_uniq))
    data = df["w"].to_numpy(np.float64) if counts is not None else np.ones(len(df))
    X = sp.coo_matrix((data, (p_rank[p_codes], c_rank[c_codes])),
                      shape=(len(p_uniq), len(c_uniq))).tocsr()
    X.sum_duplicates()
    X.eliminate_zeros()
    if kind == "binary":
        X.data[:] = 1.0
    X = X.astype(np.float32)
    return finish_sparse(X, [str(c) for c in c_uniq[c_order]], [str(p) for p in p_uniq[p_order]],
                         kind=kind, file=file, source=source, min_count=min_count,
                         titles=titles or {})


def finish_sparse(X: sp.csr_matrix, codes: list[str], patient_ids: list[str], *, kind: str,
                  file: str, source: str, min_count: int = 1, titles: dict | None = None,
                  labels=None, label_name=None) -> Dataset:
    """Apply ``min_count``, check the shape and wrap in a Dataset."""
    X = sp.csr_matrix(X, dtype=np.float32)
    if min_count and min_count > 1 and X.shape[1]:
        present = np.asarray((X > 0).sum(axis=0)).ravel()
        keep = np.flatnonzero(present >= min_count)
        if keep.size == 0:
            raise fail(f"{file} yields an empty matrix: no code is present in at least "
                       f"{min_count} patients (min_count={min_count})")
        X = X[:, keep].tocsr()
        codes = [codes[i] for i in keep]
    check_shape(X.shape, file)
    titles = {c: t for c, t in (titles or {}).items() if c in set(codes)}
    return Dataset(X=X, codes=list(codes), patient_ids=list(patient_ids), kind=kind, titles=titles,
                   labels=labels, label_name=label_name, source=source)


def check_shape(shape, file: str) -> None:
    n, m = shape
    if n == 0 or m == 0:
        raise fail(f"{file} yields an empty matrix ({n} patients x {m} codes)")
    if n < 2:
        raise fail(f"{file} holds only one patient; at least 2 patients are needed")
