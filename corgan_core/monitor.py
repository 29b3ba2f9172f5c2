"""Quality and risk at a checkpoint: losses alone do not show a collapse, samples do.

A small synthetic sample is compared with the run's held-out rows: per-code frequency R²,
top-K co-occurrence R², codes per patient, share of all-zero and of duplicated rows, and a
membership attack AUROC (distance to the closest synthetic row, train vs holdout members).
Cheap by design (a few thousand rows) so it runs at every checkpoint.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _r2(real: np.ndarray, syn: np.ndarray) -> float:
    ss = float(((real - real.mean()) ** 2).sum())
    return float(1.0 - ((real - syn) ** 2).sum() / ss) if ss > 0 else float("nan")


def _dense(X) -> np.ndarray:
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float32)


def _min_dist(A: np.ndarray, B: np.ndarray, binary: bool, block: int = 2048) -> np.ndarray:
    """Distance from each row of A to its closest row of B (Hamming for binary, Euclidean else)."""
    nb = (B * B).sum(1)
    out = np.empty(len(A), np.float32)
    for i in range(0, len(A), block):
        a = A[i:i + block]
        d = (a * a).sum(1)[:, None] + nb[None, :] - 2.0 * a @ B.T
        out[i:i + block] = np.maximum(d.min(1), 0)
    return out if binary else np.sqrt(out)


def _auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(y, np.r_[pos, neg]))


def checkpoint_quality(train, holdout, synthetic, kind: str = "binary", top_k: int = 100,
                       max_rows: int = 2000, seed: int = 0) -> dict:
    """Quick fidelity/degeneracy/risk figures of ``synthetic`` against held-out real rows."""
    rng = np.random.default_rng(seed)

    def sub(X):
        X = _dense(X)
        return X[rng.choice(len(X), max_rows, replace=False)] if len(X) > max_rows else X

    H, T, S = sub(holdout), sub(train), _dense(synthetic)
    # counts are compared as presence; continuous data by its correlations
    present = (lambda X: (X != 0).astype(np.float32)) if kind != "continuous" else (lambda X: X)
    h, s = present(H), present(S)
    fh, fs = h.mean(0), s.mean(0)
    out = {"frequency_r2": _r2(fh, fs)}
    if kind != "continuous":
        idx = np.argsort(-fh, kind="stable")[:top_k]
        ch = (h[:, idx].T @ h[:, idx]) / len(h)
        cs = (s[:, idx].T @ s[:, idx]) / len(s)
        iu = np.triu_indices(len(idx), 1)
        out["cooccurrence_r2"] = _r2(ch[iu], cs[iu])
        out["codes_per_patient"] = float(s.sum(1).mean())
        out["codes_per_patient_real"] = float(h.sum(1).mean())
    else:
        ch, cs = np.corrcoef(h, rowvar=False), np.corrcoef(s, rowvar=False)
        iu = np.triu_indices(ch.shape[0], 1)
        out["correlation_r2"] = _r2(np.nan_to_num(ch[iu]), np.nan_to_num(cs[iu]))
    out["zero_rows"] = float((np.abs(S).sum(1) == 0).mean())
    out["duplicate_rows"] = float(1.0 - len(np.unique(S, axis=0)) / len(S))
    n = min(len(T), len(H))
    if n >= 10:
        Sx = S if kind == "binary" else (S - S.mean(0)) / (S.std(0) + 1e-6)
        Tx = T[:n] if kind == "binary" else (T[:n] - S.mean(0)) / (S.std(0) + 1e-6)
        Hx = H[:n] if kind == "binary" else (H[:n] - S.mean(0)) / (S.std(0) + 1e-6)
        out["mi_auroc"] = _auroc(-_min_dist(Tx, Sx, kind == "binary"), -_min_dist(Hx, Sx, kind == "binary"))
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
