"""How the model benchmark scores one synthetic sample of Diabetes 130-US (see bench_models.py).

The project's metrics (:mod:`corgan_core.metrics`) when they are importable, else the plain-numpy
versions here (so that the scoring also runs beside a checkout without them).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "diabetes-130-us" / "dataset_diabetes.zip").resolve()
N_SAMPLES = 10_000


def r2(a, b) -> float:
    """Squared Pearson correlation (the medGAN/corGAN scatter's R^2); 0 when either side is constant."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1] ** 2)


def frequency_r2(real: np.ndarray, syn: np.ndarray) -> float:
    return r2((real > 0).mean(0), (syn > 0).mean(0))


def cooccurrence_r2(real: np.ndarray, syn: np.ndarray, top: int = 100) -> float:
    """R^2 of the pairwise co-occurrence rates of the ``top`` most frequent real codes (off-diagonal)."""
    rb, sb = (real > 0).astype(np.float32), (syn > 0).astype(np.float32)
    idx = np.argsort(-rb.mean(0), kind="stable")[: min(top, rb.shape[1])]
    R = rb[:, idx].T @ rb[:, idx] / len(rb)
    S = sb[:, idx].T @ sb[:, idx] / len(sb)
    iu = np.triu_indices(len(idx), 1)
    return r2(R[iu], S[iu])


def min_hamming(queries: np.ndarray, refs: np.ndarray, block: int = 2048) -> np.ndarray:
    """Hamming distance of each binary query row to its closest reference row (|a|+|b|-2ab, blocked)."""
    q, r = (queries > 0).astype(np.float32), (refs > 0).astype(np.float32)
    rn = r.sum(1)
    out = np.empty(len(q), np.float32)
    for i in range(0, len(q), block):
        qb = q[i:i + block]
        d = qb.sum(1)[:, None] + rn[None, :] - 2.0 * (qb @ r.T)
        out[i:i + block] = d.min(1)
    return out


def membership_auroc(members: np.ndarray, non_members: np.ndarray, syn: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    score = -np.concatenate([min_hamming(members, syn), min_hamming(non_members, syn)])
    y = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    return float(roc_auc_score(y, score))


def evaluate(syn: np.ndarray, train: np.ndarray, holdout: np.ndarray, seed: int = 0) -> dict:
    """The table's columns for one synthetic sample. Uses the project's metrics
    (:mod:`corgan_core.metrics`: R^2 = coefficient of determination of synthetic vs real) when they
    are importable, else the plain-numpy versions above (R^2 = squared Pearson correlation)."""
    rng = np.random.default_rng(seed)
    members = train[rng.choice(len(train), min(N_SAMPLES, len(train)), replace=False)]
    non_members = holdout[rng.choice(len(holdout), min(N_SAMPLES, len(holdout)), replace=False)]
    cpp = (syn > 0).sum(1)
    out = {
        "codes_per_patient": float(cpp.mean()),
        "codes_per_patient_real": float((holdout > 0).sum(1).mean()),
        "all_zero_rows": float((cpp == 0).mean()),
        "distinct_rows": int(len(np.unique(syn, axis=0))),
    }
    try:
        from corgan_core.metrics.cooccurrence import cooccurrence
        from corgan_core.metrics.frequency import dimension_wise_probability
        from corgan_core.metrics.membership import membership_inference
    except ImportError:
        out.update(freq_r2=frequency_r2(holdout, syn), cooc_r2=cooccurrence_r2(holdout, syn),
                   mi_auroc=membership_auroc(members, non_members, syn), metrics="numpy")
        return out
    mi = membership_inference(members, non_members, syn, kind="binary", sizes=[len(syn)],
                              fractions=(0.1,), seeds=(seed,))
    out.update(freq_r2=dimension_wise_probability(holdout, syn, kind="binary").r2,
               cooc_r2=cooccurrence(holdout, syn, kind="binary", top_k=100).r2,
               mi_auroc=float(mi.auroc[0]), metrics="corgan_core.metrics")
    return out


def load_split(seed: int = 0):
    from corgan_core.data import load, split

    ds = load(str(DATA), patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3")
    sp = split(ds, 0.2, seed=seed)
    X = ds.dense()
    return X[sp.train], X[sp.holdout]
