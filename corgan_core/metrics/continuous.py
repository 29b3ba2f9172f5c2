"""Fidelity of continuous rows (e.g. EEG segments), measured so that the numbers mean something.

Per-column means are a poor test here: Epileptic Seizure's 178 column means all lie within about
2 units of each other while each column's standard deviation is about 165, so an R² over means is
ill-conditioned. Instead, pure functions on dense arrays:

- :func:`column_distances`: per column, the Wasserstein-1 distance between the real and the
  synthetic values divided by the real column's standard deviation (0 = same distribution; 1 = off
  by a typical deviation), and the two-sample Kolmogorov-Smirnov statistic (scale-free); mean and
  worst column of each.
- :func:`correlation_mad`: mean absolute difference of the pairwise (rank) correlations (upper
  triangle), with a bootstrap interval.
- :func:`power_spectrum`: for signal-like rows, the mean power spectrum per class (|rFFT|² of each
  row, averaged), and :func:`spectrum_distance` between a real and a synthetic spectrum (mean
  absolute difference of log10 power).
- :func:`continuous_fidelity` puts them together against holdout rows, with the same numbers for
  a baseline (e.g. the independent sampler) and for real train vs holdout (the sampling floor).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ..errors import DataError
from ._common import Result, as_matrix, check_same_columns, rng_for, to_dense


def _dense(X, name: str) -> np.ndarray:
    return to_dense(as_matrix(X, name), np.float64)


def _w1_ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Exact Wasserstein-1 distance and KS statistic between two samples (their empirical CDFs)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(a, grid[:-1], side="right") / len(a)
    fb = np.searchsorted(b, grid[:-1], side="right") / len(b)
    gap = np.abs(fa - fb)
    return float(np.sum(gap * np.diff(grid))), float(gap.max(initial=0.0))


def column_distances(real, synthetic) -> dict:
    """Per-column scaled Wasserstein-1 and KS statistic, with their mean and worst column."""
    R, S = _dense(real, "the real data"), _dense(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    spread = R.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    pairs = np.array([_w1_ks(R[:, j], S[:, j]) for j in range(R.shape[1])])
    w, ks = pairs[:, 0] / spread, pairs[:, 1]
    return {"wasserstein_mean": float(w.mean()), "wasserstein_worst": float(w.max()),
            "wasserstein_worst_column": int(w.argmax()), "ks_mean": float(ks.mean()),
            "ks_worst": float(ks.max()), "ks_worst_column": int(ks.argmax()),
            "wasserstein": w.tolist(), "ks": ks.tolist()}


def _corr(X: np.ndarray) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    sd = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    with threadpool_limits(limits=1):  # BLAS threads spin on a small shared machine
        return (Z.T @ Z) / len(X)


def correlation_mad(real, synthetic, *, method: str = "spearman", bootstrap: int = 50, seed: int = 0) -> dict:
    """Mean |corr_real - corr_synthetic| over column pairs, and an approximate 95% interval.

    ``spearman`` (the default) correlates ranks: EEG-like columns are heavy-tailed (a few seizure
    rows have amplitudes many deviations out), so Pearson correlations of two real samples already
    differ by about half the independent sampler's difference, and no model could be told apart
    from that floor. ``pearson`` is available. The interval resamples rows of both sets (ranks are
    taken once, on the full sets)."""
    from scipy.stats import rankdata

    R, S = _dense(real, "the real data"), _dense(synthetic, "the synthetic data")
    check_same_columns(R, "the real data", (S, "the synthetic data"))
    if R.shape[1] < 2:
        raise DataError("The correlation-matrix difference needs at least 2 columns.")
    if method not in ("spearman", "pearson"):
        raise DataError(f"Unknown correlation method {method!r}; use spearman or pearson.")
    if method == "spearman":
        R, S = rankdata(R, axis=0), rankdata(S, axis=0)
    iu = np.triu_indices(R.shape[1], 1)

    def mad(a, b):
        return float(np.abs(_corr(a)[iu] - _corr(b)[iu]).mean())

    rng = rng_for(seed)
    boots = [mad(R[rng.integers(0, len(R), len(R))], S[rng.integers(0, len(S), len(S))]) for _ in range(bootstrap)]
    value = mad(R, S)
    # resampling adds noise, which can only raise a mean absolute difference: the percentiles sit
    # above the value, so the interval is the value +- 1.96 bootstrap standard deviations
    sd = float(np.std(boots)) if boots else float("nan")
    return {"value": value, "low": max(0.0, value - 1.96 * sd), "high": value + 1.96 * sd, "method": method}


def power_spectrum(X, labels=None) -> dict:
    """Mean power spectrum of the rows (each row a signal): ``{"frequency": bins, "classes":
    {class: mean |rFFT|² per bin}}``; one entry ``"all"`` without labels."""
    R = _dense(X, "the data")
    P = np.abs(np.fft.rfft(R - R.mean(axis=1, keepdims=True), axis=1)) ** 2 / R.shape[1]
    out = {"all": P.mean(axis=0).tolist()}
    if labels is not None:
        y = np.asarray(labels).ravel()
        if len(y) != len(R):
            raise DataError(f"The labels have {len(y)} values for {len(R)} rows.")
        for c in np.unique(y):
            out[_key(c)] = P[y == c].mean(axis=0).tolist()
    return {"frequency": np.fft.rfftfreq(R.shape[1]).tolist(), "classes": out}


def _key(c) -> str:
    f = float(c)
    return str(int(f)) if f.is_integer() else str(c)


def spectrum_distance(a, b) -> float:
    """Mean absolute difference of log10 power between two spectra (0 = the same shape and level)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    tiny = 1e-12 * max(a.max(), b.max(), 1e-12)
    return float(np.abs(np.log10(a + tiny) - np.log10(b + tiny)).mean())


@dataclass
class ContinuousFidelity(Result):
    """Scaled column distances, correlation difference and spectra of synthetic vs real rows; the
    same for the baseline and for real train vs holdout (``floor``) where given."""

    synthetic: dict
    baseline: dict | None
    floor: dict | None
    spectra: dict


def _summary(R, S, labels_r, labels_s, seed, bootstrap: int = 0) -> dict:
    cols = column_distances(R, S)
    out = {k: v for k, v in cols.items() if k not in ("wasserstein", "ks")}
    out["per_column"] = {"wasserstein": cols["wasserstein"], "ks": cols["ks"]}
    out["correlation_mad"] = correlation_mad(R, S, bootstrap=bootstrap, seed=seed)
    real, syn = power_spectrum(R, labels_r), power_spectrum(S, labels_s)
    out["spectrum_distance"] = {k: spectrum_distance(real["classes"][k], syn["classes"][k])
                                for k in real["classes"] if k in syn["classes"]}
    return out


def continuous_fidelity(holdout, synthetic, *, baseline=None, train=None, y_holdout=None, y_synthetic=None,
                        y_baseline=None, y_train=None, seed: int = 0) -> ContinuousFidelity:
    """Continuous fidelity of ``synthetic`` against real ``holdout`` rows (labels optional, for
    the per-class spectra); ``baseline`` and ``train`` (the floor) are scored the same way."""
    Ho = _dense(holdout, "the holdout data")
    Sy = _dense(synthetic, "the synthetic data")
    syn = _summary(Ho, Sy, y_holdout, y_synthetic, seed, bootstrap=50)  # the references need no interval
    base = None if baseline is None else _summary(Ho, _dense(baseline, "the baseline data"), y_holdout, y_baseline, seed)
    floor = None if train is None else _summary(Ho, _dense(train, "the training data"), y_holdout, y_train, seed)
    spectra = {"real": power_spectrum(Ho, y_holdout), "synthetic": power_spectrum(Sy, y_synthetic)}
    if baseline is not None:
        spectra["baseline"] = power_spectrum(_dense(baseline, "the baseline data"), y_baseline)
    return ContinuousFidelity(syn, base, floor, spectra)


def _split_label(M: np.ndarray, j: int | None, classes: np.ndarray | None = None):
    """``(features, labels)``; generated label values are snapped to the nearest real class."""
    if j is None:
        return M, None
    y = M[:, j]
    if classes is not None:
        y = classes[np.abs(y[:, None] - classes[None, :]).argmin(axis=1)]
    return np.delete(M, j, axis=1), y


def report_part(c: dict, add) -> None:
    """:func:`corgan_core.metrics.evaluate`'s continuous fidelity (only for continuous data)."""
    if c["kind"] != "continuous":
        return
    j = c["label_index"]
    Tr, Ho, Sy = (to_dense(c[k], np.float64) for k in ("Tr", "Ho", "Sy"))
    B = None if c["B"] is None else to_dense(c["B"], np.float64)
    _, y_tr = _split_label(Tr, j)
    classes = None if y_tr is None else np.unique(y_tr)
    (Tr, y_tr), (Ho, y_ho), (Sy, y_sy) = _split_label(Tr, j), _split_label(Ho, j), _split_label(Sy, j, classes)
    y_b = None
    if B is not None:
        B, y_b = _split_label(B, j, classes)
    if j is None:
        y_tr, y_ho, y_sy = c["y"]
    fid = continuous_fidelity(Ho, Sy, baseline=B, train=Tr, y_holdout=y_ho, y_synthetic=y_sy, y_baseline=y_b,
                              y_train=y_tr, seed=c["seed"])
    s, b, f = fid.synthetic, fid.baseline, fid.floor

    def base(key, sub=None):
        if b is None:
            return None
        return b[key][sub] if sub else b[key]

    add("fidelity", "continuous_wasserstein", s["wasserstein_mean"], "lower",
        "Per-column Wasserstein-1 / column SD, mean over columns (holdout)", baseline=base("wasserstein_mean"),
        details={"worst": s["wasserstein_worst"], "worst_column": s["wasserstein_worst_column"],
                 "train_vs_holdout": f["wasserstein_mean"], "per_column": s["per_column"]["wasserstein"]})
    add("fidelity", "continuous_ks", s["ks_mean"], "lower", "Per-column Kolmogorov-Smirnov statistic, mean over columns (holdout)",
        baseline=base("ks_mean"), details={"worst": s["ks_worst"], "worst_column": s["ks_worst_column"],
                                           "train_vs_holdout": f["ks_mean"], "per_column": s["per_column"]["ks"]})
    cm = s["correlation_mad"]
    add("fidelity", "correlation_mad", cm["value"], "lower", "Rank-correlation matrix: mean |real - synthetic| over column pairs (holdout)",
        baseline=base("correlation_mad", "value"), details={**cm, "train_vs_holdout": f["correlation_mad"]["value"]})
    dist = s["spectrum_distance"]
    def per_class(d):  # the classes when there are labels, else the one spectrum of all rows
        return float(np.mean([v for k, v in d.items() if k != "all"] or list(d.values())))

    add("fidelity", "spectrum_distance", per_class(dist), "lower",
        "Mean power spectrum: mean |log10 real - log10 synthetic| (holdout, per class averaged)",
        baseline=None if b is None else per_class(b["spectrum_distance"]),
        details={"per_class": dist, "train_vs_holdout": f["spectrum_distance"], "spectra": fid.spectra})
