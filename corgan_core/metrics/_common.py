"""Input checks and small array helpers shared by the metric modules.

Every metric takes plain arrays: a dense numpy array or a scipy.sparse matrix (patients x codes).
A :class:`~corgan_core.data.dataset.Dataset` is accepted too and reduced to its matrix here.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..verdict import finite, plain  # noqa: F401 - re-exported: the metrics' JSON helpers

KINDS = ("binary", "count", "continuous")


def cap(text: str) -> str:
    """``text`` with its first letter upper-case (names like "the synthetic data" start sentences)."""
    return text[:1].upper() + text[1:]


def as_matrix(X, name: str = "the data"):
    """``X`` as a CSR matrix or a 2-D float array, checked for shape and finite values."""
    if hasattr(X, "X") and hasattr(X, "codes"):  # a Dataset
        X = X.X
    if X is None:
        raise DataError(f"No matrix was given for {name}.")
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        data = X.data
    else:
        try:
            X = np.asarray(X)
        except Exception as e:  # noqa: BLE001 - ragged lists and the like
            raise DataError(f"{cap(name)} cannot be read as a matrix ({type(e).__name__}).") from None
        if X.dtype == bool:
            X = X.astype(np.float32)
        if not np.issubdtype(X.dtype, np.number):
            raise DataError(f"{cap(name)} must be numeric; got values of type {X.dtype}.")
        data = X
    if X.ndim != 2:
        raise DataError(f"{cap(name)} must be a 2-D matrix (patients x codes); got {X.ndim} dimension(s).")
    if X.shape[0] == 0:
        raise DataError(f"{cap(name)} is empty (0 rows).")
    if X.shape[1] == 0:
        raise DataError(f"{cap(name)} has no code columns.")
    if data.size and not np.isfinite(data).all():
        raise DataError(f"{cap(name)} contains missing (NaN) or infinite values.")
    return X


def check_same_columns(ref, ref_name: str, *others) -> None:
    """Raise if any ``(matrix, name)`` in ``others`` has a different number of columns than ``ref``."""
    for X, name in others:
        if X.shape[1] != ref.shape[1]:
            raise DataError(f"{cap(name)} has {X.shape[1]} code columns but {ref_name} has {ref.shape[1]}.")


def infer_kind(X) -> str:
    """``binary`` for 0/1 values, ``count`` for non-negative integers, otherwise ``continuous``."""
    v = X.data if sp.issparse(X) else np.asarray(X)
    if v.size == 0 or np.isin(v, (0, 1)).all():
        return "binary"
    if (v >= 0).all() and np.equal(np.mod(v, 1), 0).all():
        return "count"
    return "continuous"


def check_kind(kind: str | None, X, name: str = "the data") -> str:
    """Validate ``kind`` (or infer it from ``X``); binary data must hold only 0 and 1."""
    if kind is None:
        return infer_kind(X)
    if kind not in KINDS:
        raise DataError(f"Unknown data kind {kind!r}; use one of {', '.join(KINDS)}.")
    if kind == "binary":
        v = X.data if sp.issparse(X) else np.asarray(X)
        bad = v[~np.isin(v, (0, 1))]
        if bad.size:
            raise DataError(f"{cap(name)} is declared binary but holds values other than 0 and 1 (e.g. {bad.flat[0]:g}).")
    return kind


def to_csr(X, dtype=np.float32) -> sp.csr_matrix:
    """CSR copy with sorted indices and no explicit zeros."""
    A = sp.csr_matrix(X, dtype=dtype, copy=True)
    A.eliminate_zeros()
    A.sort_indices()
    return A


def to_dense(X, dtype=np.float64) -> np.ndarray:
    """Dense copy (or view) of ``X``."""
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(dtype, copy=False)


def column(X, j: int) -> np.ndarray:
    """Column ``j`` as a dense 1-D float64 array."""
    c = X[:, j]
    return (c.toarray().ravel() if sp.issparse(c) else np.asarray(c).ravel()).astype(np.float64)


def drop_column(X, j: int):
    """``X`` without column ``j`` (same sparsity)."""
    keep = np.ones(X.shape[1], dtype=bool)
    keep[j] = False
    return X[:, keep]


def nonzero_share(X) -> np.ndarray:
    """Share of rows with a non-zero entry, per column."""
    if sp.issparse(X):
        return np.bincount(X.indices[X.data != 0], minlength=X.shape[1]) / X.shape[0]
    return (np.asarray(X) != 0).mean(axis=0)


def column_mean(X) -> np.ndarray:
    """Per-column mean as float64."""
    return np.asarray(X.mean(axis=0), dtype=np.float64).ravel()


def column_var(X) -> np.ndarray:
    """Per-column (population) variance as float64."""
    if sp.issparse(X):
        mean = column_mean(X)
        sq = np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel()
        return np.maximum(sq - mean ** 2, 0.0)
    return np.asarray(X, dtype=np.float64).var(axis=0)


def top_columns(X, k: int, kind: str) -> np.ndarray:
    """Indices of the ``k`` most frequent (binary/count) or most variable (continuous) columns."""
    score = column_var(X) if kind == "continuous" else nonzero_share(X)
    k = int(min(max(k, 1), X.shape[1]))
    return np.sort(np.argsort(-score, kind="stable")[:k])


def code_name(codes, j: int) -> str:
    """The code name of column ``j`` (its index when no vocabulary is given)."""
    return str(codes[j]) if codes is not None and j < len(codes) else str(j)


def regression_summary(real: np.ndarray, synth: np.ndarray) -> dict:
    """R² (synthetic as a prediction of real), Pearson r, RMSE and max absolute error.

    Plain numpy, the formulas of ``sklearn.metrics.r2_score`` and ``scipy.stats.pearsonr`` (tested
    against both): importing those two modules cost ~1 s of every ``corgan train`` (its checkpoint
    quality check) and of the first fidelity page."""
    real = np.asarray(real, dtype=np.float64).ravel()
    synth = np.asarray(synth, dtype=np.float64).ravel()
    err = synth - real
    dr = real - real.mean() if real.size else real
    if real.size < 2 or np.ptp(real) == 0:
        r2 = float("nan")
    else:
        r2 = float(1.0 - np.dot(err, err) / np.dot(dr, dr))
    if real.size < 2 or np.ptp(real) == 0 or np.ptp(synth) == 0:
        pr = float("nan")
    else:
        ds = synth - synth.mean()
        pr = float(np.clip(np.dot(dr, ds) / (np.linalg.norm(dr) * np.linalg.norm(ds)), -1.0, 1.0))
    return {"r2": r2, "pearson": pr, "rmse": float(np.sqrt(np.mean(err ** 2))) if err.size else float("nan"),
            "max_abs_error": float(np.max(np.abs(err))) if err.size else float("nan")}


def rng_for(seed) -> np.random.Generator:
    """The only source of randomness in the metrics: a Generator from an explicit integer seed."""
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"The seed must be an integer; got {seed!r}.")
    return np.random.default_rng(int(seed))


def sample_rows(n: int, k: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``min(k, n)`` rows drawn without replacement (all rows when ``k`` is None)."""
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=int(k), replace=False))


class Result:
    """Mixin for metric results: ``to_dict()`` gives the JSON-ready form."""

    def to_dict(self) -> dict:
        return plain(self)


def nanmean(x) -> float:
    """Mean ignoring NaN; NaN (no warning) when nothing is left."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")
