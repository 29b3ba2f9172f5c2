"""Attribute inference (medGAN / corGAN style).

The attacker knows some codes of a real patient (by default the most frequent tenth of the codes)
and guesses the others from the ``k`` synthetic records closest on the known codes (a code is
guessed present when most of them have it). The F1 of the guesses over the unknown codes is
measured for training patients and, as the baseline, for holdout patients: what population
patterns alone reveal. A clear gap (train above holdout) means the synthetic data leaks members'
details. The gap's 95% interval is a seeded bootstrap over the target patients.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..verdict import percentile
from ._common import (Result, as_matrix, check_kind, check_same_columns, code_name, rng_for, sample_rows,
                      to_csr, top_columns)
from .bootstrap import DEFAULT_B, poisson_weights


@dataclass
class AttributeInference(Result):
    """F1 (and precision, recall) of inferred unknown codes for train and holdout targets."""

    known: list
    k: int
    n_targets: int
    train: dict
    holdout: dict
    f1_gap: float
    f1_gap_interval: list | None = None


def _guess(T_known, S_known_T, s_norm, S_unknown, k: int, jitter: np.ndarray) -> sp.csr_matrix:
    """Majority vote of the k nearest synthetic rows (Hamming on the known codes) per target row."""
    t_norm = np.asarray(T_known.sum(axis=1), dtype=np.float64).ravel()
    out = []
    for a in range(0, T_known.shape[0], 256):
        D = t_norm[a:a + 256, None] + s_norm[None, :] - 2.0 * np.asarray(T_known[a:a + 256] @ S_known_T)
        D += jitter[None, :]  # seeded tie-breaking among equally close synthetic rows
        kk = min(k, D.shape[1])
        nearest = np.argpartition(D, kk - 1, axis=1)[:, :kk]
        votes = sum(S_unknown[nearest[:, i]] for i in range(kk))
        out.append(sp.csr_matrix(votes * 2 > kk, dtype=np.float32))
    return sp.vstack(out, format="csr")


def _row_counts(guess: sp.csr_matrix, truth: sp.csr_matrix) -> np.ndarray:
    """Per target row: true positives, guessed codes, true codes (``n x 3``)."""
    g, t = guess.astype(bool).astype(np.float64), truth.astype(bool).astype(np.float64)
    return np.column_stack([np.asarray(g.multiply(t).sum(axis=1)).ravel(), np.asarray(g.sum(axis=1)).ravel(),
                            np.asarray(t.sum(axis=1)).ravel()])


def _f1_weighted(counts: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Micro F1 (2 TP / (guessed + true)) per bootstrap weight row."""
    c = W @ counts
    return np.where(c[:, 1] + c[:, 2] > 0, 2 * c[:, 0] / np.maximum(c[:, 1] + c[:, 2], 1e-12), 0.0)


def _scores(guess: sp.csr_matrix, truth: sp.csr_matrix) -> dict:
    g, t = guess.astype(bool), truth.astype(bool)
    tp = float(g.multiply(t).sum())
    fp, fn = float(g.sum()) - tp, float(t.sum()) - tp
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {"f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "precision": prec, "recall": rec}


def attribute_inference(train, holdout, synthetic, *, kind: str | None = None, known=None,
                        known_share: float = 0.1, k: int = 1, n_targets: int = 1000, seed: int = 0,
                        codes=None, bootstrap: int = DEFAULT_B) -> AttributeInference:
    """Infer unknown codes of ``n_targets`` train and holdout patients from the nearest synthetic rows.

    ``known`` lists the column indices the attacker knows (default: the ``known_share`` most frequent
    training codes). Binary and count data (counts are read as present/absent).
    """
    Tr = as_matrix(train, "the training data")
    Ho = as_matrix(holdout, "the holdout data")
    Sy = as_matrix(synthetic, "the synthetic data")
    check_same_columns(Tr, "the training data", (Ho, "the holdout data"), (Sy, "the synthetic data"))
    kind = check_kind(kind, Tr, "the training data")
    if kind == "continuous":
        raise DataError("Attribute inference here applies to code data (binary or count), not continuous columns.")
    if int(k) < 1:
        raise DataError(f"The number of neighbours k must be at least 1; got {k}.")
    m = Tr.shape[1]
    cols = (np.unique(np.asarray(known, dtype=np.int64)) if known is not None
            else top_columns(Tr, max(1, int(round(known_share * m))), kind))
    if len(cols) == 0 or len(cols) >= m or cols.min() < 0 or cols.max() >= m:
        raise DataError(f"The known codes must be between 1 and {m - 1} valid column indices.")
    unknown = np.setdiff1d(np.arange(m), cols)
    rng = rng_for(seed)
    bins = [(to_csr(X, np.float32) != 0).astype(np.float32).tocsr() for X in (Tr, Ho, Sy)]
    S_known = bins[2][:, cols]
    S_known_T = S_known.T.toarray()
    s_norm = np.asarray(S_known.sum(axis=1), dtype=np.float64).ravel()
    S_unknown = bins[2][:, unknown]
    jitter = rng.random(S_known.shape[0]) * 0.5
    res, boot = {}, {}
    for name, B in (("train", bins[0]), ("holdout", bins[1])):
        rows = sample_rows(B.shape[0], n_targets, rng)
        guess = _guess(B[rows][:, cols], S_known_T, s_norm, S_unknown, int(k), jitter)
        res[name] = _scores(guess, B[rows][:, unknown])
        boot[name] = _f1_weighted(_row_counts(guess, B[rows][:, unknown]), poisson_weights(len(rows), bootstrap, rng))
    n = int(min(n_targets, Tr.shape[0], Ho.shape[0]))
    return AttributeInference([code_name(codes, j) for j in cols], int(k), n, res["train"], res["holdout"],
                              res["train"]["f1"] - res["holdout"]["f1"], percentile(boot["train"] - boot["holdout"]))
