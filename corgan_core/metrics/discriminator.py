"""Discriminator (propensity) score: how well a classifier tells real rows from synthetic ones.

Equal numbers of real and synthetic rows (seeded sample, at most ``max_rows`` each) are labelled 0/1
and a classifier's out-of-fold probabilities give the AUROC (0.5: indistinguishable) and the pMSE,
the mean squared distance of the propensity from the share of synthetic rows (0: indistinguishable;
0.25: perfectly separated). For code data the features are the ``top_k`` most frequent real codes
plus two row totals (codes per patient, codes outside the top K), which carry most of the signal.

Small data: gradient boosting's default of 20 rows per leaf never splits on 20 rows per class
(every input then scores AUROC about 0.5), so ``model="auto"`` uses a logistic regression below
:data:`SMALL` rows per class and scales the leaf size to the data above it. The AUROC carries a
DeLong 95% interval over the out-of-fold predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import Result, as_matrix, check_kind, check_same_columns, rng_for, sample_rows, to_dense, top_columns
from .bootstrap import auroc_interval
from .classifier import fit_predict_proba

SMALL = 200
"""Rows per class below which ``model="auto"`` uses logistic regression."""
MIN_ROWS = 10
"""Rows per class the discriminator needs at all."""


@dataclass
class Discriminator(Result):
    """Out-of-fold AUROC and pMSE of a real-vs-synthetic classifier on balanced rows."""

    auroc: float
    pmse: float
    accuracy: float
    rows_per_class: int
    model: str
    features: int
    auroc_interval: list | None = None


def _features(X, cols, kind: str) -> np.ndarray:
    if kind == "continuous":
        return to_dense(X, np.float32)
    top = to_dense(X[:, cols], np.float32)
    total = np.asarray(X.sum(axis=1), dtype=np.float32).reshape(-1, 1)
    nnz = (np.diff(X.indptr) if sp.issparse(X) else np.count_nonzero(X, axis=1)).astype(np.float32)
    return np.hstack([top, nnz.reshape(-1, 1), total - top.sum(axis=1, keepdims=True)])


def discriminator_score(real, synthetic, *, kind: str | None = None, top_k: int = 100,
                        max_rows: int | None = 5000, folds: int = 3, model: str = "auto",
                        seed: int = 0) -> Discriminator:
    """Fit ``model`` (``auto`` or one of :data:`corgan_core.metrics.classifier.MODELS`) to tell real
    from synthetic rows."""
    from sklearn.model_selection import StratifiedKFold

    R = as_matrix(real, "the real data")
    S = as_matrix(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    kind = check_kind(kind, R, "the real data")
    rng = rng_for(seed)
    n = min(R.shape[0], S.shape[0], max_rows or max(R.shape[0], S.shape[0]))
    if n < max(folds, MIN_ROWS):
        raise DataError(f"The discriminator needs at least {max(folds, MIN_ROWS)} real and synthetic rows; got {n}.")
    if model == "auto":
        model = "logistic" if n < SMALL else "gradient_boosting"
    cols = top_columns(R, top_k, kind)
    X = np.vstack([_features(R[sample_rows(R.shape[0], n, rng)], cols, kind),
                   _features(S[sample_rows(S.shape[0], n, rng)], cols, kind)])
    y = np.r_[np.zeros(n), np.ones(n)]
    p = np.empty(2 * n)
    for fit, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        leaf = max(2, min(20, len(fit) // 50))  # 20 (sklearn's default) from 1,000 rows up
        classes, proba = fit_predict_proba(model, X[fit], y[fit], X[test], seed, min_samples_leaf=leaf)
        p[test] = proba[:, list(classes).index(1.0)]
    auc, interval = auroc_interval(p[y == 1], p[y == 0])
    return Discriminator(auc, float(np.mean((p - 0.5) ** 2)), float(np.mean((p >= 0.5) == y)), int(n), model,
                         int(X.shape[1]), interval)
