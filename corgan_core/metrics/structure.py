"""Fidelity beyond pairs: prevalence bands, three-way co-occurrence and analysis agreement.

- **Prevalence bands**: codes split by their share of training patients (common >= 5%, uncommon
  0.5-5%, rare < 0.5%); per band the frequency R² and how many of the band's codes the synthetic
  set never produces (models fail most on the long tail).
- **Three-way co-occurrence**: the share of patients holding all three codes of each triple of
  the most frequent codes, real vs synthetic.
- **Analysis agreement**: the odds ratio of each of the most frequent code pairs, with its 95%
  (Woolf) interval on the real holdout rows; the share of pairs whose synthetic estimate falls
  inside the real interval and whose sign (log odds ratio above or below 0) agrees.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..verdict import Z95, wilson
from ._common import Result, code_name, nonzero_share, top_columns
from .bootstrap import binary, combo_indicator, shares

BANDS = (("common", 0.05, 1.01), ("uncommon", 0.005, 0.05), ("rare", 0.0, 0.005))
"""(name, lowest share of training patients, highest share (exclusive))."""
MIN_CELL = 5
"""Each cell of a pair's real 2x2 table needs at least this many patients for its odds ratio."""


def band_columns(train) -> dict[str, np.ndarray]:
    """Columns of each prevalence band (codes no training patient has are left out)."""
    f = nonzero_share(train)
    return {name: np.flatnonzero((f > 0) & (f >= lo) & (f < hi)) for name, lo, hi in BANDS}


def triple_columns(train, kind: str, top: int = 30) -> np.ndarray:
    """The ``top`` most frequent training codes whose triples are compared."""
    return top_columns(train, top, kind)


@dataclass
class OddsRatioAgreement(Result):
    """Per pair (``code_a``, ``code_b``): real log odds ratio and interval, synthetic log odds
    ratio, ``inside``, ``sign_agrees``; the shares over pairs with their Wilson intervals."""

    pairs: list
    n_pairs: int
    share_inside: float
    share_inside_interval: list
    sign_agreement: float
    sign_agreement_interval: list
    min_cell: int


def _tables(B: sp.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2x2 counts (both, a only, b only, neither) per pair, from 0/1 columns."""
    n = B.shape[0]
    A, C = B[:, a], B[:, b]
    both = np.asarray(A.multiply(C).sum(axis=0), dtype=np.float64).ravel()
    na = np.asarray(A.sum(axis=0), dtype=np.float64).ravel()
    nb = np.asarray(C.sum(axis=0), dtype=np.float64).ravel()
    return np.column_stack([both, na - both, nb - both, n - na - nb + both])


def _log_or(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log odds ratio and its Woolf standard error (0.5 added to every cell when one is 0)."""
    t = np.where((t == 0).any(axis=1, keepdims=True), t + 0.5, t)
    lor = np.log(t[:, 0] * t[:, 3] / (t[:, 1] * t[:, 2]))
    return lor, np.sqrt((1.0 / t).sum(axis=1))


def candidate_pairs(train, holdout, kind: str, top_k: int = 100, n_pairs: int = 50) -> np.ndarray:
    """The ``n_pairs`` most frequent training pairs of the top-K codes whose holdout 2x2 table has
    at least :data:`MIN_CELL` patients in every cell (``k x 2`` column indices)."""
    cols = top_columns(train, top_k, kind)
    T, H = binary(train), binary(holdout)
    iu = np.triu_indices(len(cols), k=1)
    a, b = cols[iu[0]], cols[iu[1]]
    ok = _tables(H, a, b).min(axis=1) >= MIN_CELL
    both = _tables(T, a, b)[:, 0]
    order = np.argsort(-np.where(ok, both, -1), kind="stable")[:int(n_pairs)]
    order = order[ok[order]]
    return np.column_stack([a[order], b[order]])


def odds_ratio_agreement(real, synthetic, pairs: np.ndarray, codes=None) -> OddsRatioAgreement:
    """Does an odds-ratio analysis on ``synthetic`` reach the conclusion it reaches on ``real``?"""
    if len(pairs) < 5:
        raise DataError(f"Analysis agreement needs at least 5 code pairs with {MIN_CELL} or more held-out patients "
                        f"in every cell; this data has {len(pairs)}.")
    a, b = pairs[:, 0], pairs[:, 1]
    lr, se = _log_or(_tables(binary(real), a, b))
    ls, _ = _log_or(_tables(binary(synthetic), a, b))
    lo, hi = lr - Z95 * se, lr + Z95 * se
    inside = (ls >= lo) & (ls <= hi)
    sign = np.sign(lr) == np.sign(ls)
    rows = [{"code_a": code_name(codes, int(i)), "code_b": code_name(codes, int(j)), "real_log_or": float(r),
             "real_low": float(x), "real_high": float(y), "synthetic_log_or": float(s), "inside": bool(k),
             "sign_agrees": bool(g)} for i, j, r, x, y, s, k, g in zip(a, b, lr, lo, hi, ls, inside, sign)]
    n = len(pairs)
    return OddsRatioAgreement(rows, n, float(inside.mean()), list(wilson(inside.sum(), n)), float(sign.mean()),
                              list(wilson(sign.sum(), n)), MIN_CELL)


def never_generated(train, synthetic, columns: np.ndarray) -> int:
    """How many of ``columns`` (codes training patients have) no synthetic row has."""
    return int((shares(binary(synthetic)[:, columns]) == 0).sum()) if len(columns) else 0


def triple_indicator(X, cols):
    """Per row, which triples of ``cols`` it holds (see :func:`combo_indicator`)."""
    return combo_indicator(X, cols, 3)
