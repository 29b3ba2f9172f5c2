"""Pairwise structure: code co-occurrence (or correlation) real vs synthetic for the top-K codes.

Matching per-code frequencies says little (independent sampling matches them by construction);
pairs show whether codes that go together in real patients go together in synthetic ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._common import (Result, as_matrix, check_kind, check_same_columns, code_name, column_mean,
                      column_var, regression_summary, to_dense, top_columns)


@dataclass
class CoOccurrence(Result):
    """Pairwise statistics over the chosen columns (upper triangle, ``i < j``).

    ``statistic`` is ``"co-occurrence"`` (share of patients with both codes; binary and count data)
    or ``"correlation"`` (Pearson, continuous data). ``pairs`` lists the column index pairs in the
    order of ``real`` and ``synthetic``. ``moments`` (count and continuous data) compares per-column
    mean and variance over all columns.
    """

    statistic: str
    columns: list
    codes: list
    pairs: np.ndarray
    real: np.ndarray
    synthetic: np.ndarray
    r2: float
    pearson: float
    rmse: float
    max_abs_error: float
    moments: dict | None = None


def _pairwise(X, cols, stat: str) -> np.ndarray:
    if stat == "correlation":
        A = to_dense(X[:, cols], np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            C = np.corrcoef(A, rowvar=False) if A.shape[1] > 1 else np.ones((1, 1))
        return np.nan_to_num(np.atleast_2d(C), nan=0.0)
    B = X[:, cols]
    B = (B != 0).astype(np.float64) if sp.issparse(B) else (np.asarray(B) != 0).astype(np.float64)
    C = B.T @ B
    return np.asarray(C.toarray() if sp.issparse(C) else C) / X.shape[0]


def cooccurrence(real, synthetic, *, kind: str | None = None, top_k: int = 100, columns=None,
                 codes=None) -> CoOccurrence:
    """Co-occurrence of the ``top_k`` most frequent real codes (or the given ``columns``), real vs synthetic.

    >>> r = cooccurrence([[1, 1], [1, 0]], [[1, 0], [1, 0]])
    >>> r.real.tolist(), r.synthetic.tolist()
    ([0.5], [0.0])
    """
    R = as_matrix(real, "the real data")
    S = as_matrix(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    kind = check_kind(kind, R, "the real data")
    cols = np.sort(np.asarray(columns, dtype=np.int64)) if columns is not None else top_columns(R, top_k, kind)
    stat = "correlation" if kind == "continuous" else "co-occurrence"
    iu = np.triu_indices(len(cols), k=1)
    cr = _pairwise(R, cols, stat)[iu]
    cs = _pairwise(S, cols, stat)[iu]
    moments = None
    if kind != "binary":
        mr, ms, vr, vs = column_mean(R), column_mean(S), column_var(R), column_var(S)
        moments = {"mean": {"real": mr, "synthetic": ms, **regression_summary(mr, ms)},
                   "variance": {"real": vr, "synthetic": vs, **regression_summary(vr, vs)}}
    return CoOccurrence(stat, cols.tolist(), [code_name(codes, j) for j in cols],
                        np.column_stack([cols[iu[0]], cols[iu[1]]]), cr, cs,
                        moments=moments, **regression_summary(cr, cs))
