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
from ..verdict import percentile, wilson
from ._common import Result, as_matrix, check_same_columns, column, drop_column, nanmean, rng_for, sample_rows
from .bootstrap import DEFAULT_B, auroc_interval

MODELS = ("logistic", "random_forest", "gradient_boosting")


@dataclass
class ClassifierFidelity(Result):
    """Per model: ``{"trtr": {"auroc", "auroc_interval", "accuracy", "accuracy_interval"}, "tstr":
    {...}, "reason"}`` (95% intervals: DeLong for a binary AUROC, else a bootstrap over holdout rows;
    Wilson for accuracy). The gaps average ``TRTR - TSTR`` over models where both exist (lower is
    better), with paired bootstrap intervals over the holdout rows."""

    models: dict
    classes: list
    auroc_gap: float
    accuracy_gap: float
    auroc_gap_interval: list | None = None
    accuracy_gap_interval: list | None = None


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


def _full(classes, proba, all_classes) -> np.ndarray:
    """Probabilities over ``all_classes`` (a class the model never saw gets 0)."""
    full = np.zeros((proba.shape[0], len(all_classes)))
    for i, c in enumerate(classes):
        full[:, int(np.searchsorted(all_classes, c))] = proba[:, i]
    return full


def _auroc(y_test, full, all_classes) -> float:
    """Binary AUROC of the second class, or the one-vs-rest mean over the classes present."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(y_test)
    if len(present) < 2:
        return float("nan")
    if len(all_classes) == 2:
        return float(roc_auc_score(y_test == all_classes[1], full[:, 1]))
    keep = np.isin(all_classes, present)
    p = full[:, keep]
    p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    return float(roc_auc_score(y_test, p, multi_class="ovr", labels=all_classes[keep]))


def _score(full, y_test, all_classes) -> dict:
    """AUROC and accuracy on the holdout with 95% intervals: DeLong for a binary AUROC (the
    multi-class one gets its bootstrap interval in :func:`_bootstrap`), Wilson for accuracy."""
    right = all_classes[full.argmax(axis=1)] == y_test
    auc, interval = _auroc(y_test, full, all_classes), None
    if len(all_classes) == 2 and np.isfinite(auc):
        pos = y_test == all_classes[1]
        interval = auroc_interval(full[pos, 1], full[~pos, 1])[1]
    return {"auroc": auc, "auroc_interval": interval, "accuracy": float(right.mean()),
            "accuracy_interval": list(wilson(float(right.sum()), len(right)))}


def _bootstrap(fits: dict, out: dict, y_test, all_classes, b: int, seed: int) -> tuple:
    """Intervals of the mean TRTR - TSTR gaps (AUROC, accuracy), from ``b`` resamples of the holdout
    rows shared by every model and both sides (TRTR and TSTR are scored on the same rows, so their
    difference is far less uncertain than either); multi-class AUROCs get their interval here too."""
    rng = rng_for(seed + 1)
    n, auc_gaps, acc_gaps = len(y_test), [], []
    reps = {(m, k): [] for m in fits for k in fits[m]}
    for _ in range(b):
        i = rng.integers(0, n, n)
        y = y_test[i]
        auc = {mk: _auroc(y, full[i], all_classes) for mk, full in
               (((m, k), fits[m][k]) for m in fits for k in fits[m])}
        for mk, v in auc.items():
            reps[mk].append(v)
        both = [m for m in fits if len(fits[m]) == 2]
        if both:
            auc_gaps.append(np.nanmean([auc[(m, "trtr")] - auc[(m, "tstr")] for m in both]))
            acc_gaps.append(np.mean([(all_classes[fits[m]["trtr"][i].argmax(1)] == y).mean()
                                     - (all_classes[fits[m]["tstr"][i].argmax(1)] == y).mean() for m in both]))
    for (m, k), v in reps.items():
        if out[m][k]["auroc_interval"] is None:
            out[m][k]["auroc_interval"] = percentile(v, center=out[m][k]["auroc"])
    return auc_gaps, acc_gaps


def classifier_fidelity(train, holdout, synthetic, *, y_train=None, y_holdout=None, y_synthetic=None,
                        label_index: int | None = None, models=MODELS, seed: int = 0,
                        max_rows: int | None = None, bootstrap: int = DEFAULT_B,
                        real: ClassifierFidelity | None = None) -> ClassifierFidelity:
    """TRTR vs TSTR AUROC and accuracy on the holdout, with 95% intervals, for each classifier in ``models``.

    Give either the three label arrays or ``label_index`` (a column of each matrix holding the label).
    ``max_rows`` caps (seeded sample) the rows each model trains on; ``bootstrap`` is the number of
    holdout resamples behind the gap intervals (0 = none). ``real``: the result of an earlier call on
    the same real rows and seed, whose TRTR models are reused instead of refitted (a benchmark
    scoring several synthetic sets).
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
    out, fits = {}, {}
    for name in models:
        entry, fits[name] = {"reason": ""}, {}
        for key, X, y in (("trtr", Tr[tr_rows], y_train[tr_rows]), ("tstr", Sy[sy_rows], y_synthetic[sy_rows])):
            if key == "trtr" and real is not None and "trtr" in real.fits_.get(name, {}) and list(real.classes) == all_classes.tolist():
                fits[name][key], entry[key] = real.fits_[name]["trtr"], dict(real.models[name]["trtr"])
                continue
            if len(np.unique(y)) < 2:
                entry[key] = {"auroc": float("nan"), "auroc_interval": None, "accuracy": float("nan"),
                              "accuracy_interval": None}
                entry["reason"] = f"{'real' if key == 'trtr' else 'synthetic'} labels have a single class"
                continue
            classes, proba = fit_predict_proba(name, X, y, Ho, seed)
            fits[name][key] = _full(classes, proba, all_classes)
            entry[key] = _score(fits[name][key], y_holdout, all_classes)
        out[name] = entry
    auc_gaps, acc_gaps = _bootstrap(fits, out, y_holdout, all_classes, int(bootstrap), seed)

    def gap(k):
        return nanmean([m["trtr"][k] - m["tstr"][k] for m in out.values()])

    res = ClassifierFidelity(out, all_classes.tolist(), gap("auroc"), gap("accuracy"),
                             percentile(auc_gaps, center=gap("auroc")), percentile(acc_gaps, center=gap("accuracy")))
    res.fits_ = fits  # holdout probabilities, for ``real=`` (not part of the result's dict)
    return res
