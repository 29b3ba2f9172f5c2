"""Verdicts with uncertainty: pass / fail / inconclusive from a value, its interval and a limit.

A check fails only when its whole interval is on the wrong side of the limit and passes only when
the whole interval is on the right side; otherwise it is inconclusive, with the reason. A limit is
absolute, or relative to the real-data ceiling (what the real training rows score against the
holdout) and the independent floor (each code drawn on its own): "closes at least ``share`` of the
floor-to-ceiling gap". Also the JSON helpers (``plain``) and the exact intervals (Wilson, Newcombe,
Clopper-Pearson) that need no data. Imports nothing from the metrics, so both the metrics and the
report can use it.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

DIRECTIONS = ("higher", "lower", "closer-to-chance", "at-most-chance")
"""``higher``/``lower``: better when larger/smaller; ``closer-to-chance``: better near ``chance``
both ways; ``at-most-chance``: only values above ``chance`` are a risk (one-sided)."""
VERDICTS = ("pass", "fail", "inconclusive")
MIN_GAP = 0.02
"""Below this floor-to-ceiling gap the floor already reaches the ceiling; a relative limit is then
``ceiling - (1 - share) * max(|ceiling|, 0.1)`` instead."""
Z95 = 1.959963984540054


def finite(x) -> float | None:
    """``float(x)``, or None when it is NaN/inf (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def plain(obj):
    """JSON-ready copy: dataclasses become dicts, numpy values Python values, NaN/inf become None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return finite(obj)
    return obj


# ---- exact intervals ------------------------------------------------------------------------------
def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / d
    return max(0.0, c - h), min(1.0, c + h)


def newcombe(k1: float, n1: float, k2: float, n2: float, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of the difference ``k1/n1 - k2/n2`` of two proportions."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval of ``k / n``."""
    from scipy.stats import beta

    if n <= 0:
        return 0.0, 1.0
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def percentile(values, level: float = 0.95, center: float | None = None) -> list[float] | None:
    """The central ``level`` percentile interval of bootstrap replicates (NaN ignored).

    With ``center`` (the estimate on the data itself) the interval is moved so that the replicates'
    median sits on it: statistics such as an R² between two noisy share vectors, or a maximum over
    thresholds, are biased in the replicates (resampling adds noise), and an interval that does not
    hold its own estimate would misjudge it.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 10:
        return None
    a = (1 - level) / 2 * 100
    lo, hi = float(np.percentile(v, a)), float(np.percentile(v, 100 - a))
    if center is None or not math.isfinite(center):
        return [lo, hi]
    med = float(np.median(v))
    return [center - (med - lo), center + (hi - med)]


# ---- limits and verdicts ---------------------------------------------------------------------------
def _score(v: float, direction: str, chance: float) -> float:
    """Larger is better, on every direction's scale."""
    if direction == "higher":
        return v
    if direction == "lower":
        return -v
    if direction == "closer-to-chance":
        return -abs(v - chance)
    return -max(v - chance, 0.0)


def _score_range(lo: float, hi: float, direction: str, chance: float) -> tuple[float, float]:
    """The range of :func:`_score` over the interval ``[lo, hi]``."""
    a, b = _score(lo, direction, chance), _score(hi, direction, chance)
    if direction in ("closer-to-chance", "at-most-chance") and lo <= chance <= hi:
        return min(a, b), 0.0
    return min(a, b), max(a, b)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def limit_of(direction: str, threshold, chance, ceiling=None, floor=None, relative: bool = False):
    """``(limit score, sentence)``: where pass turns into fail, on :func:`_score`'s scale.

    Absolute: ``higher`` passes at value >= threshold, ``lower`` at value <= threshold, the chance
    directions at a distance (above) chance <= threshold. Relative (``threshold`` = share of the gap
    closed): ``floor + share * (ceiling - floor)``; None when the ceiling is missing.
    """
    c = 0.5 if chance is None else chance
    if not relative:
        s = {"higher": threshold, "lower": -threshold}.get(direction, -threshold)
        where = {"higher": "", "lower": "", "closer-to-chance": f" either side of {_fmt(c)}"}.get(direction, f" above {_fmt(c)}")
        return s, f"limit {_fmt(threshold)}{where}"
    if ceiling is None:
        return None, "the real-data ceiling is missing"
    sc = _score(ceiling, direction, c)
    sf = _score(floor, direction, c) if floor is not None else None
    if sf is not None and sc - sf >= MIN_GAP:
        return sf + threshold * (sc - sf), (f"limit: {threshold:.0%} of the way from the independent floor "
                                            f"{_fmt(floor)} to the real-data ceiling {_fmt(ceiling)}")
    return sc - (1 - threshold) * max(abs(sc), 0.1), (f"limit: within {(1 - threshold):.0%} of the real-data "
                                                      f"ceiling {_fmt(ceiling)} (the independent floor reaches it)")


def _unscore(s: float, direction: str, chance: float) -> float:
    """A value on the metric's own scale at score ``s`` (the upper side for the chance directions)."""
    if direction == "higher":
        return s
    if direction == "lower":
        return -s
    return chance - s


def judge(value, direction: str, threshold, chance=None, interval=None, ceiling=None, floor=None,
          relative: bool = False, needs: dict | None = None) -> tuple[str | None, float | None, str]:
    """``(verdict, limit on the value's scale, reason)``; verdict None when there is no threshold.

    ``needs`` (``{"have": N, "needs": M, "what": "held-out patients"}``) marks a check that was not
    computable on this data: inconclusive, "not computable: N ..., needs M".
    """
    if needs and needs.get("have", 0) < needs.get("needs", 0):
        return ("inconclusive" if threshold is not None else None, None,
                f"not computable: {needs['have']} {needs.get('what', 'rows')}, needs {needs['needs']}")
    if threshold is None:
        return None, None, ""
    if value is None:
        return "inconclusive", None, "no value could be computed on this data"
    c = 0.5 if chance is None else chance
    if relative and ceiling is not None and _score(ceiling, direction, c) <= 0 and direction == "higher":
        return "inconclusive", None, (f"the real training rows themselves score only {_fmt(ceiling)} against "
                                      f"the holdout: too few rows to judge this figure")
    s_lim, how = limit_of(direction, threshold, chance, ceiling, floor, relative)
    if s_lim is None:
        return "inconclusive", None, how
    limit = _unscore(s_lim, direction, c)
    lo, hi = (value, value) if interval is None or None in interval else interval
    s_lo, s_hi = _score_range(lo, hi, direction, c)
    span = "the value" if interval is None else f"the 95% interval {_fmt(lo)} to {_fmt(hi)}"
    if s_lo >= s_lim:
        return "pass", limit, f"{span} is within the {how}"
    if s_hi < s_lim:
        return "fail", limit, f"{span} is beyond the {how}"
    return "inconclusive", limit, f"{span} straddles the {how}: more patients are needed to decide"


SMALL_TRAIN, SMALL_HOLDOUT = 1000, 200


def size_warning(n_train: int, n_holdout: int) -> str | None:
    """One sentence when the data is too small for firm verdicts, else None (the Data page, the run
    and the report show it)."""
    if n_train >= SMALL_TRAIN and n_holdout >= SMALL_HOLDOUT:
        return None
    return (f"Small data: {n_train:,} training and {n_holdout:,} held-out patients (firm verdicts need about "
            f"{SMALL_TRAIN:,} and {SMALL_HOLDOUT:,}), so intervals are wide and several checks will be inconclusive "
            f"or not computable.")
