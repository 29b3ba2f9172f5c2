"""Continuous fidelity (issue 16): scaled column distances, correlation difference, power spectra."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from conftest import require_data
from corgan_core.data import load
from corgan_core.metrics import evaluate
from corgan_core.metrics.continuous import (column_distances, continuous_fidelity, correlation_mad,
                                            power_spectrum, spectrum_distance)


def test_column_distances_match_scipy_and_are_scaled_by_the_real_spread():
    rng = np.random.default_rng(0)
    R = rng.normal(0, [1.0, 100.0], size=(300, 2))
    S = rng.normal(0, [1.0, 100.0], size=(200, 2)) + [0.5, 50.0]  # both off by half a deviation
    d = column_distances(R, S)
    for j in range(2):
        assert d["wasserstein"][j] == pytest.approx(stats.wasserstein_distance(R[:, j], S[:, j]) / R[:, j].std())
        assert d["ks"][j] == pytest.approx(stats.ks_2samp(R[:, j], S[:, j]).statistic)
    assert d["wasserstein"][0] == pytest.approx(d["wasserstein"][1], abs=0.15)  # the scale is divided out
    assert column_distances(R, R)["wasserstein_mean"] == 0.0 and column_distances(R, R)["ks_worst"] == 0.0


def test_correlation_mad_sees_broken_correlations():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(2000, 1))
    R = z + 0.3 * rng.normal(size=(2000, 5))  # strongly correlated columns
    shuffled = np.column_stack([rng.permutation(R[:, j]) for j in range(5)])  # same marginals, no correlation
    same = correlation_mad(R[:1000], R[1000:], seed=0)
    broken = correlation_mad(R[:1000], shuffled, seed=0)
    assert same["value"] < 0.05 and broken["value"] > 0.8
    assert broken["low"] <= broken["value"] <= broken["high"]


def test_power_spectrum_peaks_at_the_signal_frequency_per_class():
    t, rng = np.arange(64), np.random.default_rng(3)
    rows = np.array([np.sin(2 * np.pi * (4 if c else 10) * t / 64 + p) + 0.1 * rng.normal(size=64)
                     for c, p in zip([0, 1] * 20, np.linspace(0, 3, 40))])
    spec = power_spectrum(rows, labels=[0, 1] * 20)
    freq = np.asarray(spec["frequency"])
    assert freq[np.argmax(spec["classes"]["1"])] == pytest.approx(4 / 64)
    assert freq[np.argmax(spec["classes"]["0"])] == pytest.approx(10 / 64)
    assert spectrum_distance(spec["classes"]["0"], spec["classes"]["0"]) == 0.0
    assert spectrum_distance(spec["classes"]["0"], spec["classes"]["1"]) > 0.1


def test_on_real_eeg_rows_a_copy_beats_the_independent_sampler():
    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f)
    X = ds.dense()
    rows = np.random.default_rng(0).permutation(len(X))
    tr, ho = rows[:1500], rows[1500:2000]
    rng = np.random.default_rng(2)
    independent = np.column_stack([rng.choice(X[tr, j], 1500) for j in range(X.shape[1])])
    fid = continuous_fidelity(X[ho], X[tr], baseline=independent, y_holdout=ds.labels[ho], y_synthetic=ds.labels[tr],
                              y_baseline=rng.choice(ds.labels[tr], 1500), seed=0)
    real, base = fid.synthetic, fid.baseline
    # neighbouring EEG samples are strongly correlated: the independent sampler loses that
    assert base["correlation_mad"]["value"] > 3 * real["correlation_mad"]["value"]
    assert base["wasserstein_mean"] < 0.2 and real["wasserstein_mean"] < 0.2  # both keep the marginals
    assert base["spectrum_distance"]["1"] > 3 * real["spectrum_distance"]["1"]  # seizures' spectrum is lost


def test_evaluate_reports_continuous_fidelity_only_for_continuous_data():
    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f).with_label_column()
    X = ds.dense()
    rows = np.random.default_rng(0).permutation(len(X))
    tr, ho = X[rows[:1200]], X[rows[1200:1600]]
    rep = evaluate(tr, ho, tr[:800].copy(), kind="continuous", label=-1, include=["continuous"])
    m = rep.fidelity["correlation_mad"]
    assert m.value < m.baseline / 3 and m.details["low"] <= m.value <= m.details["high"]
    assert set(rep.fidelity["spectrum_distance"].details["per_class"]) == {"all", "0", "1"}
    assert {"continuous_wasserstein", "continuous_ks"} <= set(rep.fidelity)
    from dashboard.continuous_charts import figures  # the Fidelity page's continuous block

    spectrum, cols = figures(json.loads(json.dumps(rep.to_dict())))  # as the page reads it
    assert {t.name for t in spectrum.data} >= {"real (held out), class 1", "synthetic, class 1", "independent, class 0"}
    assert len(cols.data[0].y) == ds.n_codes - 1  # every value column, the label left out
    binary = (np.random.default_rng(0).random((60, 6)) < 0.3).astype(np.float32)
    rep = evaluate(binary[:40], binary[40:], binary[:40], kind="binary", include=["continuous"])
    assert rep.fidelity == {} and rep.skipped == []
    assert figures(rep.to_dict()) == []


def test_evaluate_gives_trtr_and_tstr_per_classifier_with_intervals_on_real_eeg_rows():
    from corgan_core.verdict import wilson

    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f).with_label_column()  # seizure (1) vs rest, learned as the last column
    X = ds.dense()
    rows = np.random.default_rng(0).permutation(len(X))
    tr, ho, other = X[rows[:1000]], X[rows[1000:1500]], X[rows[1500:2500]]
    rep = evaluate(tr, ho, other, kind="continuous", label=-1, include=["classifier"], seed=0, bootstrap=100)
    gap = rep.utility["tstr_auroc_gap"]
    models = gap.details["models"]
    assert set(models) == {"logistic", "random_forest", "gradient_boosting"}
    n_pos = int(ho[:, -1].sum())
    for name, m in models.items():
        for side in ("trtr", "tstr"):
            s = m[side]
            lo, hi = s["auroc_interval"]
            assert lo <= s["auroc"] <= hi and hi - lo < 0.3, (name, side, s)
            right = round(s["accuracy"] * len(ho))
            assert s["accuracy_interval"] == pytest.approx(list(wilson(right, len(ho))))
            assert s["accuracy_interval"][0] <= s["accuracy"] <= s["accuracy_interval"][1]
    assert 0 < n_pos < len(ho)
    # other real rows are as good as the training rows: trees score near TRTR on them, while the
    # independent sampler (labels drawn apart from the rows) loses gradient boosting's signal
    for name in ("random_forest", "gradient_boosting"):
        assert models[name]["tstr"]["auroc"] > 0.9 and abs(models[name]["trtr"]["auroc"] - models[name]["tstr"]["auroc"]) < 0.05
    d = gap.details
    assert d["auroc_gap_interval"][0] <= d["auroc_gap"] <= d["auroc_gap_interval"][1]
    assert d["accuracy_gap_interval"][0] <= d["accuracy_gap"] <= d["accuracy_gap_interval"][1]
    assert gap.baseline > gap.value  # the independent sampler's gap is the larger


def test_multi_class_tstr_aurocs_get_bootstrap_intervals():
    from corgan_core.metrics.classifier import classifier_fidelity

    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f, positive="none")  # the five classes as they are
    X = ds.dense()
    rows = np.random.default_rng(1).permutation(len(X))
    tr, ho, other = rows[:600], rows[600:900], rows[900:1500]
    r = classifier_fidelity(X[tr], X[ho], X[other], y_train=ds.labels[tr], y_holdout=ds.labels[ho],
                            y_synthetic=ds.labels[other], models=("gradient_boosting",), bootstrap=50, seed=0)
    s = r.models["gradient_boosting"]["tstr"]
    assert r.classes == [1, 2, 3, 4, 5] and s["auroc_interval"][0] <= s["auroc"] <= s["auroc_interval"][1]
    assert r.auroc_gap_interval[0] <= r.auroc_gap <= r.auroc_gap_interval[1]
    again = classifier_fidelity(X[tr], X[ho], X[tr], y_train=ds.labels[tr], y_holdout=ds.labels[ho],
                                y_synthetic=ds.labels[tr], models=("gradient_boosting",), bootstrap=50, seed=0, real=r)
    assert again.models["gradient_boosting"]["trtr"] == r.models["gradient_boosting"]["trtr"]
    assert again.auroc_gap == pytest.approx(0.0, abs=1e-12)  # the same rows: the same model
