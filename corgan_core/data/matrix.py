"""Processed matrices: ``.npy``, ``.npz`` (ours, scipy.sparse, or one plain array) and wide numeric
tables (``.csv``, ``.csv.gz``, ``.parquet``, a CSV inside a ``.zip``) with optional id and label columns.

The kind is inferred (binary if every value is 0/1, count if every value is a non-negative
integer, continuous otherwise) unless the user states one: ``continuous`` is always honoured,
``count`` and an explicitly stated ``binary`` are checked against the values. Pickles are refused.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataError
from .dataset import KINDS, Dataset
from .options import DataOptions
from ._build import check_shape, finish_sparse
from ._io import PICKLES, clean, fail, find_column, list_names, read_table, suffix

ID_NAMES = ("id", "patient", "patient_id", "unnamed: 0")
LABEL_NAMES = ("y", "label", "class", "target")


def refuse_pickle(path: str | Path) -> DataError:
    return fail(
        f"{path} is a Python pickle (medGAN .matrix/.pkl), which corGAN studio never unpickles "
        f"because loading a pickle can run arbitrary code; load it in a trusted Python session and "
        f"save the matrix with numpy.save or scipy.sparse.save_npz, then pass the .npy/.npz file")


def refuse_objects(path: str | Path) -> DataError:
    return fail(
        f"{path} holds pickled Python objects, which corGAN studio never loads because unpickling "
        f"can run arbitrary code; in a trusted Python session convert the data to a numeric array "
        f"and save it with numpy.save or scipy.sparse.save_npz, then pass that file")


def _infer(values: np.ndarray) -> str:
    if values.size == 0 or np.isin(values, (0.0, 1.0)).all():
        return "binary"
    if (values >= 0).all() and (np.mod(values, 1) == 0).all():
        return "count"
    return "continuous"


def _locator(X):
    """(values, first) where ``first(mask)`` gives (row, col, value) of the first flagged cell."""
    if sp.issparse(X):
        coo = X.tocoo()
        vals = coo.data.astype(np.float64)

        def first(mask):
            idx = np.flatnonzero(mask)
            k = idx[np.lexsort((coo.col[idx], coo.row[idx]))[0]]
            return int(coo.row[k]), int(coo.col[k]), float(vals[k])
        return vals, first
    vals = X  # 2-D float64

    def first(mask):
        i, j = np.argwhere(mask)[0]
        return int(i), int(j), float(vals[i, j])
    return vals, first


def resolve_kind(X, options: DataOptions, file: str, cell, stored: str | None = None):
    """Check values and return (X, kind): CSR float32 for binary/count, dense for continuous.

    ``cell(i, j)`` names a 0-based cell for messages; ``stored`` is a kind saved with the data.
    """
    if not sp.issparse(X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise fail(f"{file} holds a {X.ndim}-D array; a 2-D patient x code matrix is needed")
    check_shape(X.shape, file)
    vals, first = _locator(X)
    bad = ~np.isfinite(vals)
    if bad.any():
        i, j, v = first(bad)
        what = "a missing value (NaN)" if np.isnan(v) else f"an infinite value ({v})"
        raise fail(f"{file} has {what} at {cell(i, j)}")
    want = options.kind
    if want not in (*KINDS, "auto"):
        raise fail(f"Unknown data kind {want!r} for {file}; use one of {', '.join(KINDS)}")
    if want in ("count", "binary"):  # a stated kind is checked against the values
        if want == "count":
            neg = vals < 0
            if neg.any():
                i, j, v = first(neg)
                raise fail(f"{file} has a negative count ({v:g}) at {cell(i, j)}; counts must be 0 or more")
            off = np.mod(vals, 1) != 0
            msg = "is not a whole count"
        else:
            off = ~np.isin(vals, (0.0, 1.0))
            msg = "is not 0 or 1 as binary data needs (use kind count or continuous)"
        if off.any():
            i, j, v = first(off)
            raise fail(f"{file} has the value {v:g} at {cell(i, j)}, which {msg}")
        kind = want
    elif want == "continuous":
        kind = "continuous"
    else:
        kind = stored if stored in KINDS else _infer(vals)
    if kind == "continuous":
        return (X.toarray() if sp.issparse(X) else X).astype(np.float32), kind
    X = sp.csr_matrix(X, dtype=np.float32)
    X.eliminate_zeros()
    return X, kind


def _array_cell(i: int, j: int) -> str:
    return f"row {i + 1}, column {j + 1} (counting from 1)"


def _finish(X, kind, codes, ids, options, file, source, titles=None, labels=None, label_name=None):
    if kind == "continuous":
        check_shape(X.shape, file)
        return Dataset(X=X, codes=codes, patient_ids=ids, kind=kind, titles=titles or {},
                       labels=labels, label_name=label_name, source=source)
    return finish_sparse(X, codes, ids, kind=kind, file=file, source=source,
                         min_count=options.min_count, titles=titles, labels=labels,
                         label_name=label_name)


def load_npy(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """A 2-D numeric ``.npy`` array (rows = patients, columns = codes)."""
    file = str(path)
    X = _np_load(path)
    if not isinstance(X, np.ndarray):
        raise fail(f"{file} is not a .npy array file")
    _check_numeric(X, file)
    X, kind = resolve_kind(X, options, file, _array_cell)
    n, m = X.shape
    return _finish(X, kind, [str(j) for j in range(m)], [str(i) for i in range(n)], options, file, file)


def _np_load(path):
    file = str(path)
    if not Path(path).is_file():
        raise fail(f"File not found: {file}")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if not (magic.startswith(b"PK") or magic.startswith(b"\x93NUMPY")):
        if magic[:1] == b"\x80":  # a pickle's protocol opcode
            raise refuse_objects(path)
        raise fail(f"{file} is not a NumPy .npy or .npz file (its content is neither); it may be corrupt or mis-named")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise refuse_objects(path)
        raise fail(f"{file} is not a readable NumPy file: it is truncated or corrupt ({clean(e)})")
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise fail(f"{file} is not a readable NumPy file: it is truncated or corrupt ({clean(e)})")


def _check_numeric(X: np.ndarray, file: str) -> None:
    if X.dtype.kind not in "biuf":
        raise fail(f"{file} holds {X.dtype} values; a numeric matrix is needed")


def _text(z, key: str) -> str:
    return str(z[key][()]) if key in z.files else ""


def load_npz(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """Our own ``Dataset.save_npz`` file, a scipy.sparse ``save_npz`` file, or one plain array."""
    file = str(path)
    z = _np_load(path)
    if isinstance(z, np.ndarray):
        raise fail(f"{file} is a .npy array saved under a .npz name; rename it to .npy")
    try:
        with z:
            keys = set(z.files)
            if {"codes", "patient_ids", "kind", "format"} <= keys:
                return _own_npz(z, options, file)
            if {"format", "shape", "data"} <= keys:
                X = sp.load_npz(path)
                X, kind = resolve_kind(X.tocsr(), options, file, _array_cell)
                n, m = X.shape
                return _finish(X, kind, [str(j) for j in range(m)], [str(i) for i in range(n)],
                               options, file, file)
            if len(keys) == 1:
                X = z[next(iter(keys))]
                _check_numeric(X, file)
                X, kind = resolve_kind(X, options, file, _array_cell)
                n, m = X.shape
                return _finish(X, kind, [str(j) for j in range(m)], [str(i) for i in range(n)],
                               options, file, file)
            raise fail(f"{file} is not a corGAN studio or scipy.sparse .npz file and holds "
                       f"several arrays ({list_names(sorted(keys))}); save one matrix per file")
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise refuse_objects(path)
        raise fail(f"{file} could not be read: it is truncated or corrupt ({clean(e)})")
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise fail(f"{file} could not be read: it is truncated or corrupt ({clean(e)})")


def _own_npz(z, options, file) -> Dataset:
    fmt = _text(z, "format")
    if fmt == "csr":
        shape = tuple(int(s) for s in z["shape"])
        X = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
    elif fmt == "dense":
        X = z["matrix"]
    else:
        raise fail(f"{file} has an unknown matrix format {fmt!r}; expected csr or dense")
    codes = [str(c) for c in z["codes"]]
    ids = [str(p) for p in z["patient_ids"]]
    titles = dict(zip((str(c) for c in z["title_codes"]), (str(t) for t in z["title_values"])))
    labels = z["labels"] if "labels" in z.files else None
    label_name = _text(z, "label_name") or None
    X, kind = resolve_kind(X, options, file, _array_cell, stored=_text(z, "kind"))
    return _finish(X, kind, codes, ids, options, file, _text(z, "source") or file, titles,
                   labels, label_name)


def load_table(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """A wide numeric table: one row per patient, one numeric column per code/feature."""
    file = str(path)
    if suffix(path) in PICKLES:
        raise refuse_pickle(path)
    t = read_table(path)
    df = t.df.reset_index(drop=True)
    cols = [str(c) for c in df.columns]
    df.columns = cols
    id_col = label_col = None
    if options.id_col:
        id_col = find_column(cols, options.id_col)
        if id_col is None:
            raise fail(f"{file} has no id column {options.id_col!r} (columns found: {list_names(cols)})")
    else:
        id_col = next((find_column(cols, n) for n in ID_NAMES if find_column(cols, n)), None)
        if id_col is None and cols and not pd.api.types.is_numeric_dtype(df[cols[0]]):
            id_col = cols[0]
    if options.label_col:
        label_col = find_column(cols, options.label_col)
        if label_col is None:
            raise fail(f"{file} has no label column {options.label_col!r} (columns found: {list_names(cols)})")
    elif cols and cols[-1].strip().lower() in LABEL_NAMES and cols[-1] != id_col:
        label_col = cols[-1]
    # a leading 'Unnamed: 0' is a saved pandas index: the id when no other id, else dropped
    junk = cols[0] if cols and cols[0].strip().lower() == "unnamed: 0" and cols[0] != id_col else None
    value_cols = [c for c in cols if c not in (id_col, label_col, junk)]
    if not value_cols or df.empty:
        raise fail(f"{file} yields an empty matrix ({len(df)} rows x {len(value_cols)} value columns)")
    values = _numeric_frame(t, df[value_cols])
    ids = _ids(t, df, id_col)
    labels = _labels(t, df, label_col) if label_col else None

    def cell(i, j):
        return f"{t.row(i)}, column {value_cols[j]!r}"

    X, kind = resolve_kind(values, options, file, cell)
    return _finish(X, kind, value_cols, ids, options, file, file, labels=labels, label_name=label_col)


def _numeric_frame(t, vals: pd.DataFrame) -> np.ndarray:
    """All cells as float64, or a DataError naming the first non-numeric cell."""
    out = np.empty(vals.shape, dtype=np.float64)
    first = None
    for j, c in enumerate(vals.columns):
        s = vals[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        num = pd.to_numeric(s.astype("string").str.strip(), errors="coerce")
        bad = num.isna() & s.notna() & (s.astype("string").str.strip() != "")
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            if first is None or i < first[0]:
                first = (i, c, s.iloc[i])
        out[:, j] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    if first is not None:
        i, c, v = first
        raise fail(f"{t.file} has the non-numeric value {clean(v, 40)!r} at {t.row(i)}, column {c!r}, so it is "
                   f"not a wide numeric table; if it holds (patient, code) rows, load it with source long "
                   f"and name its columns (--patient-col, --code-cols)")
    return out


def _ids(t, df: pd.DataFrame, id_col: str | None) -> list[str]:
    if id_col is None:
        return [str(i) for i in range(len(df))]
    s = df[id_col]
    miss = s.isna() | (s.astype(str).str.strip() == "")
    if miss.any():
        i = int(miss.to_numpy().nonzero()[0][0])
        raise fail(f"{t.file} has no id at {t.row(i)}, column {id_col!r}")
    ids = s.astype(str).str.strip()
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        rows = (ids == first).to_numpy().nonzero()[0]
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise fail(f"{t.file} has one id more than once in column {id_col!r} "
                   f"(rows {shown}); each patient needs one row")
    return ids.tolist()


def _labels(t, df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    miss = s.isna()
    if miss.any():
        i = int(miss.to_numpy().nonzero()[0][0])
        raise fail(f"{t.file} has no label at {t.row(i)}, column {col!r}")
    if pd.api.types.is_numeric_dtype(s):
        a = s.to_numpy()
        return a.astype(np.int64) if np.all(np.mod(a, 1) == 0) else a.astype(np.float64)
    return np.asarray(s.astype(str).to_numpy(), dtype=str)
