"""Write synthetic rows with their code names: .npz (our safe format), .csv or .parquet."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .atomic import atomic_path
from .data.dataset import Dataset
from .errors import CorganError

FORMATS = (".npz", ".csv", ".parquet")


def synthetic_dataset(X: np.ndarray, codes: list[str], kind: str, titles: dict | None = None,
                      source: str = "synthetic") -> Dataset:
    mat = sp.csr_matrix(X.astype(np.float32)) if kind != "continuous" else X.astype(np.float32)
    ids = [f"synthetic-{i + 1}" for i in range(len(X))]
    return Dataset(mat, list(codes), ids, kind, dict(titles or {}), source=source)


def to_frame(X: np.ndarray, codes: list[str], kind: str):
    import pandas as pd

    values = X.astype(np.int64) if kind in ("binary", "count") else X
    return pd.DataFrame(values, columns=list(codes))


def write_samples(X: np.ndarray, codes: list[str], kind: str, path: str | Path,
                  titles: dict | None = None) -> Path:
    """Write ``X`` to ``path``; the format follows the suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CorganError(f"Cannot write {path.name}: use a .npz, .csv or .parquet file name.")
    if suffix == ".npz":
        return synthetic_dataset(X, codes, kind, titles).save_npz(path)
    df = to_frame(X, codes, kind)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    return path
