"""Quality and risk at a checkpoint: losses alone do not show a collapse, samples do.

A small synthetic sample is compared with the run's held-out rows: per-code frequency R²,
top-K co-occurrence R², codes per patient, share of all-zero and of duplicated rows, and the
membership attack's AUROC (:func:`corgan_core.metrics.membership.membership_auroc`, the same
attack the full report runs). Cheap by design (a few
thousand rows) so it runs at every checkpoint. :data:`MEASURES` names every figure once, for
the Runs table, the CLI and the dashboard's charts.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# key: (label, how to read it); the order is the order tables show them in
MEASURES = {
    "frequency_r2": ("code frequency R²", "1 = perfect"),
    "cooccurrence_r2": ("co-occurrence R²", "1 = perfect"),
    "correlation_r2": ("correlation R²", "1 = perfect"),
    "mi_auroc": ("membership attack AUROC", "0.5 = no leak"),
    "zero_rows": ("all-zero share", "0 = none"),
    "duplicate_rows": ("repeated share", "0 = none"),
    "codes_per_patient": ("synthetic codes per patient", ""),
    "codes_per_patient_real": ("real codes per patient", ""),
}
TABLE_KEYS = ("frequency_r2", "cooccurrence_r2", "correlation_r2", "mi_auroc", "zero_rows", "duplicate_rows")


def title(key: str) -> str:
    """``"Code frequency R² (1 = perfect)"``: a measure's label with how to read it."""
    label, hint = MEASURES.get(key, (key, ""))
    text = label[:1].upper() + label[1:]
    return f"{text} ({hint})" if hint else text


def checkpoint_quality(train, holdout, synthetic, kind: str = "binary", top_k: int = 100,
                       max_rows: int = 2000, seed: int = 0) -> dict:
    """Quick fidelity/degeneracy/risk figures of ``synthetic`` against held-out real rows."""
    # imported here: the names above serve pages that must not pay for scikit-learn
    from ..metrics import cooccurrence, dimension_wise_probability
    from ..metrics.membership import membership_auroc

    rng = np.random.default_rng(seed)

    def sub(X):
        return X[np.sort(rng.choice(X.shape[0], max_rows, replace=False))] if X.shape[0] > max_rows else X

    H = sub(holdout)
    S = np.asarray(synthetic, dtype=np.float32)
    out = {"frequency_r2": float(dimension_wise_probability(H, S, kind=kind).r2)}
    co = cooccurrence(H, S, kind=kind, top_k=top_k)
    out["correlation_r2" if kind == "continuous" else "cooccurrence_r2"] = float(co.r2)
    if kind != "continuous":
        out["codes_per_patient"] = float((S != 0).sum(1).mean())
        out["codes_per_patient_real"] = float(np.diff(sp.csr_matrix(H).indptr).mean())
    out["zero_rows"] = float((np.abs(S).sum(1) == 0).mean())
    out["duplicate_rows"] = float(1.0 - len(np.unique(S, axis=0)) / len(S))
    auroc = membership_auroc(train, holdout, S, kind=kind, max_rows=max_rows, seed=seed)
    if np.isfinite(auroc):  # NaN below 10 rows a side: no figure rather than noise
        out["mi_auroc"] = auroc
    return out


def degenerate(q: dict) -> str | None:
    """A plain-language warning when the samples have collapsed, else None."""
    if q.get("zero_rows", 0) >= 0.9:
        return f"{q['zero_rows']:.0%} of the samples are all-zero patients: the model has collapsed."
    if q.get("duplicate_rows", 0) >= 0.9:
        return f"{q['duplicate_rows']:.0%} of the samples repeat another sample: the model has collapsed to a few patients."
    real, syn = q.get("codes_per_patient_real"), q.get("codes_per_patient")
    if real and syn is not None and not 0.5 * real <= syn <= 1.5 * real:
        return f"Samples have {syn:.1f} codes per patient against {real:.1f} in real patients."
    return None
