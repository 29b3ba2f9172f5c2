"""Dimension-wise prediction (medGAN): predict each top code from all the others.

For each of the top-K codes a logistic regression learns "has code k" from the other codes, once on
real training rows and once on synthetic rows; both are scored on held-out real rows (F1 at 0.5 and
AUROC). Synthetic data that keeps the real dependencies scores close to the real-trained model.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ._common import (Result, as_matrix, check_kind, check_same_columns, code_name, column, drop_column,
                      nanmean, rng_for, sample_rows, top_columns)


@dataclass
class DimensionWisePrediction(Result):
    """Per-code F1/AUROC of the real-trained and synthetic-trained models, tested on holdout.

    ``per_code`` rows hold ``code``, ``title``, ``column``, ``real_f1``, ``real_auroc``,
    ``synthetic_f1``, ``synthetic_auroc`` (NaN where a model could not be trained or scored) and a
    ``reason`` when something was skipped. The means ignore NaN; the gaps average
    ``|real - synthetic|`` over codes where both exist.
    """

    per_code: list
    real_f1: float
    synthetic_f1: float
    real_auroc: float
    synthetic_auroc: float
    f1_gap: float
    auroc_gap: float
    skipped: int


def _fit_score(X, y, X_test, y_test, seed: int) -> tuple[float, float, str]:
    """F1 and AUROC on the test rows of a logistic regression fitted on ``(X, y)``; NaN plus a reason
    when the training target is constant or the test target has a single class."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    if y.min() == y.max():
        what = "never present" if y.max() == 0 else "present in every row"
        return float("nan"), float("nan"), what
    model = LogisticRegression(solver="liblinear", max_iter=200, random_state=seed)
    model.fit(X, y)
    p = model.predict_proba(X_test)[:, 1]
    f1 = float(f1_score(y_test, p >= 0.5, zero_division=0.0))
    if y_test.min() == y_test.max():
        return f1, float("nan"), "holdout has a single class, AUROC undefined"
    return f1, float(roc_auc_score(y_test, p)), ""


def dimension_wise_prediction(train, holdout, synthetic, *, kind: str | None = None, top_k: int = 20,
                              columns=None, codes=None, titles=None, seed: int = 0,
                              max_rows: int | None = None) -> DimensionWisePrediction:
    """Per-code prediction scores for models trained on real train vs on synthetic rows (binary/count).

    ``columns`` overrides the default choice of the ``top_k`` most frequent training codes;
    ``max_rows`` caps (seeded sample) the rows each model trains on.
    """
    Tr = as_matrix(train, "the training data")
    Ho = as_matrix(holdout, "the holdout data")
    Sy = as_matrix(synthetic, "the synthetic data")
    check_same_columns(Tr, "the training data", (Ho, "the holdout data"), (Sy, "the synthetic data"))
    kind = check_kind(kind, Tr, "the training data")
    if kind == "continuous":
        raise DataError("Dimension-wise prediction applies to code data (binary or count), not continuous columns.")
    if Tr.shape[1] < 2:
        raise DataError("Dimension-wise prediction needs at least 2 code columns.")
    rng = rng_for(seed)
    Tr = Tr[sample_rows(Tr.shape[0], max_rows, rng)]
    Sy = Sy[sample_rows(Sy.shape[0], max_rows, rng)]
    cols = np.asarray(columns, dtype=np.int64) if columns is not None else top_columns(Tr, top_k, kind)
    titles = titles or {}

    def one(j: int) -> dict:
        y_test = column(Ho, j) != 0
        X_test = drop_column(Ho, j)
        rf1, rauc, rwhy = _fit_score(drop_column(Tr, j), column(Tr, j) != 0, X_test, y_test, seed)
        sf1, sauc, swhy = _fit_score(drop_column(Sy, j), column(Sy, j) != 0, X_test, y_test, seed)
        reason = "; ".join(s for s in (rwhy and f"real: {rwhy}", swhy and f"synthetic: {swhy}") if s)
        name = code_name(codes, j)
        return {"column": j, "code": name, "title": titles.get(name, ""), "real_f1": rf1, "real_auroc": rauc,
                "synthetic_f1": sf1, "synthetic_auroc": sauc, "reason": reason}

    # liblinear releases the GIL: two threads; warnings are silenced here, once, for both threads
    with warnings.catch_warnings(), ThreadPoolExecutor(min(2, os.cpu_count() or 1)) as ex:
        warnings.simplefilter("ignore")
        rows = list(ex.map(one, [int(j) for j in cols]))

    def col(key):
        return np.array([r[key] for r in rows], dtype=np.float64)

    rf, sf, ra, sa = col("real_f1"), col("synthetic_f1"), col("real_auroc"), col("synthetic_auroc")
    return DimensionWisePrediction(rows, nanmean(rf), nanmean(sf), nanmean(ra), nanmean(sa),
                                   nanmean(np.abs(rf - sf)), nanmean(np.abs(ra - sa)),
                                   int(sum(bool(r["reason"]) for r in rows)))
