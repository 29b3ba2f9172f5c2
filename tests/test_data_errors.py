"""Every bad input is one DataError sentence naming the file (and row/column where it applies)."""
from __future__ import annotations

import gzip
import pickle
import shutil
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import assert_one_sentence, require_data
from corgan_core.data import DataOptions, load, load_demo
from corgan_core.errors import DataError


def bad(path, *must, **kw) -> str:
    """load(path) must raise DataError; its one-sentence message names the file and ``must``."""
    with pytest.raises(DataError) as info:
        load(path, **kw)
    msg = str(info.value)
    assert_one_sentence(msg)
    name = getattr(path, "name", str(path))
    assert name in msg, msg
    for m in must:
        assert m in msg, f"{m!r} not in {msg!r}"
    return msg


def csv(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- missing things ------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    bad(tmp_path / "nope.csv", "not found")


def test_missing_folder(tmp_path):
    bad(tmp_path / "no_such_folder", "not found")
    bad(tmp_path / "no_such_folder", "not found", source="mimic3")


def test_folder_without_expected_tables(tmp_path):
    (tmp_path / "ADMISSIONS.csv").write_text("subject_id,hadm_id\n1,2\n")
    msg = bad(tmp_path, "DIAGNOSES_ICD.csv", "ADMISSIONS.csv")
    assert "expected tables" in msg
    bad(tmp_path, "DIAGNOSES_ICD.csv", source="mimic3")
    bad(tmp_path, "diagnosis.csv.gz", source="eicu")
    bad(tmp_path, "hosp/diagnoses_icd.csv.gz", source="mimic4")


def test_missing_column(tmp_path):
    folder = tmp_path / "m3"
    folder.mkdir()
    (folder / "DIAGNOSES_ICD.csv").write_text("subject_id,hadm_id,code\n1,2,401\n")
    with pytest.raises(DataError) as info:
        load(folder)
    msg = str(info.value)
    assert_one_sentence(msg)
    assert "DIAGNOSES_ICD.csv" in msg and "ICD9_CODE" in msg and "subject_id, hadm_id, code" in msg


def test_missing_named_columns(tmp_path):
    p = csv(tmp_path, "long.csv", "pid,dx\n1,401\n2,250\n")
    bad(p, "'patient'", "pid, dx", source="long", patient_col="patient")
    bad(p, "'diag_9'", source="wide-codes", patient_col="pid", code_cols="diag_8,diag_9".replace("diag_8", "dx"))
    bad(p, "'y'", source="csv", label_col="y")


# ---- cell-level problems -------------------------------------------------------------------------------
def test_nan_in_numeric_table(tmp_path):
    p = csv(tmp_path, "m.csv", "id,a,b\np1,1,0\np2,0,\np3,1,1\n")
    bad(p, "row 2 (line 3 of the file)", "column 'b'", "missing")


def test_nan_in_npy(tmp_path):
    X = np.ones((3, 4))
    X[2, 1] = np.nan
    np.save(tmp_path / "x.npy", X)
    bad(tmp_path / "x.npy", "row 3, column 2", "NaN")


def test_negative_count_in_long_table(tmp_path):
    p = csv(tmp_path, "long.csv", "patient,code,count\n1,401,2\n1,250,-1\n2,401,1\n")
    bad(p, "row 2 (line 3 of the file)", "column 'count'", "negative")


def test_negative_count_in_matrix(tmp_path):
    np.save(tmp_path / "c.npy", np.array([[1, 2], [3, -4]]))
    bad(tmp_path / "c.npy", "row 2, column 2", "negative", kind="count")


def test_non_numeric_cell(tmp_path):
    p = csv(tmp_path, "m.csv", "id,a,b\np1,1,0\np2,0,1\np3,x7,1\n")
    bad(p, "row 3 (line 4 of the file)", "column 'a'", "'x7'")


def test_non_numeric_count(tmp_path):
    p = csv(tmp_path, "long.csv", "patient,code,count\n1,401,2\n1,250,lots\n")
    bad(p, "row 2 (line 3 of the file)", "column 'count'", "'lots'")


def test_binary_stated_but_counts_given(tmp_path):
    p = csv(tmp_path, "m.csv", "a,b\n1,0\n0,3\n")
    bad(p, "row 2 (line 3 of the file)", "column 'b'", "0 or 1", kind="binary")
    assert load(p).kind == "count"  # not stated: inferred


def test_missing_patient_id(tmp_path):
    p = csv(tmp_path, "enc.csv", "patient_nbr,diag_1,diag_2\n7,250,401\n,V57,?\n")
    bad(p, "row 2 (line 3 of the file)", "'patient_nbr'", source="wide-codes")


def test_bad_icd_version_value(tmp_path):
    hosp = tmp_path / "hosp"
    hosp.mkdir()
    (hosp / "diagnoses_icd.csv").write_text(
        "subject_id,hadm_id,icd_code,icd_version\n1,2,401,9\n2,3,I10,11\n")
    msg = bad(hosp / "diagnoses_icd.csv", "row 2 (line 3 of the file)", "'icd_version'", "'11'",
              source="mimic4")
    assert msg


# ---- shape problems -----------------------------------------------------------------------------------
def test_empty_table(tmp_path):
    p = csv(tmp_path, "m.csv", "id,a,b\n")
    bad(p, "empty")


def test_empty_file(tmp_path):
    p = csv(tmp_path, "m.csv", "")
    bad(p, "empty")


def test_empty_npy(tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((0, 5)))
    bad(tmp_path / "e.npy", "empty")


def test_empty_after_min_count(tmp_path):
    p = csv(tmp_path, "long.csv", "patient,code\n1,401\n2,250\n")
    bad(p, "min_count", "empty", min_count=3)


def test_only_missing_codes(tmp_path):
    p = csv(tmp_path, "enc.csv", "patient_nbr,diag_1,diag_2\n7,?,?\n8,?,\n")
    bad(p, "empty", source="wide-codes")


def test_one_patient(tmp_path):
    p = csv(tmp_path, "m.csv", "id,a,b\np1,1,0\n")
    bad(p, "at least 2 patients are needed")
    q = csv(tmp_path, "long.csv", "patient,code\n1,401\n1,250\n")
    bad(q, "at least 2 patients are needed")


def test_duplicate_ids(tmp_path):
    p = csv(tmp_path, "m.csv", "id,a,b\np1,1,0\np2,0,1\np1,1,1\n")
    assert "p1" not in bad(p, "rows 1, 3", "more than once")  # no patient id in a message


def test_one_dimensional_npy(tmp_path):
    np.save(tmp_path / "v.npy", np.ones(4))
    bad(tmp_path / "v.npy", "2-D")


# ---- broken files ---------------------------------------------------------------------------------------
def test_truncated_gzip(tmp_path):
    p = tmp_path / "diagnosis.csv.gz"
    rows = "patientunitstayid,icd9code\n" + "".join(f"{i},\"401.9, I10\"\n" for i in range(20000))
    data = gzip.compress(rows.encode())
    p.write_bytes(data[: len(data) // 2])
    bad(p, "truncated or corrupt")
    bad(p, "truncated or corrupt", source="csv")


def test_not_gzip(tmp_path):
    p = tmp_path / "m.csv.gz"
    p.write_bytes(b"this is not gzip data")
    bad(p, "truncated or corrupt")


def test_truncated_real_gzip(tmp_path):
    src = require_data("eicu-demo") / "diagnosis.csv.gz"
    p = tmp_path / "diagnosis.csv.gz"
    p.write_bytes(src.read_bytes()[:100_000])
    bad(tmp_path, "diagnosis.csv.gz", "truncated or corrupt")


def test_ragged_csv(tmp_path):
    p = csv(tmp_path, "m.csv", "a,b\n1,0\n0,1,1\n")
    bad(p, "line 3", "row 2")


@pytest.mark.parametrize("name", ["data.matrix", "data.pkl", "data.pickle"])
def test_pickle_refused(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(pickle.dumps(np.eye(3)))
    msg = bad(p, "pickle", "np" if False else "numpy.save", "scipy.sparse.save_npz")
    bad(p, "pickle", source="npz")
    assert "never unpickles" in msg


def test_object_npy_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad(tmp_path / "o.npy", "pickled Python objects", "numpy.save")


def test_unknown_source(tmp_path):
    p = csv(tmp_path, "m.csv", "a,b\n1,0\n0,1\n")
    bad(p, "'spss'", "auto", source="spss")


def test_unknown_option_and_kind(tmp_path):
    p = csv(tmp_path, "m.csv", "a,b\n1,0\n0,1\n")
    with pytest.raises(DataError) as info:
        load(p, colour="red")
    assert_one_sentence(str(info.value))
    assert "'colour'" in str(info.value)
    bad(p, "'fuzzy'", kind="fuzzy")
    bad(p, "'7'", source="long", icd_version="7")
    bad(p, "'4digit'", grouping="4digit")


def test_unknown_file_type(tmp_path):
    p = tmp_path / "m.xlsx"
    p.write_bytes(b"PK")
    bad(p, ".xlsx", "source")


def test_corrupt_zip(tmp_path):
    p = tmp_path / "d.zip"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    bad(p, "zip", "truncated or corrupt")


def test_zip_without_one_csv(tmp_path):
    p = tmp_path / "two.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("a.csv", "x,y\n1,2\n")
        z.writestr("b.csv", "a,b\n1,2\n3,4\n")
    bad(p, "several CSV files", "::")
    ok = load(f"{p}::b.csv", source="csv")
    assert ok.X.shape == (2, 2) and ok.kind == "count"


def test_corrupt_parquet(tmp_path):
    p = tmp_path / "t.parquet"
    p.write_bytes(b"PAR1 this is not parquet")
    bad(p, "Parquet", "truncated or corrupt")


def test_corrupt_npz(tmp_path):
    p = tmp_path / "t.npz"
    p.write_bytes(b"PK\x03\x04garbage")
    bad(p, "truncated or corrupt")


def test_several_arrays_npz(tmp_path):
    np.savez(tmp_path / "t.npz", a=np.eye(2), b=np.eye(2))
    bad(tmp_path / "t.npz", "several arrays")


def test_corrupt_duckdb(tmp_path):
    p = tmp_path / "cdm.duckdb"
    p.write_bytes(b"not a database" * 100)
    bad(p, "DuckDB")


def test_duckdb_without_cdm(tmp_path):
    import duckdb

    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("create table foo (x int)")
    con.close()
    bad(p, "condition_occurrence", "foo")


def test_continuous_asked_of_codes(tmp_path):
    folder = require_data("mimic3-demo")
    with pytest.raises(DataError) as info:
        load(folder, kind="continuous")
    assert_one_sentence(str(info.value))
    assert "DIAGNOSES_ICD.csv" in str(info.value)


def test_eicu_stay_missing_from_patient_table(tmp_path):
    (tmp_path / "diagnosis.csv").write_text("patientunitstayid,icd9code\n1,\"401.9, I10\"\n2,486\n3,250.0\n")
    (tmp_path / "patient.csv").write_text("patientunitstayid,uniquepid\n1,a\n2,b\n")
    bad(tmp_path / "diagnosis.csv", "row 3 (line 4 of the file)", "patient.csv")


def test_demo_errors_are_data_errors():
    with pytest.raises(DataError):
        load_demo(DataOptions(kind="continuous"))


def test_no_raw_exception_from_strange_inputs(tmp_path):
    # binary junk under a CSV name, a folder given to a file loader, a sparse npz with NaN
    p = tmp_path / "junk.csv"
    p.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(DataError):
        load(p)
    bad(tmp_path, "folder", source="long")
    X = sp.csr_matrix(np.array([[1.0, 0], [0, np.nan]]))
    sp.save_npz(tmp_path / "nan.npz", X)
    bad(tmp_path / "nan.npz", "row 2, column 2", "NaN")
    shutil.rmtree(tmp_path / "nan.npz", ignore_errors=True)


@pytest.mark.parametrize("path", [None, "", "  "])
def test_no_path(path):
    with pytest.raises(DataError) as info:
        load(path)
    assert_one_sentence(str(info.value))
    assert "No data path" in str(info.value)


def test_a_non_numpy_file_named_npz_is_called_corrupt_not_a_pickle(tmp_path):
    bad = tmp_path / "upload.npz"
    bad.write_bytes(b"hello, this is not numpy at all")
    with pytest.raises(DataError) as err:
        load(bad)
    msg = str(err.value)
    assert "upload.npz" in msg and "not a NumPy" in msg and "pickle" not in msg
    assert_one_sentence(msg)


def test_every_loader_is_a_declared_source_choice():
    from corgan_core.data import LOADERS
    from corgan_core.data.options import SOURCES

    assert set(SOURCES) == {"auto", *LOADERS}
