"""Exact matches: synthetic copies of training rows, rare-combination replay, real-data uniqueness.

Rows are compared exactly (same codes, same values). On sparse code data many patients share the
same few codes, so a match is not by itself a leak: ``record_uniqueness`` gives the share of holdout
rows that have an exact twin in train, which is what an honest generator's copy rate looks like and
the ceiling of any distance-based membership attack.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import Result, as_matrix, check_kind, check_same_columns, to_csr, to_dense
from .neighbours import unique_rows


@dataclass
class ExactCopies(Result):
    """Synthetic rows identical to a training row, and those matching a rare training combination
    (one held by at least 1 and at most ``k`` training patients). ``holdout_*`` are the same shares
    for real holdout rows against train: what chance alone gives (None without a holdout)."""

    k: int
    n_synthetic: int
    copies: int
    copy_share: float
    distinct_copied: int
    rare_replay: int
    rare_replay_share: float
    distinct_rare_replayed: int
    holdout_copy_share: float | None = None
    holdout_rare_share: float | None = None


@dataclass
class RecordUniqueness(Result):
    """Share of holdout rows with an exact twin in train, and of train rows unique within train."""

    holdout_twin_share: float
    train_unique_share: float
    n_train: int
    n_holdout: int


def row_ids(*mats, kind: str | None = None) -> list[np.ndarray]:
    """One integer id per row, equal exactly when rows are equal, consistent across all ``mats``
    (dense and sparse inputs of the same values get the same ids)."""
    kind = check_kind(kind, mats[0], "the data")
    if kind == "continuous":
        stacked = np.vstack([to_dense(X, np.float64) for X in mats])
    else:
        stacked = sp.vstack([to_csr(X, np.float64) for X in mats], format="csr")
    _, inverse = unique_rows(stacked)
    cuts = np.cumsum([0] + [X.shape[0] for X in mats])
    return [inverse[a:b] for a, b in zip(cuts[:-1], cuts[1:])]


def _matches(train_ids, other_ids, k: int):
    count = np.bincount(train_ids, minlength=max(train_ids.max(), other_ids.max()) + 1)
    c = count[other_ids]
    return c >= 1, (c >= 1) & (c <= k)


def exact_copies(train, synthetic, *, holdout=None, k: int = 10, kind: str | None = None) -> ExactCopies:
    """Count synthetic rows that reproduce a training row exactly, and rare combinations replayed.

    >>> r = exact_copies([[1, 0], [1, 0], [0, 1]], [[0, 1], [1, 0], [1, 1]], k=1)
    >>> r.copies, r.rare_replay
    (2, 1)
    """
    T = as_matrix(train, "the training data")
    S = as_matrix(synthetic, "the synthetic data")
    mats = [(S, "the synthetic data")]
    if holdout is not None:
        mats.append((as_matrix(holdout, "the holdout data"), "the holdout data"))
    check_same_columns(T, "the training data", *mats)
    if int(k) < 1:
        raise DataError(f"The rare-combination size k must be at least 1; got {k}.")
    kind = check_kind(kind, T, "the training data")
    ids = row_ids(T, *[X for X, _ in mats], kind=kind)
    copy, rare = _matches(ids[0], ids[1], int(k))
    extra = {}
    if holdout is not None:
        hc, hr = _matches(ids[0], ids[2], int(k))
        extra = {"holdout_copy_share": float(hc.mean()), "holdout_rare_share": float(hr.mean())}
    n = S.shape[0]
    return ExactCopies(int(k), n, int(copy.sum()), float(copy.mean()), len(np.unique(ids[1][copy])),
                       int(rare.sum()), float(rare.mean()), len(np.unique(ids[1][rare])), **extra)


def record_uniqueness(train, holdout, *, kind: str | None = None) -> RecordUniqueness:
    """How unique the real records are: the ceiling of a membership attack on this data.

    >>> record_uniqueness([[1, 0], [1, 0], [0, 1]], [[1, 0], [1, 1]]).holdout_twin_share
    0.5
    """
    T = as_matrix(train, "the training data")
    H = as_matrix(holdout, "the holdout data")
    check_same_columns(T, "the training data", (H, "the holdout data"))
    t_ids, h_ids = row_ids(T, H, kind=check_kind(kind, T, "the training data"))
    count = np.bincount(t_ids, minlength=max(t_ids.max(), h_ids.max()) + 1)
    return RecordUniqueness(float((count[h_ids] > 0).mean()), float((count[t_ids] == 1).mean()),
                            int(T.shape[0]), int(H.shape[0]))
