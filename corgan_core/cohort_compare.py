"""Does a cohort look the same in synthetic patients as in real held-out patients?

:func:`compare` applies one :class:`~corgan_core.cohort.CohortDefinition` to real rows (the run's
HOLDOUT, never trained on) and to synthetic rows and reports, side by side:

- the cohort's size as a share of patients with a Wilson interval, and the synthetic/real ratio of
  shares with a Katz log interval; the verdict is ``pass`` when that interval lies inside
  ``[1/tolerance, tolerance]``, ``fail`` when it lies wholly outside, ``inconclusive`` otherwise;
- codes per patient inside the cohort (mean with an interval, and a histogram); for a continuous
  table, the values of the first column the definition names instead;
- every code's prevalence inside the cohort (for the real-vs-synthetic scatter) and the codes most
  associated with the cohort: prevalence inside and outside, lift (inside / outside) and the odds
  ratio (Haldane-corrected, Woolf interval). Continuous columns report means instead.

Small cells: real data appears only as aggregates over at least ``k`` patients. A real count is
suppressed when it, or its complement within its group, is between 1 and k-1 (so a share cannot be
turned back into a small count); a real cohort below ``k`` hides every real figure of the cohort.
Synthetic figures are never suppressed. Everything here is exact (no resampling), so the same
inputs give the same numbers. The sentences and the table come from :mod:`.cohort_text`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm

from .cohort import CohortDefinition, apply
from .cohort_text import detail, sentence
from .errors import ConfigError


def _opt(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class CohortSettings:
    """How a cohort comparison is computed and shown (CLI options and the page's form)."""

    k: int = _opt(10, "Smallest number of real patients behind any figure shown; smaller cells are suppressed.")
    confidence: float = _opt(0.95, "Confidence level of every interval.")
    top: int = _opt(15, "Number of codes most associated with the cohort to list.")
    tolerance: float = _opt(1.25, "The synthetic cohort counts as close when its share is within this factor of the real share.")

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ConfigError(f"The small-cell threshold k must be a whole number of at least 1; got {self.k!r}.")
        if not 0.5 <= float(self.confidence) < 1.0:
            raise ConfigError(f"The confidence level must be at least 0.5 and below 1; got {self.confidence}.")
        if int(self.top) < 1:
            raise ConfigError(f"The number of associated codes to list must be at least 1; got {self.top}.")
        if not float(self.tolerance) > 1.0:
            raise ConfigError(f"The tolerance must be a factor above 1 (e.g. 1.25); got {self.tolerance}.")


# ---- interval maths ---------------------------------------------------------------------------
def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(x, n, confidence: float = 0.95):
    """Wilson score interval of the share ``x / n`` (vectorised; NaN where ``n`` is 0)."""
    x, n = np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64)
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def share_ratio(x1, n1, x2, n2, confidence: float = 0.95):
    """Ratio of shares ``(x1/n1) / (x2/n2)`` with a Katz log interval (0.5 added to zero counts)."""
    if n1 == 0 or n2 == 0 or (x1 == 0 and x2 == 0):  # two empty cohorts have no ratio
        return float("nan"), float("nan"), float("nan")
    x1, x2 = (x + 0.5 if x == 0 else x for x in (x1, x2))
    r = (x1 / n1) / (x2 / n2)
    se = np.sqrt(max(1 / x1 - 1 / n1, 0) + max(1 / x2 - 1 / n2, 0))
    z = _z(confidence)
    return float(r), float(r * np.exp(-z * se)), float(r * np.exp(z * se))


def odds_ratio(a, b, c, d, confidence: float = 0.95):
    """Odds ratio of a 2x2 table (a, b: cohort with / without the code; c, d: outside), Haldane
    corrected (0.5 added to every cell), with a Woolf interval; vectorised."""
    a, b, c, d = (np.asarray(v, dtype=np.float64) + 0.5 for v in (a, b, c, d))
    lor = np.log(a * d / (b * c))
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = _z(confidence)
    return np.exp(lor), np.exp(lor - z * se), np.exp(lor + z * se)


def suppressed(count, total, k: int):
    """True where a real count (or its complement ``total - count``) is between 1 and k-1."""
    count, total = np.asarray(count), np.asarray(total)
    rest = total - count
    return ((count > 0) & (count < k)) | ((rest > 0) & (rest < k))


def verdict(low: float, high: float, tolerance: float) -> str:
    """pass inside ``[1/t, t]``, fail wholly outside it, inconclusive otherwise."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if low >= 1 / tolerance and high <= tolerance:
        return "pass"
    if high < 1 / tolerance or low > tolerance:
        return "fail"
    return "inconclusive"


# ---- per-group summaries ----------------------------------------------------------------------
def _present(X) -> np.ndarray:
    """Patients with a non-zero value, per column."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        return np.bincount(X.indices[X.data != 0], minlength=X.shape[1]).astype(np.int64)
    return np.count_nonzero(np.asarray(X), axis=0).astype(np.int64)


def _profile(X, mask, kind: str, column: int | None) -> np.ndarray:
    """Codes per patient (binary/count) or the named column's values (continuous), inside the cohort."""
    rows = X[mask]
    if kind == "continuous":
        v = rows[:, column]
        return (v.toarray().ravel() if sp.issparse(v) else np.asarray(v).ravel()).astype(np.float64)
    return (np.diff(sp.csr_matrix(rows).indptr) if sp.issparse(rows) else np.count_nonzero(rows, axis=1)).astype(np.float64)


def _column_means(X) -> np.ndarray:
    return np.asarray(X.mean(axis=0), dtype=np.float64).ravel() if X.shape[0] else np.full(X.shape[1], np.nan)


def _group(X, mask, kind, cs: CohortSettings, real: bool, column):
    n, m = X.shape[0], int(mask.sum())
    lo, hi = wilson(m, n, cs.confidence)
    hidden = real and bool(suppressed(m, n, cs.k))
    size = {"patients": n, "members": None if hidden else m, "share": None if hidden else m / n,
            "low": None if hidden else float(lo), "high": None if hidden else float(hi), "suppressed": hidden}
    inside, outside = X[mask], X[~mask]
    prof = _profile(X, mask, kind, column)
    z = _z(cs.confidence)
    mean = float(prof.mean()) if prof.size else float("nan")
    half = z * float(prof.std(ddof=1)) / np.sqrt(prof.size) if prof.size > 1 else float("nan")
    g = {"size": size, "n_in": m, "hidden": hidden or (real and m < cs.k),
         "profile": prof, "profile_mean": mean, "profile_low": mean - half, "profile_high": mean + half}
    if kind == "continuous":
        g["mean_in"], g["mean_out"] = _column_means(inside), _column_means(outside)
    else:
        g["a"], g["c"] = _present(inside), _present(outside)
        g["n_out"] = n - m
    return g


def _histogram(values: np.ndarray, edges: np.ndarray, k: int | None) -> list[int | None]:
    counts, _ = np.histogram(values, bins=edges)
    if k is None:
        return [int(c) for c in counts]
    return [None if 0 < c < k else int(c) for c in counts]


def _num(v):
    return None if v is None or not np.isfinite(v) else float(v)


def compare(defn: CohortDefinition, real, synthetic, codes, *, titles: dict | None = None,
            kind: str = "binary", settings: CohortSettings = CohortSettings(),
            where: str = "the real held-out patients") -> dict:
    """The cohort in ``real`` (held-out rows) against ``synthetic`` rows; a JSON-ready dict.

    Keys: ``definition``, ``settings``, ``description``, ``real`` / ``synthetic`` (cohort size with
    interval), ``ratio`` (synthetic/real share with interval), ``verdict``, ``sentence``, ``profile``
    (mean and histogram of codes per patient, or of a column's values), ``codes`` (the most
    associated codes, real and synthetic side by side), ``prevalence`` (every code inside the cohort,
    for the scatter), ``suppressed_cells``, ``notes`` and ``detail`` (a sentence on associations and
    codes per patient inside the cohort).
    """
    titles = titles or {}
    cs = settings
    cols = defn.columns()
    first = codes.index(cols[0]) if (kind == "continuous" and cols) else 0
    rmask = apply(defn, real, codes, where)
    smask = apply(defn, synthetic, codes, "the synthetic patients")
    R = _group(real, rmask, kind, cs, True, first)
    S = _group(synthetic, smask, kind, cs, False, first)
    notes: list[str] = []
    n_supp = 0
    if R["size"]["suppressed"]:
        n_supp += 1
        ratio = (float("nan"),) * 3
    else:
        ratio = share_ratio(S["n_in"], synthetic.shape[0], R["n_in"], real.shape[0], cs.confidence)
    v = verdict(ratio[1], ratio[2], cs.tolerance)
    if R["hidden"]:
        notes.append(f"The real cohort has fewer than {cs.k} patients, so none of its figures are shown.")

    # profile histogram on common edges
    both = np.concatenate([R["profile"], S["profile"]])
    if kind == "continuous":
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, 21)
    else:
        top = int(min(both.max() if both.size else 1, 40))
        edges = np.arange(0, top + 2) - 0.5
    rh = _histogram(R["profile"], edges, cs.k) if not R["hidden"] else [None] * (len(edges) - 1)
    n_supp += sum(h is None for h in rh) - (len(rh) if R["hidden"] else 0)
    profile = {"what": f"values of {codes[first]}" if kind == "continuous" else "codes per patient",
               "edges": [float(e) for e in edges],
               "real": {"mean": None if R["hidden"] else _num(R["profile_mean"]),
                        "low": None if R["hidden"] else _num(R["profile_low"]),
                        "high": None if R["hidden"] else _num(R["profile_high"]), "histogram": rh},
               "synthetic": {"mean": _num(S["profile_mean"]), "low": _num(S["profile_low"]),
                             "high": _num(S["profile_high"]), "histogram": _histogram(S["profile"], edges, None)}}

    rows, prevalence = _codes_table(R, S, codes, titles, kind, cs, set(cols))
    n_supp += sum(1 for p in prevalence if p["suppressed"])
    if n_supp:
        notes.append(f"{n_supp} real figure(s) rest on fewer than {cs.k} patients and are suppressed.")
    out = {"definition": defn.to_dict(), "settings": asdict(cs), "kind": kind,
           "description": defn.describe(titles),
           "real": R["size"], "synthetic": S["size"],
           "ratio": {"value": _num(ratio[0]), "low": _num(ratio[1]), "high": _num(ratio[2])},
           "verdict": v, "profile": profile, "codes": rows, "prevalence": prevalence,
           "suppressed_cells": int(n_supp), "notes": notes}
    out["sentence"] = sentence(out)
    out["detail"] = detail(out)
    return out



def _codes_table(R, S, codes, titles, kind, cs: CohortSettings, named: set):
    """(most associated codes, within-cohort prevalence of every code) with real cells suppressed."""
    k, conf = cs.k, cs.confidence
    if kind == "continuous":
        r_in, s_in = R["mean_in"], S["mean_in"]
        r_out, s_out = R["mean_out"], S["mean_out"]
        hide = np.full(len(codes), R["hidden"])
        score = np.abs(r_in - r_out) if not R["hidden"] else np.abs(s_in - s_out)
    else:
        r_in = R["a"] / R["n_in"] if R["n_in"] else np.zeros(len(codes))
        s_in = S["a"] / S["n_in"] if S["n_in"] else np.zeros(len(codes))
        r_out = R["c"] / R["n_out"] if R["n_out"] else np.zeros(len(codes))
        s_out = S["c"] / S["n_out"] if S["n_out"] else np.zeros(len(codes))
        hide = R["hidden"] | suppressed(R["a"], R["n_in"], k) | suppressed(R["c"], R["n_out"], k)
        r_or, r_or_lo, r_or_hi = odds_ratio(R["a"], R["n_in"] - R["a"], R["c"], R["n_out"] - R["c"], conf)
        s_or, s_or_lo, s_or_hi = odds_ratio(S["a"], S["n_in"] - S["a"], S["c"], S["n_out"] - S["c"], conf)
        r_lo, r_hi = wilson(R["a"], R["n_in"], conf)
        s_lo, s_hi = wilson(S["a"], S["n_in"], conf)
        # rank by the interval's lower end: a large odds ratio on a handful of patients is not evidence
        score = np.where(hide, -np.inf, np.log(r_or_lo)) if not R["hidden"] else np.log(s_or_lo)
    prevalence, rows = [], []
    for j, c in enumerate(codes):
        present = (r_in[j] != 0 or s_in[j] != 0) if kind != "continuous" else True
        if present:
            prevalence.append({"code": c, "title": titles.get(c, ""), "named": c in named,
                               "real": None if hide[j] else float(r_in[j]), "synthetic": float(s_in[j]),
                               "suppressed": bool(hide[j])})
    ranked_by = S if R["hidden"] else R
    order = [j for j in np.argsort(-score, kind="stable") if codes[j] not in named and np.isfinite(score[j])]
    if ranked_by["n_in"] == 0:  # an empty cohort has no associated codes (only 0.5-corrected noise)
        order = []
    for j in order[: cs.top]:
        h = bool(hide[j])
        row = {"code": codes[j], "title": titles.get(codes[j], ""), "suppressed": h,
               "real_in": None if h else float(r_in[j]), "real_out": None if h else float(r_out[j]),
               "synthetic_in": float(s_in[j]), "synthetic_out": float(s_out[j])}
        if kind != "continuous":
            row.update(real_in_low=None if h else float(r_lo[j]), real_in_high=None if h else float(r_hi[j]),
                       synthetic_in_low=float(s_lo[j]), synthetic_in_high=float(s_hi[j]),
                       real_lift=None if h or r_out[j] == 0 else float(r_in[j] / r_out[j]),
                       synthetic_lift=None if s_out[j] == 0 else float(s_in[j] / s_out[j]),
                       real_or=None if h else float(r_or[j]), real_or_low=None if h else float(r_or_lo[j]),
                       real_or_high=None if h else float(r_or_hi[j]), synthetic_or=float(s_or[j]),
                       synthetic_or_low=float(s_or_lo[j]), synthetic_or_high=float(s_or_hi[j]))
        rows.append(row)
    return rows, prevalence
