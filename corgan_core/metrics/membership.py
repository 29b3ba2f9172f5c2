"""Membership inference as the corGAN paper defines it.

The attacker holds the synthetic records and a fraction ``r`` of the real records: members drawn
from the training rows and non-members from the holdout rows, mixed at ``member_share``. It calls a
real record "member" when its distance (Hamming for binary data, Euclidean otherwise) to the closest
synthetic record is at most a threshold. Precision near the members' share means no leakage.

``r`` is a share of all real records (train + holdout); when one side runs short both are scaled down
so the stated mix holds, and each grid cell records the numbers actually drawn. The AUROC of the
score ``-distance`` over all training vs all holdout rows summarises each synthetic sample size
without a threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ._common import Result, as_matrix, rng_for
from .copies import record_uniqueness
from .neighbours import Neighbours, nearest_neighbours

HAMMING_THRESHOLDS = tuple(range(0, 11))
QUANTILES = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass
class MembershipInference(Result):
    """Attack results over the grid ``sizes x fractions x thresholds x seeds``.

    ``grid`` has one row per cell and seed (size, fraction, seed, threshold, members, non_members,
    calls, precision, recall); ``summary`` averages over seeds (``*_mean``, ``*_std``).
    ``auroc[i]`` is for ``sizes[i]``. ``advantage`` is the largest mean precision minus the members'
    share at the full sample size and largest fraction (over thresholds with at least 10 calls on
    average), ``advantage_threshold`` where it occurs. ``ceiling_precision`` is the precision at
    distance 0 that even a verbatim copy of the training set reaches, given how many holdout rows
    have an exact twin in train (``holdout_twin_share``).
    """

    metric: str
    sizes: list
    fractions: list
    thresholds: list
    seeds: list
    member_share: float
    grid: list
    summary: list
    auroc: list
    advantage: float
    advantage_threshold: float | None
    holdout_twin_share: float
    ceiling_precision: float


def _draw(n_train: int, n_holdout: int, r: float, share: float, rng) -> tuple[np.ndarray, np.ndarray]:
    pool = max(2, int(round(r * (n_train + n_holdout))))
    n_m = max(1, int(round(share * pool)))
    n_n = max(1, pool - n_m)
    scale = min(1.0, n_train / n_m, n_holdout / n_n)
    n_m, n_n = max(1, int(n_m * scale)), max(1, int(n_n * scale))
    return rng.choice(n_train, n_m, replace=False), rng.choice(n_holdout, n_n, replace=False)


def _default_thresholds(nn: Neighbours) -> list[float]:
    if nn.metric == "hamming":
        return [float(t) for t in HAMMING_THRESHOLDS]
    q = np.quantile(nn.holdout_syn[-1], QUANTILES)
    return sorted({0.0, *(float(x) for x in q)})


def _auroc(d_members: np.ndarray, d_non: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(d_members)), np.zeros(len(d_non))]
    return float(roc_auc_score(y, -np.r_[d_members, d_non]))


def membership_inference(train, holdout, synthetic, *, kind: str | None = None,
                         fractions=(0.05, 0.1, 0.2, 0.4), thresholds=None, sizes=None,
                         member_share: float = 0.5, seeds=(0, 1, 2), neighbours: Neighbours | None = None,
                         progress=None) -> MembershipInference:
    """Run the distance-threshold membership attack over the grid of ``fractions``, ``thresholds``,
    synthetic ``sizes`` (prefixes of ``synthetic``; default: 1,000, 10,000 and all) and ``seeds``.

    Pass ``neighbours`` (from :func:`nearest_neighbours` with the same ``sizes``) to reuse distances.
    """
    if not 0.0 < member_share < 1.0:
        raise DataError(f"The members' share must be strictly between 0 and 1; got {member_share}.")
    if not fractions or any(not 0.0 < float(r) <= 1.0 for r in fractions):
        raise DataError(f"The attacker's fractions r must be in (0, 1]; got {list(fractions)}.")
    for s in seeds:
        rng_for(s)  # an integer, or one sentence
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise DataError("The membership attack needs at least one seed.")
    if neighbours is None:
        synthetic = as_matrix(synthetic, "the synthetic data")
        n_syn = synthetic.shape[0]
        if sizes is None:
            sizes = sorted({min(s, n_syn) for s in (1000, 10000)} | {n_syn})
        neighbours = nearest_neighbours(train, holdout, synthetic, kind=kind, sizes=sizes, progress=progress)
    nn = neighbours
    ths = sorted(float(t) for t in thresholds) if thresholds is not None else _default_thresholds(nn)
    n_train, n_holdout = nn.train_syn.shape[1], nn.holdout_syn.shape[1]
    grid = []
    for si, size in enumerate(nn.sizes):
        for r in fractions:
            for seed in seeds:
                mem, non = _draw(n_train, n_holdout, float(r), member_share, rng_for(seed))
                dm = np.sort(nn.train_syn[si][mem])
                dn = np.sort(nn.holdout_syn[si][non])
                for t in ths:
                    tp = int(np.searchsorted(dm, t + 1e-9, side="right"))
                    fp = int(np.searchsorted(dn, t + 1e-9, side="right"))
                    grid.append({"size": int(size), "fraction": float(r), "seed": seed, "threshold": t,
                                 "members": len(mem), "non_members": len(non), "calls": tp + fp,
                                 "precision": tp / (tp + fp) if tp + fp else float("nan"),
                                 "recall": tp / len(mem)})
    summary = _summarise(grid)
    top = [s for s in summary if s["size"] == nn.sizes[-1] and s["fraction"] == float(max(fractions))
           and s["calls_mean"] >= 10]
    adv = [(s["precision_mean"] - s["members_share"], s["threshold"]) for s in top if np.isfinite(s["precision_mean"])]
    best = max(adv) if adv else (float("nan"), None)
    twin = record_uniqueness(train, holdout, kind=kind).holdout_twin_share
    ceiling = member_share / (member_share + (1 - member_share) * twin)
    auroc = [_auroc(nn.train_syn[i], nn.holdout_syn[i]) for i in range(len(nn.sizes))]
    return MembershipInference(nn.metric, list(nn.sizes), [float(r) for r in fractions], ths, seeds,
                               float(member_share), grid, summary, auroc, float(best[0]), best[1],
                               float(twin), float(ceiling))


def _summarise(grid: list) -> list:
    """Mean and standard deviation over seeds for each (size, fraction, threshold)."""
    cells: dict = {}
    for g in grid:
        cells.setdefault((g["size"], g["fraction"], g["threshold"]), []).append(g)
    out = []
    for (size, r, t), rows in cells.items():
        p = np.array([x["precision"] for x in rows], dtype=np.float64)
        rec = np.array([x["recall"] for x in rows], dtype=np.float64)
        pf = p[np.isfinite(p)]
        out.append({"size": size, "fraction": r, "threshold": t,
                    "members_share": float(np.mean([x["members"] / (x["members"] + x["non_members"]) for x in rows])),
                    "calls_mean": float(np.mean([x["calls"] for x in rows])),
                    "precision_mean": float(pf.mean()) if pf.size else float("nan"),
                    "precision_std": float(pf.std()) if pf.size else float("nan"),
                    "recall_mean": float(rec.mean()), "recall_std": float(rec.std())})
    return out
