"""Privacy metrics: hand-computed tiny cases and the membership attack's sanity cases on real data."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from corgan_core.errors import DataError
from corgan_core.metrics import (attribute_inference, distance_to_closest_record, exact_copies,
                                 independent_baseline, membership_inference, nndr, record_uniqueness, unique_rows)
from tests.conftest import assert_one_sentence, require_data

TRAIN = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=float)
HOLDOUT = np.array([[1, 0, 0, 0], [0, 1, 1, 1]], dtype=float)
SYN = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0]], dtype=float)


def test_exact_copies_and_rare_replay_by_hand():
    train = [[1, 0], [1, 0], [0, 1]]
    r = exact_copies(train, [[0, 1], [1, 0], [1, 1]], holdout=[[1, 0], [0, 0]], k=1)
    # [0,1] copies a combination one training patient has (rare at k=1); [1,0] one that two have
    assert (r.copies, r.distinct_copied, r.rare_replay, r.distinct_rare_replayed) == (2, 2, 1, 1)
    assert r.copy_share == pytest.approx(2 / 3) and r.rare_replay_share == pytest.approx(1 / 3)
    assert r.holdout_copy_share == 0.5 and r.holdout_rare_share == 0.0
    dense = exact_copies(np.array(train), np.array([[0, 1], [1, 0], [1, 1]]), k=1)
    sparse = exact_copies(sp.csr_matrix(np.array(train)), sp.csr_matrix(np.array([[0, 1], [1, 0], [1, 1]])), k=1)
    assert dense == sparse


def test_record_uniqueness_by_hand():
    u = record_uniqueness([[1, 0], [1, 0], [0, 1]], [[1, 0], [1, 1]])
    assert u.holdout_twin_share == 0.5 and u.train_unique_share == pytest.approx(1 / 3)


def test_membership_attack_by_hand():
    mi = membership_inference(TRAIN, HOLDOUT, SYN, fractions=[1.0], thresholds=[0, 1, 2], seeds=[0])
    # members' distances to the closest synthetic row: 0 and 1; non-members': 1 and 1
    by_t = {g["threshold"]: g for g in mi.grid}
    assert (by_t[0]["precision"], by_t[0]["recall"], by_t[0]["calls"]) == (1.0, 0.5, 1)
    assert (by_t[1]["precision"], by_t[1]["recall"]) == (0.5, 1.0)
    assert by_t[2]["members"] == 2 and by_t[2]["non_members"] == 2
    assert mi.summary[0]["members_share"] == 0.5
    assert mi.auroc == [0.75]  # 2 wins and 2 ties out of 4 member/non-member pairs
    assert mi.holdout_twin_share == 0.0 and mi.verbatim_copy_precision == 1.0
    # TPR - FPR: at t=0 one of two members and no non-member is called (0.5); at t=1 all are (0)
    assert (mi.advantage, mi.advantage_threshold, mi.advantage_tpr, mi.advantage_fpr) == (0.5, 0.0, 0.5, 0.0)
    assert mi.advantage_precision == 1.0 and mi.advantage_calls == 1 and mi.advantage_members == 2
    assert [r["advantage"] for r in mi.per_threshold] == [0.5, 0.0, 0.0]
    lo, hi = mi.advantage_interval
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    with pytest.raises(DataError) as e:
        membership_inference(TRAIN, HOLDOUT, SYN, member_share=1.0)
    assert_one_sentence(str(e.value))


def test_dcr_and_nndr_by_hand():
    d = distance_to_closest_record(TRAIN, HOLDOUT, SYN)
    # to train: 0, 1, 1; to holdout: 1, 1, 1 -> one row closer to train, two ties
    assert (d.closer, d.ties, d.farther) == pytest.approx((1 / 3, 2 / 3, 0.0))
    assert d.share_closer_to_train == pytest.approx(2 / 3)
    assert d.dcr["train"]["mean"] == pytest.approx(2 / 3) and d.dcr["train"]["share_zero"] == pytest.approx(1 / 3)
    assert d.nndr["train"]["mean"] == pytest.approx(1 / 3)  # 0/3, 1/2, 1/2
    assert d.histogram["edges"][:2] == [0.0, 1.0] and d.histogram["train"][:2] == [1, 2]
    r = nndr(np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, 2.0, 4.0, np.nan]))
    assert r[:3].tolist() == [1.0, 0.0, 0.25] and math.isnan(r[3])


def test_attribute_inference_by_hand():
    train = np.array([[1, 1, 0], [0, 0, 1]], dtype=float)
    holdout = np.array([[1, 0, 0], [0, 0, 1]], dtype=float)
    a = attribute_inference(train, holdout, train.copy(), known=[0], k=1)
    assert a.train == {"f1": 1.0, "precision": 1.0, "recall": 1.0}
    assert a.holdout["precision"] == 0.5 and a.holdout["recall"] == 1.0
    assert a.f1_gap == pytest.approx(1 - 2 / 3)


@pytest.fixture(scope="module")
def diabetes():
    path = require_data("diabetes-130-us") / "dataset_diabetes.zip"
    from corgan_core.data import load

    return load(path, patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3").X


def test_attack_on_unique_records_sees_a_copy_and_not_fresh_data(diabetes):
    first, inverse = unique_rows(diabetes)
    single = first[np.bincount(inverse) == 1]  # patients whose code combination nobody else has
    rows = np.random.default_rng(0).choice(single, 6000, replace=False)
    train, holdout = diabetes[rows[:4000]], diabetes[rows[4000:]]
    copy = membership_inference(train, holdout, train, fractions=[0.4], thresholds=[0, 1, 2])
    at0 = [s for s in copy.summary if s["threshold"] == 0 and s["size"] == 4000][0]
    assert at0["precision_mean"] == 1.0 and at0["recall_mean"] == 1.0 and copy.auroc[-1] > 0.95
    fresh = membership_inference(train, holdout, independent_baseline(train, 4000, seed=1), fractions=[0.4])
    for s in fresh.summary:
        if s["calls_mean"] >= 200:
            assert abs(s["precision_mean"] - s["members_share"]) < 0.07, s
    assert abs(fresh.auroc[-1] - 0.5) < 0.05 and fresh.advantage < 0.07
    assert copy.advantage > 0.9 and copy.advantage_interval[0] > 0.9  # unique rows: TPR 1, FPR 0 at distance 0
    lo, hi = fresh.auroc_interval
    assert lo < 0.5 < hi or abs(fresh.auroc[-1] - 0.5) < 0.02


def test_verbatim_copy_precision_is_set_by_twins(diabetes):
    rows = np.random.default_rng(1).permutation(diabetes.shape[0])[:30000]
    train, holdout = diabetes[rows[:20000]], diabetes[rows[20000:]]
    mi = membership_inference(train, holdout, train, fractions=[0.5], thresholds=[0], seeds=[0, 1])
    # the figures: ~39% of 10,000 holdout rows have a twin among 20,000 -> precision ~0.72 at 0
    assert 0.35 < mi.holdout_twin_share < 0.43 and 0.69 < mi.verbatim_copy_precision < 0.75
    assert mi.summary[-1]["precision_mean"] == pytest.approx(mi.verbatim_copy_precision, abs=0.02)
    # TPR - FPR of the copy: every member at distance 0 (TPR 1) against the twins (FPR = twin share)
    assert mi.advantage == pytest.approx(1 - mi.holdout_twin_share, abs=0.02) and mi.advantage_threshold == 0


def test_bad_input_is_one_sentence():
    for call in (lambda: exact_copies(TRAIN, SYN[:, :3]), lambda: exact_copies(TRAIN, np.zeros((0, 4))),
                 lambda: distance_to_closest_record(TRAIN, HOLDOUT, [[1, 2]]),
                 lambda: attribute_inference(TRAIN, HOLDOUT, SYN, known=[0, 1, 2, 3])):
        with pytest.raises(DataError) as e:
            call()
        assert_one_sentence(str(e.value))
