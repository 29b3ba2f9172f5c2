"""Data loaders on the real data in ../shared/data and on small synthetic files."""
from __future__ import annotations

import gzip
import shutil
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from conftest import require_data
from corgan_core.data import (LOADERS, DataOptions, Dataset, demo_path, load, load_demo, split)
from corgan_core.data.icd import group_icd9, group_icd10, grouped_titles, icd_sort_key

DIABETES_OPTS = dict(patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3")


def _is_sorted(codes, key=icd_sort_key):
    return codes == sorted(codes, key=key)


# ---- ICD helpers --------------------------------------------------------------------------
@pytest.mark.parametrize("code,grouped", [
    ("25083", "250"), ("250.83", "250"), ("E8889", "E888"), ("E888.9", "E888"), ("V5789", "V57"),
    ("V57", "V57"), ("4019", "401"), ("486", "486"), ("0389", "038"), ("38", "038"), ("8", "008"),
    (" 401.9 ", "401"), ("e8889", "E888"),
])
def test_group_icd9(code, grouped):
    assert group_icd9(code, "3digit") == grouped


def test_group_icd9_none_keeps_full_code():
    assert group_icd9("250.83", "none") == "25083"
    assert group_icd9("E888.9", "none") == "E8889"
    assert group_icd10("E11.65") == "E11" and group_icd10("I10") == "I10"
    assert group_icd10("E11.65", "none") == "E1165"


def test_icd_sort_key_orders_numeric_then_v_then_e_and_9_before_10():
    codes = ["E888", "V57", "250", "038", "996", "V10", "E812", "008"]
    assert sorted(codes, key=icd_sort_key) == ["008", "038", "250", "996", "V10", "V57", "E812", "E888"]
    mixed = ["ICD10:I10", "ICD9:V57", "ICD10:A41", "ICD9:401", "ICD9:E888", "ICD9:038"]
    assert sorted(mixed, key=icd_sort_key) == [
        "ICD9:038", "ICD9:401", "ICD9:V57", "ICD9:E888", "ICD10:A41", "ICD10:I10"]
    assert sorted(["25083", "2501", "250"], key=icd_sort_key) == ["250", "2501", "25083"]


def test_grouped_titles_prefer_exact_code_then_first_member():
    full = {"4019": "Unspecified hypertension", "4010": "Malignant hypertension",
            "486": "Pneumonia", "4860": "not a real code"}
    t = grouped_titles(full, ["401", "486"], "9", "3digit")
    assert t == {"401": "Malignant hypertension and 1 related 401.x codes", "486": "Pneumonia"}


# ---- MIMIC-III demo -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mimic3():
    return require_data("mimic3-demo")


def test_mimic3_binary(mimic3):
    ds = load(mimic3)
    assert (ds.n_patients, ds.n_codes) == (100, 275)
    assert ds.kind == "binary" and ds.is_sparse and ds.X.dtype == np.float32
    assert set(np.unique(ds.X.data)) == {1.0}
    assert _is_sorted(ds.codes)
    assert ds.codes[0] == "008" and ds.codes[-1].startswith("E")
    assert set(ds.titles) == set(ds.codes)
    assert ds.titles["486"] == "Pneumonia, organism unspecified"  # exact 3-digit code
    assert ds.titles["038"] == "Streptococcal septicemia and 14 related 038.x codes"  # named as a group
    assert ds.patient_ids == sorted(ds.patient_ids, key=int)


def test_mimic3_count(mimic3):
    b = load(mimic3)
    c = load(mimic3, kind="count")
    assert c.kind == "count" and c.X.shape == (100, 275) and c.codes == b.codes
    assert c.X.max() > 1
    assert (c.X.toarray() >= b.X.toarray()).all()
    assert ((c.X > 0).toarray() == (b.X > 0).toarray()).all()
    # count never exceeds the patient's number of admissions
    adm = pd.read_csv(mimic3 / "ADMISSIONS.csv").groupby("subject_id").size()
    per_patient = adm.loc[[int(p) for p in c.patient_ids]].to_numpy()
    assert (c.X.max(axis=1).toarray().ravel() <= per_patient).all()


def test_mimic3_full_codes_file_path_and_gzip(mimic3, tmp_path):
    full = load(mimic3, grouping="none")
    assert full.X.shape == (100, 581) and _is_sorted(full.codes)
    via_file = load(mimic3 / "DIAGNOSES_ICD.csv", source="mimic3")
    assert via_file.X.shape == (100, 275)
    with open(mimic3 / "DIAGNOSES_ICD.csv", "rb") as src, gzip.open(tmp_path / "DIAGNOSES_ICD.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    gz = load(tmp_path)
    assert gz.codes == via_file.codes and (gz.X != via_file.X).nnz == 0
    assert gz.titles == {}  # no D_ICD_DIAGNOSES beside it


def test_min_count(mimic3):
    ds = load(mimic3, min_count=5)
    assert 0 < ds.n_codes < 275 and ds.n_patients == 100
    assert (np.asarray(ds.X.sum(axis=0)).ravel() >= 5).all()
    assert set(ds.titles) == set(ds.codes)


# ---- eICU demo --------------------------------------------------------------------------------
def test_eicu_patients_and_versions(tmp_path):
    eicu = require_data("eicu-demo")
    ds = load(eicu)
    # 1,841 patients in patient.csv.gz; 1,558 of them have at least one ICD-9 diagnosis
    assert (ds.n_patients, ds.n_codes) == (1558, 221)
    assert _is_sorted(ds.codes) and "401" in ds.codes and set(ds.titles) == set(ds.codes)
    assert all("-" in p for p in ds.patient_ids)  # uniquepid such as 002-1039
    c = load(eicu / "diagnosis.csv.gz", kind="count")
    assert c.X.shape == ds.X.shape and c.X.max() > 1
    ten = load(eicu, icd_version="10")
    assert (ten.n_patients, ten.n_codes) == (1545, 252)
    assert all(code.startswith("ICD10:") for code in ten.codes) and "ICD10:I10" in ten.codes
    shutil.copy(eicu / "diagnosis.csv.gz", tmp_path / "diagnosis.csv.gz")
    stays = load(tmp_path)  # no patient.csv.gz beside it: one row per ICU stay
    assert (stays.n_patients, stays.n_codes) == (1964, 221)


# ---- Diabetes 130-US ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def diabetes():
    folder = require_data("diabetes-130-us")
    t0 = time.perf_counter()
    ds = load(folder / "dataset_diabetes.zip", **DIABETES_OPTS)
    seconds = time.perf_counter() - t0
    print(f"\nDiabetes 130-US loaded in {seconds:.2f} s")
    return ds, seconds


def test_diabetes_shape_and_codes(diabetes):
    ds, seconds = diabetes
    # 71,518 patient_nbr values; patient 6734736 has only '?' codes, so 71,517 rows
    assert (ds.n_patients, ds.n_codes) == (71517, 881)
    assert {"250", "V57", "E888", "038", "008"} <= set(ds.codes)
    assert "?" not in ds.codes and not any("." in c for c in ds.codes)
    assert all(len(c) == 4 for c in ds.codes if c.startswith("E"))
    assert _is_sorted(ds.codes)


def test_diabetes_auto_detects_wide_codes_and_counts():
    folder = require_data("diabetes-130-us")
    ds = load(folder / "dataset_diabetes.zip", kind="count")
    assert ds.X.shape == (71517, 881) and ds.kind == "count" and ds.X.max() > 1


# ---- Epileptic Seizure -----------------------------------------------------------------------
def test_epileptic_seizure_continuous_with_labels():
    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f, label_col="y", positive="none")  # the five classes as they are
    assert ds.X.shape == (11500, 178) and ds.kind == "continuous"
    assert isinstance(ds.X, np.ndarray) and ds.X.dtype == np.float32
    assert ds.codes[0] == "X1" and ds.codes[-1] == "X178"
    assert ds.label_name == "y" and ds.labels.shape == (11500,)
    assert set(np.unique(ds.labels)) == {1, 2, 3, 4, 5}
    assert (ds.labels == 1).sum() == 2300
    auto = load(f)  # id column and the label column y are found without options
    assert auto.label_name == "y" and auto.X.shape == (11500, 178)
    np.testing.assert_array_equal(auto.labels, (ds.labels == 1).astype(int))  # default: seizure vs rest
    assert auto.patient_ids[:1] == ds.patient_ids[:1]


# ---- OMOP / Eunomia demo -----------------------------------------------------------------------
def test_eunomia_demo():
    before = demo_path().stat().st_mtime
    ds = load_demo()
    assert (ds.n_patients, ds.n_codes) == (2694, 80) and ds.source == "demo"
    assert set(ds.titles) == set(ds.codes) and all(ds.titles.values())
    assert [int(c) for c in ds.codes] == sorted(int(c) for c in ds.codes)
    same = load("demo")
    assert same.codes == ds.codes and (same.X != ds.X).nnz == 0
    count = load_demo(DataOptions(kind="count"))
    assert count.X.max() > 1
    omop = load(demo_path())  # the same file through the generic OMOP loader
    assert omop.X.shape == (2694, 80) and omop.titles == ds.titles
    assert demo_path().stat().st_mtime == before  # opened read-only


# ---- processed matrices --------------------------------------------------------------------------
def _toy(kind="binary", labels=False):
    X = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32)
    if kind == "count":
        X = X * np.array([[2], [1], [3], [1]], dtype=np.float32)
    return Dataset(X=sp.csr_matrix(X), codes=["401", "250", "E888"], patient_ids=["a", "b", "c", "d"],
                   kind=kind, titles={"401": "Hypertension"},
                   labels=np.array([0, 1, 0, 1]) if labels else None,
                   label_name="died" if labels else None, source="toy")


def test_npz_round_trip(tmp_path):
    ds = _toy("count", labels=True)
    back = load(ds.save_npz(tmp_path / "toy.npz"))
    assert back.kind == "count" and back.codes == ds.codes and back.patient_ids == ds.patient_ids
    assert (back.X != ds.X).nnz == 0 and back.titles == ds.titles
    assert back.label_name == "died" and back.labels.tolist() == [0, 1, 0, 1]
    assert back.sha256() == ds.sha256()
    dense = Dataset(X=np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32),
                    codes=["a", "b", "c"], patient_ids=list("12345"), kind="continuous")
    back = load(dense.save_npz(tmp_path / "dense.npz"))
    assert back.kind == "continuous" and np.array_equal(back.X, dense.X)


def test_npy_kind_inference(tmp_path):
    np.save(tmp_path / "b.npy", np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8))
    np.save(tmp_path / "c.npy", np.array([[2, 0], [0, 1], [1, 5]]))
    np.save(tmp_path / "f.npy", np.array([[0.5, -1], [0, 1]]))
    b, c, f = (load(tmp_path / n) for n in ("b.npy", "c.npy", "f.npy"))
    assert (b.kind, c.kind, f.kind) == ("binary", "count", "continuous")
    assert b.X.shape == (3, 2) and b.is_sparse and not f.is_sparse
    assert c.patient_ids == ["0", "1", "2"] and c.codes == ["0", "1"]
    assert load(tmp_path / "c.npy", kind="continuous").kind == "continuous"
    assert load(tmp_path / "b.npy", kind="count").kind == "count"
    assert load(tmp_path / "c.npy", source="npy", min_count=2).codes == ["0", "1"]


def test_scipy_sparse_and_plain_npz(tmp_path):
    X = sp.random(20, 7, density=0.3, format="csr", random_state=0)
    X.data[:] = 1
    sp.save_npz(tmp_path / "s.npz", X)
    ds = load(tmp_path / "s.npz")
    assert ds.kind == "binary" and ds.X.shape == (20, 7) and (ds.X != X).nnz == 0
    np.savez(tmp_path / "plain.npz", matrix=X.toarray() * 3)
    plain = load(tmp_path / "plain.npz")
    assert plain.kind == "count" and plain.X.max() == 3


def test_wide_numeric_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"patient_id": ["p1", "p2", "p3"], "a": [0, 1, 1], "b": [1, 0, 1], "label": [0, 1, 1]})
    df.to_csv(tmp_path / "w.csv", index=False)
    df.to_parquet(tmp_path / "w.parquet")
    for name in ("w.csv", "w.parquet"):
        ds = load(tmp_path / name)
        assert ds.kind == "binary" and ds.codes == ["a", "b"] and ds.patient_ids == ["p1", "p2", "p3"]
        assert ds.label_name == "label" and ds.labels.tolist() == [0, 1, 1]
    df.drop(columns="label").to_csv(tmp_path / "idx.csv")  # pandas index as 'Unnamed: 0'
    ds = load(tmp_path / "idx.csv", id_col="patient_id")
    assert ds.codes == ["a", "b"] and ds.patient_ids == ["p1", "p2", "p3"]
    df[["a", "b"]].to_csv(tmp_path / "idx2.csv")
    assert load(tmp_path / "idx2.csv").patient_ids == ["0", "1", "2"]


# ---- code tables -------------------------------------------------------------------------------
def test_long_table(tmp_path):
    pd.DataFrame({"patient": [1, 1, 2, 2, 3, 10], "code": ["401.9", "4011", "250.83", "V57.1", "E888.9", "401"]}
                 ).to_csv(tmp_path / "long.csv", index=False)
    ds = load(tmp_path / "long.csv")
    assert ds.codes == ["250", "401", "V57", "E888"] and ds.patient_ids == ["1", "2", "3", "10"]
    assert ds.kind == "binary" and ds.X.toarray()[0].tolist() == [0, 1, 0, 0]
    assert load(tmp_path / "long.csv", kind="count").X.toarray()[0].tolist() == [0, 2, 0, 0]
    pd.DataFrame({"pid": ["x", "x", "y"], "dx": ["A01", "A01", "B02"], "n": [2, 3, 1]}
                 ).to_parquet(tmp_path / "long.parquet")
    c = load(tmp_path / "long.parquet", source="long", patient_col="pid", code_cols="dx",
             count_col="n", kind="count")
    assert c.codes == ["A01", "B02"] and c.X.toarray().tolist() == [[5, 0], [0, 1]]


def test_wide_codes_small(tmp_path):
    pd.DataFrame({"encounter": [1, 2, 3], "patient_nbr": ["7", "7", "9"], "diag_1": ["250.83", "?", "8"],
                  "diag_2": ["250.1", "V57", "E888"], "diag_3": ["?", "250.6", None]}
                 ).to_csv(tmp_path / "enc.csv", index=False)
    ds = load(tmp_path / "enc.csv", source="wide-codes", kind="count")
    assert ds.codes == ["008", "250", "V57", "E888"]
    assert ds.X.toarray().tolist() == [[0, 2, 1, 0], [1, 0, 0, 1]]


# ---- MIMIC-IV (synthetic) -------------------------------------------------------------------
def _mimic4(root):
    hosp = root / "hosp"
    hosp.mkdir(parents=True)
    pd.DataFrame({"subject_id": [1, 2, 3], "hadm_id": [11, 12, 13]}).to_csv(hosp / "admissions.csv.gz", index=False)
    pd.DataFrame({
        "subject_id": [1, 1, 1, 2, 2, 3, 3],
        "hadm_id": [11, 11, 14, 12, 12, 13, 13],
        "seq_num": [1, 2, 1, 1, 2, 1, 2],
        "icd_code": ["4019", "E8889", "4011", "I10", "E119", "V5789", "I110"],
        "icd_version": [9, 9, 9, 10, 10, 9, 10],
    }).to_csv(hosp / "diagnoses_icd.csv.gz", index=False)
    pd.DataFrame({"icd_code": ["4019", "I10", "I110", "E119"], "icd_version": [9, 10, 10, 10],
                  "long_title": ["Essential hypertension", "Hypertension", "Hypertensive heart disease",
                                 "Type 2 diabetes"]}).to_csv(hosp / "d_icd_diagnoses.csv.gz", index=False)
    return root


def test_mimic4_mixed_versions(tmp_path):
    root = _mimic4(tmp_path / "mimic4")
    ds = load(root)
    assert ds.codes == ["ICD9:401", "ICD9:V57", "ICD9:E888", "ICD10:E11", "ICD10:I10", "ICD10:I11"]
    assert ds.patient_ids == ["1", "2", "3"]
    assert ds.titles["ICD10:I10"] == "Hypertension" and ds.titles["ICD9:401"] == "Essential hypertension (401.x)"
    c = load(root, kind="count")
    assert c.X[0, 0] == 2  # two admissions of patient 1 with 401
    nine = load(root, icd_version="9")
    assert nine.codes == ["ICD9:401", "ICD9:V57", "ICD9:E888"] and nine.n_patients == 2
    ten = load(root / "hosp" / "diagnoses_icd.csv.gz", icd_version="10", grouping="none")
    assert ten.codes == ["ICD10:E119", "ICD10:I10", "ICD10:I110"]


# ---- API ---------------------------------------------------------------------------------------
def test_loaders_registry_and_split(tmp_path, mimic3):
    assert {"npz", "npy", "csv", "parquet", "mimic3", "mimic4", "eicu", "long", "wide-codes",
            "omop", "demo"} <= set(LOADERS)
    ds = load(mimic3, DataOptions(source="mimic3", kind="count"))
    assert ds.kind == "count"
    s = split(ds, 0.2, seed=1)
    assert len(s.holdout) == 20 and len(s.train) == 80


def test_saved_pandas_index_is_not_a_feature(tmp_path):
    df = pd.DataFrame({"patient_id": ["p1", "p2", "p3"], "a": [0, 1, 1], "b": [1, 0, 1]})
    df.to_csv(tmp_path / "idx.csv")  # leading 'Unnamed: 0'
    ds = load(tmp_path / "idx.csv")
    assert ds.codes == ["a", "b"] and ds.patient_ids == ["p1", "p2", "p3"]


def test_mimic3_upper_case_columns_gz_and_titles(tmp_path):
    # full MIMIC-III spells its columns in upper case and may be gzipped
    pd.DataFrame({"ROW_ID": range(6), "SUBJECT_ID": [5, 5, 5, 9, 9, 9], "HADM_ID": [1, 1, 2, 3, 3, None],
                  "SEQ_NUM": 1, "ICD9_CODE": ["4019", "E8889", "4011", "V5789", None, "486"]}
                 ).to_csv(tmp_path / "DIAGNOSES_ICD.csv.gz", index=False)
    pd.DataFrame({"ROW_ID": range(4), "ICD9_CODE": ["4011", "4019", "E8889", "486"],
                  "SHORT_TITLE": ["a", "b", "c", "d"],
                  "LONG_TITLE": ["Benign hypertension", "Unspecified hypertension", "Unspecified fall", "Pneumonia"]}
                 ).to_csv(tmp_path / "D_ICD_DIAGNOSES.csv", index=False)
    (tmp_path / "ADMISSIONS.csv").write_text("ROW_ID,SUBJECT_ID,HADM_ID\n1,5,1\n2,5,2\n3,9,3\n")
    ds = load(tmp_path, kind="count")
    assert ds.codes == ["401", "486", "V57", "E888"] and ds.patient_ids == ["5", "9"]
    assert ds.X.toarray().tolist() == [[2, 0, 0, 1], [0, 1, 1, 0]]
    assert ds.titles == {"401": "Benign hypertension and 1 related 401.x codes", "486": "Pneumonia",
                         "E888": "Unspecified fall (E888.x)"}
