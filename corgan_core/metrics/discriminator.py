"""Discriminator (propensity) score: how well a classifier tells real rows from synthetic ones.

Equal numbers of real and synthetic rows (seeded sample, at most ``max_rows`` each) are labelled 0/1
and a classifier's out-of-fold probabilities give the AUROC (0.5: indistinguishable) and the pMSE,
the mean squared distance of the propensity from the share of synthetic rows (0: indistinguishable;
0.25: perfectly separated). For code data the features are the ``top_k`` most frequent real codes
plus two row totals (codes per patient, codes outside the top K), which carry most of the signal.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import Result, as_matrix, check_kind, check_same_columns, rng_for, sample_rows, to_dense, top_columns
from .classifier import fit_predict_proba


@dataclass
class Discriminator(Result):
    """Out-of-fold AUROC and pMSE of a real-vs-synthetic classifier on balanced rows."""

    auroc: float
    pmse: float
    accuracy: float
    rows_per_class: int
    model: str
    features: int


def _features(X, cols, kind: str) -> np.ndarray:
    if kind == "continuous":
        return to_dense(X, np.float32)
    top = to_dense(X[:, cols], np.float32)
    total = np.asarray(X.sum(axis=1), dtype=np.float32).reshape(-1, 1)
    nnz = (np.diff(X.indptr) if sp.issparse(X) else np.count_nonzero(X, axis=1)).astype(np.float32)
    return np.hstack([top, nnz.reshape(-1, 1), total - top.sum(axis=1, keepdims=True)])


def discriminator_score(real, synthetic, *, kind: str | None = None, top_k: int = 100,
                        max_rows: int | None = 5000, folds: int = 3, model: str = "gradient_boosting",
                        seed: int = 0) -> Discriminator:
    """Fit ``model`` (see :data:`corgan_core.metrics.classifier.MODELS`) to tell real from synthetic rows."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    R = as_matrix(real, "the real data")
    S = as_matrix(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    kind = check_kind(kind, R, "the real data")
    rng = rng_for(seed)
    n = min(R.shape[0], S.shape[0], max_rows or max(R.shape[0], S.shape[0]))
    if n < folds:
        raise DataError(f"The discriminator needs at least {folds} real and synthetic rows; got {n}.")
    cols = top_columns(R, top_k, kind)
    X = np.vstack([_features(R[sample_rows(R.shape[0], n, rng)], cols, kind),
                   _features(S[sample_rows(S.shape[0], n, rng)], cols, kind)])
    y = np.r_[np.zeros(n), np.ones(n)]
    p = np.empty(2 * n)
    for fit, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        classes, proba = fit_predict_proba(model, X[fit], y[fit], X[test], seed)
        p[test] = proba[:, list(classes).index(1.0)]
    return Discriminator(float(roc_auc_score(y, p)), float(np.mean((p - 0.5) ** 2)),
                         float(np.mean((p >= 0.5) == y)), int(n), model, int(X.shape[1]))
