"""Cohort maths checked by hand on small matrices: selection, JSON round trip, intervals, the odds
ratio, small-cell suppression, empty cohorts, verdicts; then count and continuous real data."""
from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import binomtest

from corgan_core.cli_cohort import _range
from corgan_core.cohort import CohortDefinition, Range, apply, describe_rows, search_codes
from corgan_core.cohort_compare import CohortSettings, compare, odds_ratio, share_ratio, suppressed, verdict, wilson
from corgan_core.errors import ConfigError, CorganError, DataError

from conftest import assert_one_sentence, require_data

CODES = ["250", "428", "585", "401"]
#               250 428 585 401
X = np.array([[1, 1, 0, 1],   # 0: diabetes + heart failure
              [1, 1, 1, 0],   # 1: + CKD
              [1, 0, 0, 1],   # 2: diabetes only
              [0, 1, 0, 0],   # 3: heart failure only
              [0, 0, 1, 1],   # 4
              [1, 1, 0, 0]],  # 5: diabetes + heart failure
             dtype=np.float32)


@pytest.mark.parametrize("mat", [X, sp.csr_matrix(X)], ids=["dense", "sparse"])
def test_apply_selects_the_rows_worked_out_by_hand(mat):
    assert apply(CohortDefinition(all_of=("250", "428")), mat, CODES).nonzero()[0].tolist() == [0, 1, 5]
    assert apply(CohortDefinition(all_of=("250", "428"), none_of=("585",)), mat, CODES).nonzero()[0].tolist() == [0, 5]
    assert apply(CohortDefinition(any_of=("585", "401")), mat, CODES).nonzero()[0].tolist() == [0, 1, 2, 4]
    assert apply(CohortDefinition(all_of=("250",), any_of=("585", "401")), mat, CODES).nonzero()[0].tolist() == [0, 1, 2]
    assert apply(CohortDefinition(), mat, CODES).all()  # no criterion: everyone


def test_min_count_and_ranges_on_count_and_continuous_values():
    counts = sp.csr_matrix(np.array([[3, 0], [1, 2], [2, 1], [0, 0]], dtype=np.float32))
    assert apply(CohortDefinition(all_of=("a",)), counts, ["a", "b"]).tolist() == [True, True, True, False]
    assert apply(CohortDefinition(all_of=("a",), min_count=2), counts, ["a", "b"]).tolist() == [True, False, True, False]
    cont = np.array([[-1.5, 0.2], [0.0, 3.0], [2.5, -4.0]])
    d = CohortDefinition(ranges=(Range("x", low=-2, high=1),))
    assert apply(d, cont, ["x", "y"]).tolist() == [True, True, False]
    open_low = CohortDefinition(ranges=(Range("y", high=0.2), Range("x", low=-1.5)))
    assert apply(open_low, cont, ["x", "y"]).tolist() == [True, False, True]


def test_definition_round_trips_through_json_and_a_cohort_output():
    d = CohortDefinition(all_of=("250", "428"), any_of=("401",), none_of=("585",), min_count=2,
                         ranges=(Range("X1", -50.0, None),), name="DM+HF")
    back = CohortDefinition.from_json(d.to_json())
    assert back == d and back.ranges[0].high is None
    wrapped = json.dumps({"definition": d.to_dict(), "real": {}, "members": []})
    assert CohortDefinition.from_json(wrapped) == d
    assert d.columns() == ["250", "428", "401", "585", "X1"]
    assert "all of 250 (Diabetes), 428 present at least 2 times" in d.describe({"250": "Diabetes"})


@pytest.mark.parametrize("bad, words", [
    ({"all_of": "250"}, "list of codes"), ({"all_of": [250]}, "non-empty string"),
    ({"all_of": ["250"], "none_of": ["250"]}, "both required and excluded"), ({"min_count": 0}, "at least 1"),
    ({"colour": "red"}, "unknown field 'colour'"), ({"ranges": [{"column": "x", "low": 2, "high": 1}]}, "is empty"),
    ({"ranges": [{"column": "x"}, {"column": "x"}]}, "more than one range"), ({"version": 9}, "version-1"),
])
def test_bad_definitions_are_refused_in_one_sentence(bad, words):
    with pytest.raises(ConfigError) as err:
        CohortDefinition.from_dict(bad, where="cohort.json")
    assert words in str(err.value)
    assert_one_sentence(str(err.value))
    with pytest.raises(ConfigError, match="not valid JSON"):
        CohortDefinition.from_json("{oops", where="cohort.json")


def test_unknown_code_names_the_code_and_the_data():
    with pytest.raises(DataError) as err:
        apply(CohortDefinition(all_of=("999",)), X, CODES, where="demo.npz")
    assert str(err.value) == "Code '999' of the cohort definition is not among the 4 codes of demo.npz."


def test_intervals_and_odds_ratio_by_hand():
    for x, n in [(0, 20), (3, 40), (37, 40), (212, 4000)]:
        lo, hi = wilson(x, n, 0.95)
        ref = binomtest(x, n).proportion_ci(0.95, method="wilson")
        assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)
    or_, lo, hi = odds_ratio(8, 2, 10, 30)
    assert or_ == pytest.approx(8.5 * 30.5 / (2.5 * 10.5))
    se = np.sqrt(1 / 8.5 + 1 / 2.5 + 1 / 10.5 + 1 / 30.5)
    assert lo == pytest.approx(or_ * np.exp(-1.959964 * se), rel=1e-5)
    r, lo, hi = share_ratio(30, 100, 20, 100)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 100)
    assert r == pytest.approx(1.5) and hi == pytest.approx(1.5 * np.exp(1.959964 * se), rel=1e-5)
    assert suppressed(np.array([0, 1, 9, 10, 11, 20]), 20, 10).tolist() == [False, True, True, False, True, False]
    assert [verdict(0.9, 1.1, 1.25), verdict(1.3, 1.6, 1.25), verdict(1.1, 1.4, 1.25), verdict(np.nan, 1, 1.25)] == \
        ["pass", "fail", "inconclusive", "inconclusive"]


def _real_and_synthetic():
    """Real: 40 rows, 12 in the cohort (code a); inside it b on all 12, c on 11, d on 3; b on 14 of the 28 outside.
    Synthetic: 40 rows, 12 in the cohort with the same b, c, d counts as real."""
    R = np.zeros((40, 4))
    R[:12, 0] = 1
    R[:12, 1] = 1
    R[:11, 2] = 1
    R[:3, 3] = 1
    R[12:26, 1] = 1  # b outside: 14 of 28
    return R, R.copy()


def test_compare_suppresses_small_real_cells_and_their_complements():
    R, S = _real_and_synthetic()
    c = compare(CohortDefinition(all_of=("a",)), sp.csr_matrix(R), S, list("abcd"), settings=CohortSettings(k=10))
    assert c["real"]["members"] == 12 and c["real"]["share"] == pytest.approx(0.3)
    lo, hi = wilson(12, 40)
    assert (c["real"]["low"], c["real"]["high"]) == (pytest.approx(float(lo)), pytest.approx(float(hi)))
    prev = {p["code"]: p for p in c["prevalence"]}
    assert prev["b"]["real"] == 1.0  # 12 of 12: no small cell
    assert prev["c"]["real"] is None and prev["c"]["suppressed"]  # 11 of 12: its complement is 1 patient
    assert prev["d"]["real"] is None and prev["d"]["synthetic"] == pytest.approx(0.25)  # 3 of 12
    assert c["ratio"]["value"] == pytest.approx(1.0) and c["verdict"] == "inconclusive"  # 12 patients: wide
    rows = {r["code"]: r for r in c["codes"]}
    # the defining code is not "associated", and suppressed codes are not ranked (the rank would leak them)
    assert set(rows) == {"b"}
    assert rows["b"]["real_in"] == 1.0 and rows["b"]["real_out"] == pytest.approx(0.5)
    assert rows["b"]["real_lift"] == pytest.approx(2.0)
    assert rows["b"]["real_or"] == pytest.approx(12.5 * 14.5 / (0.5 * 14.5))
    assert c["profile"]["real"]["mean"] == pytest.approx((3 * 4 + 8 * 3 + 1 * 2) / 12)
    assert c["profile"]["real"]["histogram"][2] is None  # one real patient with 2 codes: suppressed
    assert c["profile"]["synthetic"]["histogram"][2] == 1
    assert any("suppressed" in n for n in c["notes"])
    assert c["detail"].startswith("Inside the cohort, 1 of the 1 codes most associated with the real cohort have a "
                                  "synthetic odds ratio inside the real 95% interval and 1 point the same way")
    assert compare(CohortDefinition(all_of=("a",)), R, S, list("abcd")) == compare(CohortDefinition(all_of=("a",)), R, S, list("abcd"))


def test_a_real_cohort_below_k_hides_every_real_figure():
    R, S = _real_and_synthetic()
    c = compare(CohortDefinition(all_of=("a",)), R, S, list("abcd"), settings=CohortSettings(k=13))
    assert c["real"]["suppressed"] and c["real"]["members"] is None and c["real"]["share"] is None
    assert c["ratio"]["value"] is None and c["verdict"] == "inconclusive"
    assert all(p["real"] is None for p in c["prevalence"]) and c["profile"]["real"]["mean"] is None
    assert "fewer than 13 members" in c["sentence"]
    json.dumps(c, allow_nan=False)  # JSON-ready, NaN-free


def test_empty_cohorts():
    R, S = _real_and_synthetic()
    c = compare(CohortDefinition(none_of=("b",), all_of=("d",)), R, S, list("abcd"))
    assert c["real"]["members"] == 0 and c["synthetic"]["members"] == 0 and not c["real"]["suppressed"]
    assert c["verdict"] == "inconclusive" and "neither has a member" in c["sentence"]
    assert c["ratio"]["value"] is None and c["codes"] == []  # no associated codes in an empty cohort
    json.loads(json.dumps(c, allow_nan=False))
    S2 = S.copy()
    S2[:15, 3] = 1
    S2[:15, 1] = 0
    c2 = compare(CohortDefinition(none_of=("b",), all_of=("d",)), R, S2, list("abcd"), settings=CohortSettings(k=10))
    assert c2["real"]["members"] == 0 and c2["synthetic"]["members"] == 15
    assert c2["ratio"]["value"] == pytest.approx((15 / 40) / (0.5 / 40))  # 0.5 stands in for the empty count
    assert c2["verdict"] == "fail" and "too large" in c2["sentence"]
    assert len(c2["codes"]) > 0 and all(r["real_in"] is None for r in c2["codes"])  # ranked by synthetic alone
    json.dumps(c2, allow_nan=False)


def test_settings_are_checked():
    for bad in ({"k": 0}, {"confidence": 1.0}, {"tolerance": 1.0}, {"top": 0}):
        with pytest.raises(ConfigError):
            CohortSettings(**bad)
    assert CohortSettings().k == 10


def test_records_search_and_range_option():
    rows = describe_rows(sp.csr_matrix(np.array([[0, 2, 0, 1.0]])), CODES, {"428": "Heart failure"}, "count", [0])
    assert rows[0]["record"] == ["428 - Heart failure x2", "401 x1"] and rows[0]["codes"] == 2
    assert search_codes(CODES + ["V42"], {"428": "Heart failure", "V42": "Heart transplant"}, "heart") == ["428", "V42"]
    assert search_codes(CODES, {}, "42") == ["428"]
    assert _range("X1:-50:") == Range("X1", -50.0, None)
    with pytest.raises(CorganError):
        _range("X1-50")


def test_count_data_cohort_on_mimic3_demo():
    from corgan_core.data import DataOptions, load, split

    ds = load(str(require_data("mimic3-demo")), DataOptions(kind="count"))
    assert ds.kind == "count"
    sp_ = split(ds, 0.5, seed=0)
    real, syn = ds.take(sp_.holdout), ds.take(sp_.train)
    once = compare(CohortDefinition(all_of=("401",)), real.X, syn.X, ds.codes, kind="count", settings=CohortSettings(k=1))
    twice = compare(CohortDefinition(all_of=("401",), min_count=2), real.X, syn.X, ds.codes, kind="count",
                    settings=CohortSettings(k=1))
    col = ds.codes.index("401")
    h = real.dense()[:, col]
    assert once["real"]["members"] == int((h >= 1).sum()) and twice["real"]["members"] == int((h >= 2).sum())
    assert twice["real"]["members"] < once["real"]["members"]


def test_continuous_cohort_on_epileptic_seizure():
    from corgan_core.data import load, split

    ds = load(str(require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"))
    assert ds.kind == "continuous"
    sp_ = split(ds, 0.5, seed=0)
    real, syn = ds.take(sp_.holdout), ds.take(sp_.train)
    d = CohortDefinition(ranges=(Range("X1", low=100.0),))
    c = compare(d, real.X, syn.X, ds.codes, kind="continuous")
    v = real.dense()[:, ds.codes.index("X1")]
    assert c["real"]["members"] == int((v >= 100).sum()) > 10
    assert c["profile"]["what"] == "values of X1" and c["profile"]["real"]["mean"] == pytest.approx(v[v >= 100].mean(), rel=1e-5)
    assert c["verdict"] == "pass"  # two random halves of the same real table
    assert all("real_in" in r and "real_or" not in r for r in c["codes"])
