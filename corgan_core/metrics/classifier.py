"""Classifier fidelity: train on real, test on real (TRTR) vs train on synthetic, test on real (TSTR).

The corGAN paper's setting for labelled (e.g. Epileptic Seizure) data: several scikit-learn
classifiers learn the label from the other columns, once on real training rows and once on synthetic
rows; both are scored on held-out real rows. Synthetic data needs its own labels for TSTR: pass
``y_synthetic``, or ``label_index`` when the generator was trained on ``[X, y]`` so that one column of
every matrix is the label (it is then removed from the features).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ._common import Result, as_matrix, check_same_columns, column, drop_column, nanmean, rng_for, sample_rows

MODELS = ("logistic", "random_forest", "gradient_boosting")


@dataclass
class ClassifierFidelity(Result):
    """Per model: ``{"trtr": {"auroc", "accuracy"}, "tstr": {...}, "reason"}``; the gaps average
    ``TRTR - TSTR`` over models where both exist (lower is better)."""

    models: dict
    classes: list
    auroc_gap: float
    accuracy_gap: float


def make_model(name: str, seed: int, min_samples_leaf: int = 20):
    """A fresh scikit-learn classifier by name (see ``MODELS``); ``min_samples_leaf`` is gradient
    boosting's leaf size."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler

    if name == "logistic":
        return make_pipeline(MaxAbsScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=2, random_state=seed)
    if name == "gradient_boosting":
        return HistGradientBoostingClassifier(min_samples_leaf=min_samples_leaf, random_state=seed)
    raise DataError(f"Unknown classifier {name!r}; use one of {', '.join(MODELS)}.")


def fit_predict_proba(name: str, X, y, X_test, seed: int, min_samples_leaf: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Fit model ``name`` and return ``(classes, probabilities on X_test)``.

    Gradient boosting runs on one OpenMP thread: on a small shared machine more threads spin and
    run many times slower.
    """
    from threadpoolctl import threadpool_limits

    model = make_model(name, seed, min_samples_leaf)
    if name == "gradient_boosting" and sp.issparse(X):
        X, X_test = X.toarray(), X_test.toarray()
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="openmp"):
        warnings.simplefilter("ignore")
        model.fit(X, y)
        return model.classes_, model.predict_proba(X_test)


def _labels(y, n: int, what: str) -> np.ndarray:
    y = np.asarray(y).ravel()
    if len(y) != n:
        raise DataError(f"The {what} labels have {len(y)} values for {n} rows.")
    return y


def _score(classes, proba, y_test, all_classes) -> dict:
    from sklearn.metrics import accuracy_score, roc_auc_score

    full = np.zeros((len(y_test), len(all_classes)))
    for i, c in enumerate(classes):
        full[:, int(np.searchsorted(all_classes, c))] = proba[:, i]
    acc = float(accuracy_score(y_test, all_classes[full.argmax(axis=1)]))
    present = np.unique(y_test)
    if len(present) < 2:
        return {"auroc": float("nan"), "accuracy": acc}
    if len(all_classes) == 2:
        auc = roc_auc_score(y_test == all_classes[1], full[:, 1])
    else:
        keep = np.isin(all_classes, present)
        p = full[:, keep]
        p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        auc = roc_auc_score(y_test, p, multi_class="ovr", labels=all_classes[keep])
    return {"auroc": float(auc), "accuracy": acc}


def classifier_fidelity(train, holdout, synthetic, *, y_train=None, y_holdout=None, y_synthetic=None,
                        label_index: int | None = None, models=MODELS, seed: int = 0,
                        max_rows: int | None = None) -> ClassifierFidelity:
    """TRTR vs TSTR AUROC and accuracy on the holdout for each classifier in ``models``.

    Give either the three label arrays or ``label_index`` (a column of each matrix holding the label).
    ``max_rows`` caps (seeded sample) the rows each model trains on.
    """
    Tr = as_matrix(train, "the training data")
    Ho = as_matrix(holdout, "the holdout data")
    Sy = as_matrix(synthetic, "the synthetic data")
    check_same_columns(Tr, "the training data", (Ho, "the holdout data"), (Sy, "the synthetic data"))
    if label_index is not None:
        j = int(label_index)
        if not -Tr.shape[1] <= j < Tr.shape[1]:
            raise DataError(f"The label column {label_index} is outside the {Tr.shape[1]} columns.")
        j %= Tr.shape[1]
        y_train, y_holdout, y_synthetic = column(Tr, j), column(Ho, j), column(Sy, j)
        Tr, Ho, Sy = drop_column(Tr, j), drop_column(Ho, j), drop_column(Sy, j)
    if y_train is None or y_holdout is None:
        raise DataError("Classifier fidelity needs labels for the real rows: pass y_train and y_holdout or label_index.")
    if y_synthetic is None:
        raise DataError("TSTR needs labels for the synthetic rows: pass y_synthetic or label_index.")
    y_train = _labels(y_train, Tr.shape[0], "training")
    y_holdout = _labels(y_holdout, Ho.shape[0], "holdout")
    y_synthetic = _labels(y_synthetic, Sy.shape[0], "synthetic")
    if label_index is not None:  # generated label columns are continuous: snap to the real classes
        real_classes = np.unique(y_train)
        idx = np.abs(y_synthetic[:, None] - real_classes[None, :]).argmin(axis=1)
        y_synthetic = real_classes[idx]
    rng = rng_for(seed)
    tr_rows = sample_rows(Tr.shape[0], max_rows, rng)
    sy_rows = sample_rows(Sy.shape[0], max_rows, rng)
    all_classes = np.unique(np.concatenate([y_train, y_holdout, y_synthetic]))
    out = {}
    for name in models:
        entry = {"reason": ""}
        for key, X, y in (("trtr", Tr[tr_rows], y_train[tr_rows]), ("tstr", Sy[sy_rows], y_synthetic[sy_rows])):
            if len(np.unique(y)) < 2:
                entry[key] = {"auroc": float("nan"), "accuracy": float("nan")}
                entry["reason"] = f"{'real' if key == 'trtr' else 'synthetic'} labels have a single class"
                continue
            classes, proba = fit_predict_proba(name, X, y, Ho, seed)
            entry[key] = _score(classes, proba, y_holdout, all_classes)
        out[name] = entry

    def gap(k):
        return nanmean([m["trtr"][k] - m["tstr"][k] for m in out.values()])

    return ClassifierFidelity(out, all_classes.tolist(), gap("auroc"), gap("accuracy"))
