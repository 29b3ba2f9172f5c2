"""Membership inference as the corGAN paper defines it.

The attacker holds the synthetic records and a fraction ``r`` of the real records: members drawn
from the training rows and non-members from the holdout rows, mixed at ``member_share``. It calls a
real record "member" when its distance (Hamming for binary data, Euclidean otherwise) to the closest
synthetic record is at most a threshold. Precision near the members' share means no leakage.

``r`` is a share of all real records (train + holdout); when one side runs short both are scaled down
so the stated mix holds, and each grid cell records the numbers actually drawn. The AUROC of the
score ``-distance`` over all training vs all holdout rows summarises each synthetic sample size
without a threshold (with its DeLong 95% interval).

The judged figure is the membership advantage of Yeom et al.: TPR - FPR at the best threshold,
with the attacker holding as many training as holdout patients (a seeded subset of train of the
holdout's size, and the whole holdout: the cell of the grid with the most patients, so the least
noise), at the full synthetic size. Its 95% interval is a seeded bootstrap over those patients
that picks the best threshold again in every replicate, so the choice of threshold is part of the
uncertainty. The precision of the attacker's calls at that threshold is reported beside it.
``verbatim_copy_precision`` is the precision at distance 0 that a verbatim copy of the training
set would reach here (its members all sit at distance 0; so do the holdout rows with an exact twin
in train): a reference point, not an upper bound.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..verdict import clopper_pearson, percentile
from ._common import Result, as_matrix, rng_for, sample_rows
from .bootstrap import DEFAULT_B, auroc_interval, poisson_weights
from .copies import record_uniqueness
from .neighbours import Neighbours, closest_distances, nearest_neighbours

HAMMING_THRESHOLDS = tuple(range(0, 11))
QUANTILES = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)


@dataclass
class MembershipInference(Result):
    """Attack results over the grid ``sizes x fractions x thresholds x seeds``.

    ``grid`` has one row per cell and seed (size, fraction, seed, threshold, members, non_members,
    calls, precision, recall); ``summary`` averages over seeds (``*_mean``, ``*_std``).
    ``auroc[i]`` is for ``sizes[i]``, ``auroc_interval`` the DeLong interval at the full size.
    ``advantage`` is TPR - FPR (Yeom et al.) at ``advantage_threshold`` with the attacker holding
    ``advantage_members`` training and ``advantage_non_members`` holdout patients (a share
    ``advantage_fraction`` of the real records), its bootstrap ``advantage_interval``;
    ``advantage_tpr``, ``advantage_fpr``, ``advantage_precision`` (Clopper-Pearson
    ``advantage_precision_interval``) and ``advantage_calls`` at that threshold; ``per_threshold``
    the same for every threshold. ``verbatim_copy_precision``: the distance-0 precision of a
    verbatim copy of train, given the share of holdout rows with an exact twin in train
    (``holdout_twin_share``), at the grid's members' share.
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
    auroc_interval: list | None
    advantage: float
    advantage_interval: list | None
    advantage_threshold: float | None
    advantage_tpr: float
    advantage_fpr: float
    advantage_precision: float | None
    advantage_precision_interval: list | None
    advantage_calls: int
    advantage_members: int
    advantage_non_members: int
    advantage_fraction: float
    per_threshold: list
    holdout_twin_share: float
    verbatim_copy_precision: float


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
    """AUROC of the score -distance, members against non-members (ties count half)."""
    return auroc_interval(-np.asarray(d_members), -np.asarray(d_non))[0]


def membership_inference(train, holdout, synthetic, *, kind: str | None = None,
                         fractions=(0.05, 0.1, 0.2, 0.4), thresholds=None, sizes=None,
                         member_share: float = 0.5, seeds=(0, 1, 2), neighbours: Neighbours | None = None,
                         progress=None, bootstrap: int = DEFAULT_B) -> MembershipInference:
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
    twin = record_uniqueness(train, holdout, kind=kind).holdout_twin_share
    copy_precision = member_share / (member_share + (1 - member_share) * twin)
    auroc = [_auroc(nn.train_syn[i], nn.holdout_syn[i]) for i in range(len(nn.sizes))]
    _, auroc_ci = auroc_interval(-nn.train_syn[-1], -nn.holdout_syn[-1])
    members = sample_rows(n_train, n_holdout, rng_for(seeds[0]))
    adv = advantage(nn.train_syn[-1][members], nn.holdout_syn[-1], ths, rng_for(seeds[0] + 1), bootstrap)
    return MembershipInference(nn.metric, list(nn.sizes), [float(r) for r in fractions], ths, seeds,
                               float(member_share), grid, summary, auroc, auroc_ci, **adv,
                               advantage_fraction=(len(members) + n_holdout) / (n_train + n_holdout),
                               holdout_twin_share=float(twin), verbatim_copy_precision=float(copy_precision))


def advantage(d_members: np.ndarray, d_non: np.ndarray, thresholds, rng, b: int = DEFAULT_B) -> dict:
    """TPR - FPR of "member when the closest synthetic row is within t" at the best threshold t,
    its bootstrap interval (best t re-picked per replicate), and precision at that t."""
    ths = np.asarray(sorted(float(t) for t in thresholds), dtype=np.float64)
    Im = (d_members[:, None] <= ths[None, :] + 1e-9).astype(np.float32)
    In = (d_non[:, None] <= ths[None, :] + 1e-9).astype(np.float32)
    tpr, fpr = Im.mean(axis=0), In.mean(axis=0)
    gain = tpr - fpr
    best = int(np.argmax(gain))
    Wm, Wn = poisson_weights(len(d_members), b, rng), poisson_weights(len(d_non), b, rng)
    reps = ((Wm @ Im) / np.maximum(Wm.sum(axis=1, keepdims=True), 1)
            - (Wn @ In) / np.maximum(Wn.sum(axis=1, keepdims=True), 1)).max(axis=1)
    tp, fp = int(Im[:, best].sum()), int(In[:, best].sum())
    rows = [{"threshold": float(t), "tpr": float(a), "fpr": float(c), "advantage": float(a - c),
             "precision": float(Im[:, i].sum() / (Im[:, i].sum() + In[:, i].sum())) if Im[:, i].sum() + In[:, i].sum() else None}
            for i, (t, a, c) in enumerate(zip(ths, tpr, fpr))]
    return {"advantage": float(gain[best]), "advantage_interval": percentile(reps, center=float(gain[best])),
            "advantage_threshold": float(ths[best]), "advantage_tpr": float(tpr[best]), "advantage_fpr": float(fpr[best]),
            "advantage_precision": tp / (tp + fp) if tp + fp else None,
            "advantage_precision_interval": list(clopper_pearson(tp, tp + fp)) if tp + fp else None,
            "advantage_calls": tp + fp, "advantage_members": len(d_members), "advantage_non_members": len(d_non),
            "per_threshold": rows}


def membership_auroc(train, holdout, synthetic, *, kind: str | None = None, max_rows: int = 2000,
                     seed: int = 0) -> float:
    """The membership attack's AUROC, quickly (for checkpoints): ``min(max_rows, train, holdout)``
    seeded training and holdout rows each, scored by minus the distance to the closest synthetic
    row (0.5: no signal; ties count half). NaN with fewer than 10 rows a side."""
    T = as_matrix(train, "the training data")
    H = as_matrix(holdout, "the holdout data")
    n = int(min(max_rows, T.shape[0], H.shape[0]))
    if n < 10:
        return float("nan")
    rng = rng_for(seed)
    d_t, _ = closest_distances(T[sample_rows(T.shape[0], n, rng)], synthetic, kind=kind)
    d_h, _ = closest_distances(H[sample_rows(H.shape[0], n, rng)], synthetic, kind=kind)
    return _auroc(d_t, d_h)


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
