"""Seeded bootstrap over patients, vectorised: share vectors and their R² for many replicates at once.

A replicate is a vector of Poisson(1) weights over rows (the Poisson bootstrap: the same intervals
as resampling rows, as matrix products). Shares of codes, pairs or triples are ``W @ Z / sum(W)``
with ``Z`` the sparse 0/1 indicator of each row's codes (pairs, triples), so B replicates of an R²
over thousands of code sets cost a few sparse products.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import scipy.sparse as sp

from ..verdict import percentile

DEFAULT_B = 200
"""Bootstrap replicates per headline figure."""


def poisson_weights(n: int, b: int, rng: np.random.Generator) -> np.ndarray:
    """``b x n`` Poisson(1) weights (float32)."""
    return rng.poisson(1.0, size=(int(b), int(n))).astype(np.float32)


def shares(Z, W: np.ndarray | None = None) -> np.ndarray:
    """Share of rows holding each column of the 0/1 matrix ``Z``; per replicate (``b x k``) when ``W`` is given."""
    Z = sp.csr_matrix(Z)
    if W is None:
        return np.asarray(Z.sum(axis=0), dtype=np.float64).ravel() / max(Z.shape[0], 1)
    tot = np.maximum(W.sum(axis=1, keepdims=True), 1.0).astype(np.float64)
    return np.asarray((Z.T @ W.T).T, dtype=np.float64) / tot


def r2_rows(real: np.ndarray, synth: np.ndarray) -> np.ndarray:
    """R² of ``synth`` as a prediction of ``real``, row by row (NaN where real is constant)."""
    real, synth = np.atleast_2d(real), np.atleast_2d(synth)
    ss_tot = ((real - real.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    ss_res = ((real - synth) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def r2_interval(Zr, Zs, rng: np.random.Generator, b: int = DEFAULT_B, columns=None) -> list[float] | None:
    """95% bootstrap interval of the R² between the share vectors of ``Zr`` (real) and ``Zs``
    (synthetic), both sides resampled; ``columns`` restricts the R² to some of the columns."""
    Wr, Ws = poisson_weights(Zr.shape[0], b, rng), poisson_weights(Zs.shape[0], b, rng)
    R, S = shares(Zr, Wr), shares(Zs, Ws)
    r0, s0 = shares(Zr)[None, :], shares(Zs)[None, :]
    if columns is not None:
        R, S, r0, s0 = R[:, columns], S[:, columns], r0[:, columns], s0[:, columns]
    return percentile(r2_rows(R, S), center=float(r2_rows(r0, s0)[0]))


def mean_interval(values, rng: np.random.Generator, b: int = DEFAULT_B) -> list[float] | None:
    """95% bootstrap interval of the mean of ``values`` (NaN dropped), e.g. over codes."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return None
    idx = rng.integers(0, v.size, size=(int(b), v.size))
    return percentile(v[idx].mean(axis=1))


def binary(X) -> sp.csr_matrix:
    """0/1 CSR (float32) of the non-zero entries of ``X``."""
    B = sp.csr_matrix(X, dtype=np.float32, copy=True)
    B.data = (B.data != 0).astype(np.float32)
    B.eliminate_zeros()
    B.sort_indices()
    return B


def combo_indicator(X, cols, order: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(Z, combos)``: per row, which ``order``-sets (pairs, triples) of ``cols`` it holds all of.

    ``combos`` lists the column sets in ``itertools.combinations`` order (for pairs, the upper
    triangle row by row), the columns of ``Z``.
    """
    cols = np.asarray(cols, dtype=np.int64)
    k = len(cols)
    combos = np.array(list(combinations(range(k), order)), dtype=np.int64).reshape(-1, order)
    lookup = np.full((k,) * order, -1, dtype=np.int64)
    lookup[tuple(combos.T)] = np.arange(len(combos))
    B = binary(sp.csr_matrix(X)[:, cols])
    counts = np.diff(B.indptr)
    rows, ids = [], []
    for c in np.unique(counts[counts >= order]):
        who = np.flatnonzero(counts == c)
        idx = B.indices[B.indptr[who][:, None] + np.arange(c)[None, :]]  # sorted positions within cols
        pick = np.array(list(combinations(range(c), order)), dtype=np.int64)
        got = lookup[tuple(idx[:, pick[:, i]] for i in range(order))]
        rows.append(np.repeat(who, got.shape[1]))
        ids.append(got.ravel())
    n = B.shape[0]
    if not rows:
        return sp.csr_matrix((n, len(combos)), dtype=np.float32), cols[combos]
    r, i = np.concatenate(rows), np.concatenate(ids)
    Z = sp.csr_matrix((np.ones(len(r), np.float32), (r, i)), shape=(n, len(combos)))
    return Z, cols[combos]


def auroc_interval(pos_scores, neg_scores) -> tuple[float, list[float] | None]:
    """AUROC (``P(pos > neg)``, ties half) and its 95% DeLong interval (normal, clipped to [0, 1])."""
    from ..verdict import Z95

    x = np.asarray(pos_scores, dtype=np.float64)
    y = np.sort(np.asarray(neg_scores, dtype=np.float64))
    xs = np.sort(x)
    if x.size == 0 or y.size == 0:
        return float("nan"), None
    v10 = (np.searchsorted(y, x, side="left") + np.searchsorted(y, x, side="right")) / (2.0 * y.size)
    v01 = 1.0 - (np.searchsorted(xs, y, side="left") + np.searchsorted(xs, y, side="right")) / (2.0 * x.size)
    auc = float(v10.mean())
    if x.size < 2 or y.size < 2:
        return auc, None
    se = float(np.sqrt(v10.var(ddof=1) / x.size + v01.var(ddof=1) / y.size))
    return auc, [max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se)]
