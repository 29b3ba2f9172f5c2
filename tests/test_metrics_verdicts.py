"""Verdicts a steward can trust (issue 10): intervals, pass/fail/inconclusive, small data, and the
sanity cases on real data: the independent sampler never fails a privacy check, a verbatim copy of
train fails the membership and copy checks and is named a copy, fresh real patients are not."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from corgan_core.metrics import discriminator_score, evaluate, independent_baseline
from corgan_core.metrics.bootstrap import auroc_interval, combo_indicator, r2_interval
from corgan_core.metrics.structure import odds_ratio_agreement
from corgan_core.verdict import judge, newcombe, size_warning, wilson
from tests.conftest import SHARED_DATA, require_data

PRIVACY_CHECKS = ("membership_advantage", "membership_auroc", "dcr_share_closer_to_train", "exact_copy_excess",
                  "rare_replay_excess", "attribute_inference_gap")


# ---- the verdict rule ------------------------------------------------------------------------------
def test_verdict_needs_the_whole_interval_on_one_side():
    assert judge(0.03, "lower", 0.05, interval=[0.01, 0.04])[0] == "pass"
    assert judge(0.09, "lower", 0.05, interval=[0.06, 0.12])[0] == "fail"
    v, limit, why = judge(0.04, "lower", 0.05, interval=[0.0, 0.2])
    assert v == "inconclusive" and limit == 0.05 and "straddles" in why
    # one-sided: synthetic rows farther from train than holdout are no risk
    assert judge(0.30, "at-most-chance", 0.05, 0.5, interval=[0.25, 0.35])[0] == "pass"
    assert judge(0.70, "at-most-chance", 0.05, 0.5, interval=[0.60, 0.80])[0] == "fail"
    assert judge(0.30, "closer-to-chance", 0.05, 0.5, interval=[0.25, 0.35])[0] == "fail"
    v, _, why = judge(None, "lower", 0.05, needs={"have": 8, "needs": 10, "what": "held-out patients"})
    assert v == "inconclusive" and why == "not computable: 8 held-out patients, needs 10"
    assert judge(0.3, "lower", None) == (None, None, "")


def test_relative_limits_close_a_share_of_the_floor_to_ceiling_gap():
    # floor 0.8, ceiling 1.0, share 0.8: the limit is 0.96
    v, limit, why = judge(0.97, "higher", 0.8, interval=[0.965, 0.975], ceiling=1.0, floor=0.8, relative=True)
    assert v == "pass" and limit == pytest.approx(0.96) and "80% of the way" in why
    assert judge(0.9, "higher", 0.8, interval=[0.88, 0.92], ceiling=1.0, floor=0.8, relative=True)[0] == "fail"
    # the floor already reaches the ceiling: within 20% of it
    assert judge(0.85, "higher", 0.8, interval=[0.84, 0.86], ceiling=0.99, floor=0.99,
                 relative=True)[1] == pytest.approx(0.99 - 0.2 * 0.99)
    # the real rows themselves score nothing against the holdout: too few rows to judge
    assert judge(0.1, "higher", 0.8, ceiling=-0.2, floor=-0.5, relative=True)[0] == "inconclusive"


def test_exact_intervals_by_hand():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)  # the textbook Wilson bound for 0/10
    lo, hi = newcombe(10, 10, 0, 10)
    assert 0.6 < lo < 0.75 and hi == pytest.approx(1.0)
    auc, (a, b) = auroc_interval([3, 4, 5, 6], [0, 1, 2, 3])
    assert auc == pytest.approx(15.5 / 16) and a < auc < b <= 1.0
    assert size_warning(80, 20).startswith("Small data: 80 training and 20 held-out") and size_warning(5000, 1000) is None


def test_pairs_triples_and_odds_ratios_by_hand():
    X = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]]))
    Z, combos = combo_indicator(X, [0, 1, 2, 3], 3)
    assert combos.tolist() == [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    assert Z.toarray().tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    P, _ = combo_indicator(X, [0, 1, 2], 2)
    np.testing.assert_array_equal(np.asarray(P.sum(axis=0)).ravel(), [2, 1, 2])  # (0,1), (0,2), (1,2)
    rng = np.random.default_rng(0)
    a = rng.random(4000) < 0.3
    real = np.c_[a, a ^ (rng.random(4000) < 0.1), rng.random(4000) < 0.5].astype(float)
    pairs = np.array([[0, 1]] * 5)
    same = odds_ratio_agreement(real, real, pairs)
    assert same.share_inside == 1.0 and same.sign_agreement == 1.0
    flipped = real.copy()
    flipped[:, 1] = 1 - flipped[:, 1]
    assert odds_ratio_agreement(real, flipped, pairs).sign_agreement == 0.0
    iv = r2_interval(sp.csr_matrix(real), sp.csr_matrix(real[:2000]), np.random.default_rng(1))
    assert iv[0] < iv[1] and iv[0] > 0.9  # the same data scores close to 1, with a tight interval


# ---- small data ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mimic():
    require_data("mimic3-demo")
    from corgan_core.data import load, split

    ds = load(SHARED_DATA / "mimic3-demo")
    s = split(ds, 0.2, seed=0)
    return ds, s


def test_discriminator_sees_all_ones_and_identity_on_20_rows(mimic):
    ds, s = mimic
    real = ds.X[s.holdout]  # 20 patients
    for fake in (np.ones(real.shape), np.eye(real.shape[0], real.shape[1])):
        d = discriminator_score(real, fake, seed=0)
        assert d.rows_per_class == 20 and d.model == "logistic"
        assert d.auroc > 0.9 and d.auroc_interval[0] > 0.6, d  # was 0.466 ("pass") with 20 rows per leaf


def test_100_patients_independent_copy_and_fresh(mimic):
    ds, s = mimic
    train, holdout = ds.X[s.train], ds.X[s.holdout]
    kw = dict(kind="binary", include=["privacy", "discriminator", "agreement"], seed=0)
    ind = evaluate(train, holdout, independent_baseline(train, train.shape[0], seed=1), **kw)
    assert not [n for n in PRIVACY_CHECKS if ind.privacy[n].verdict == "fail"], ind.verdicts()
    assert ind.meta["size_warning"] and ind.meta["copy_warning"] is None
    oa = ind.fidelity["odds_ratio_agreement"]  # shown, never dropped
    assert oa.value is None and oa.verdict == "inconclusive" and oa.reason.startswith("not computable: ")
    copy = evaluate(train, holdout, train.copy(), **kw)
    assert copy.privacy["membership_advantage"].verdict == "fail"
    assert copy.privacy["exact_copy_excess"].verdict == "fail"
    assert copy.meta["copy_warning"].startswith("This synthetic data is a verbatim copy")
    basis = copy.privacy["membership_advantage"].details["basis"]
    assert "threshold 0 codes" in basis and "20 held-out patients" in basis and basis.startswith("r = ")
    rows = np.random.default_rng(0).permutation(train.shape[0])
    fresh = evaluate(train[rows[:60]], holdout, train[rows[60:]], **kw)  # 20 real patients never trained on
    assert fresh.meta["copy_warning"] is None and fresh.privacy["exact_copy_excess"].verdict != "fail"


# ---- Diabetes 130-US subsamples ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def diabetes():
    path = require_data("diabetes-130-us") / "dataset_diabetes.zip"
    from corgan_core.data import load

    return load(path, patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3").X


def _sizes(X, n, seed=0):
    rows = np.random.default_rng(seed).permutation(X.shape[0])
    n_tr = int(n * 0.8)
    return X[rows[:n_tr]], X[rows[n_tr:n]], X[rows[n:n + n_tr]]  # train, holdout, fresh real patients


@pytest.mark.parametrize("n", [500, 10000])
def test_diabetes_independent_never_fails_privacy_and_a_copy_always_does(diabetes, n):
    train, holdout, fresh = _sizes(diabetes, n)
    kw = dict(kind="binary", include=["privacy"], seed=0, attack={"seeds": [0]})
    ind = evaluate(train, holdout, independent_baseline(train, train.shape[0], seed=2), **kw)
    assert not [k for k in PRIVACY_CHECKS if ind.privacy[k].verdict == "fail"], \
        {k: (ind.privacy[k].value, ind.privacy[k].interval) for k in PRIVACY_CHECKS}
    copy = evaluate(train, holdout, train.copy(), **kw)
    assert copy.privacy["membership_advantage"].verdict == "fail" and copy.privacy["exact_copy_excess"].verdict == "fail"
    assert "verbatim copy" in copy.meta["copy_warning"] and ind.meta["copy_warning"] is None
    real = evaluate(train, holdout, fresh, **kw)
    assert real.meta["copy_warning"] is None and real.privacy["exact_copy_excess"].verdict != "fail"
    if n >= 10000:
        assert real.privacy["exact_copy_excess"].details["copy_share"] > 0.3  # many raw "copies"...
        assert abs(real.privacy["exact_copy_excess"].value) < 0.03  # ...but no excess over fresh patients


def test_diabetes_fidelity_has_ceiling_floor_and_intervals(diabetes):
    train, holdout, _ = _sizes(diabetes, 10000, seed=1)
    rep = evaluate(train, holdout, independent_baseline(train, 4000, seed=3), kind="binary", seed=0,
                   include=["fidelity", "prediction"])
    co = rep.fidelity["cooccurrence_r2"]
    assert co.ceiling > co.value and co.interval[0] <= co.value <= co.interval[1]
    assert co.verdict == "fail"  # the independent sampler is the floor: it cannot close the gap to the ceiling
    tw = rep.fidelity["threeway_r2"]
    assert tw.ceiling - tw.value > 0.1 and tw.details["n_triples"] == 4060
    assert rep.fidelity["odds_ratio_agreement"].ceiling > rep.fidelity["odds_ratio_agreement"].value
    p = rep.utility["prediction_synthetic_auroc"]
    assert p.ceiling > p.value and p.details["codes"] > 100  # every code with 5+ patients, not the top 20
    for band in ("common", "uncommon", "rare"):
        assert f"frequency_r2_{band}" in rep.fidelity
    assert rep.fidelity["codes_never_generated"].value >= 0


@pytest.mark.slow
def test_diabetes_57k_independent_and_copy(diabetes):
    rows = np.random.default_rng(0).permutation(diabetes.shape[0])
    n_tr = int(diabetes.shape[0] * 0.8)
    train, holdout = diabetes[rows[:n_tr]], diabetes[rows[n_tr:]]
    kw = dict(kind="binary", include=["privacy"], seed=0, attack={"seeds": [0]})
    ind = evaluate(train, holdout, independent_baseline(train, 10000, seed=4), **kw)
    assert not [k for k in PRIVACY_CHECKS if ind.privacy[k].verdict == "fail"]
    copy = evaluate(train, holdout, train.copy(), **kw)
    assert copy.privacy["membership_advantage"].verdict == "fail" and copy.privacy["exact_copy_excess"].verdict == "fail"
    assert "verbatim copy" in copy.meta["copy_warning"]


def test_membership_auroc_for_checkpoints(diabetes):
    from corgan_core.metrics import membership_auroc

    train, holdout, _ = _sizes(diabetes, 10000, seed=2)
    copy = membership_auroc(train, holdout, train[:4000], max_rows=2000, seed=0)
    ind = membership_auroc(train, holdout, independent_baseline(train, 4000, seed=5), max_rows=2000, seed=0)
    assert copy > 0.6 and abs(ind - 0.5) < 0.04
    assert membership_auroc(train, holdout, train[:4000], max_rows=2000, seed=0) == copy  # seeded
    assert np.isnan(membership_auroc(train[:5], holdout, train[:5]))  # fewer than 10 rows a side
