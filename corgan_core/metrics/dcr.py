"""Distance to closest record (DCR) and nearest-neighbour distance ratio (NNDR).

Each synthetic row's distance to its closest training row is compared with its distance to the
closest holdout row. Train is first cut to a seeded random subset of the holdout's size, because a
bigger reference set is closer by size alone; then a generator that does not memorise puts half of
its rows closer to train (ties count half) and the train and holdout DCR distributions coincide.
NNDR is closest / second-closest distance (1 when both are 0: the row matches several records);
values near 0 mean a synthetic row sits on one particular real record.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import Result
from .neighbours import Neighbours, nearest_neighbours


@dataclass
class DistanceToClosestRecord(Result):
    """Summaries (mean, median, 5th percentile, share at 0) of DCR and NNDR against train
    (``train``: equal-size subset; ``train_full``: all of it) and holdout, the share of synthetic
    rows closer to train than to holdout, and histograms of the DCR for the dashboard."""

    metric: str
    dcr: dict
    nndr: dict
    share_closer_to_train: float
    closer: float
    ties: float
    farther: float
    share_closer_to_full_train: float
    histogram: dict


def _summary(d: np.ndarray) -> dict:
    d = d[np.isfinite(d)]
    if not d.size:
        return {"mean": float("nan"), "median": float("nan"), "p5": float("nan"), "share_zero": float("nan")}
    return {"mean": float(d.mean()), "median": float(np.median(d)), "p5": float(np.percentile(d, 5)),
            "share_zero": float(np.mean(d == 0))}


def nndr(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Closest / second-closest distance, 1 where both are 0, NaN where there is no second."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(d2 > 0, d1 / np.where(d2 > 0, d2, 1), 1.0)
    r[~np.isfinite(d2)] = np.nan
    return r


def _share(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    return float(np.mean(a < b)), float(np.mean(a == b)), float(np.mean(a > b))


def _histogram(metric: str, series: dict, max_bins: int = 30) -> dict:
    allv = np.concatenate([v[np.isfinite(v)] for v in series.values()])
    if metric == "hamming":
        top = int(min(allv.max(initial=0), max_bins))
        edges = np.arange(top + 2, dtype=np.float64)
        edges[-1] = np.inf  # the last bin holds everything from ``top`` up
    else:
        hi = float(np.percentile(allv, 99)) if allv.size else 1.0
        edges = np.linspace(0.0, hi if hi > 0 else 1.0, max_bins + 1)
        edges[-1] = np.inf
    counts = {k: np.histogram(v[np.isfinite(v)], bins=edges)[0].tolist() for k, v in series.items()}
    return {"edges": [float(e) if np.isfinite(e) else None for e in edges], **counts}


def distance_to_closest_record(train, holdout, synthetic, *, kind: str | None = None, seed: int = 0,
                               neighbours: Neighbours | None = None, progress=None) -> DistanceToClosestRecord:
    """DCR and NNDR of synthetic rows against train and holdout (exact, all rows).

    Pass ``neighbours`` from :func:`nearest_neighbours` to reuse distances computed once.
    """
    nn = neighbours or nearest_neighbours(train, holdout, synthetic, kind=kind, seed=seed, progress=progress)
    closer, ties, farther = _share(nn.syn_train_eq, nn.syn_holdout)
    full_c, full_t, _ = _share(nn.syn_train, nn.syn_holdout)
    dcr = {"train": _summary(nn.syn_train_eq), "train_full": _summary(nn.syn_train),
           "holdout": _summary(nn.syn_holdout)}
    ratios = {"train": nndr(nn.syn_train_eq, nn.syn_train_eq_2nd), "train_full": nndr(nn.syn_train, nn.syn_train_2nd),
              "holdout": nndr(nn.syn_holdout, nn.syn_holdout_2nd)}
    hist = _histogram(nn.metric, {"train": nn.syn_train_eq, "holdout": nn.syn_holdout, "train_full": nn.syn_train})
    return DistanceToClosestRecord(nn.metric, dcr, {k: _summary(v) for k, v in ratios.items()},
                                   closer + ties / 2, closer, ties, farther, full_c + full_t / 2, hist)
