"""Loaders never guess a column, recognise Synthea exports, and say what they left out (issue 11)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import assert_one_sentence, require_data
from corgan_core.data import DataOptions, detect_source, load
from corgan_core.errors import DataError

CORGAN = str(Path(sys.executable).with_name("corgan"))


def synthea(folder: Path, *, rename_code: bool = False, blank_rows: int = 0, with_patients: bool = True) -> Path:
    """A small export in Synthea's CSV layout (the column set Synthea 3 writes for conditions.csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    snomed = [("44054006", "Diabetes"), ("38341003", "Hypertension"), ("10509002", "Acute bronchitis (disorder)")]
    for p in range(12):
        for k in range(1 + p % 3):
            code, title = snomed[(p + k) % 3]
            rows.append({"START": f"20{10 + k}-0{1 + p % 9}-1{k}", "STOP": "", "PATIENT": f"pt-{p:03d}",
                         "ENCOUNTER": f"enc-{p}-{k}", "CODE": code, "DESCRIPTION": title})
    for b in range(blank_rows):
        rows.append({"START": "2019-01-01", "STOP": "", "PATIENT": "pt-000", "ENCOUNTER": f"enc-b{b}",
                     "CODE": "", "DESCRIPTION": ""})
    df = pd.DataFrame(rows)
    if rename_code:
        df = df.rename(columns={"CODE": "SNOMED"})
    df.to_csv(folder / "conditions.csv", index=False)
    if with_patients:
        pd.DataFrame({"Id": [f"pt-{p:03d}" for p in range(12)], "BIRTHDATE": "1970-01-01"}).to_csv(
            folder / "patients.csv", index=False)
    return folder / "conditions.csv"


def refused(path, *must, **kw) -> str:
    with pytest.raises(DataError) as info:
        load(path, **kw)
    msg = str(info.value)
    assert_one_sentence(msg)
    for m in must:
        assert m in msg, f"{m!r} not in {msg!r}"
    return msg


def test_synthea_file_and_folder_are_recognised_with_titles(tmp_path):
    f = synthea(tmp_path / "export", blank_rows=2)
    assert detect_source(f) == "synthea" and detect_source(f.parent) == "synthea"
    for ds in (load(f), load(f.parent)):
        assert ds.X.shape == (12, 3)
        assert ds.codes == ["10509002", "38341003", "44054006"]  # numeric SNOMED order, kept whole
        assert ds.titles["44054006"] == "Diabetes"
        assert ds.warnings == [f"2 of 26 rows of {f} have no code in column 'CODE' and were left out (7.7%)."]
    count = load(f, kind="count")
    assert count.X.sum() == 24 and count.X.max() == 1  # one encounter per (patient, condition)


def test_synthea_patient_missing_from_patients_csv(tmp_path):
    f = synthea(tmp_path / "export")
    pats = pd.read_csv(tmp_path / "export" / "patients.csv").iloc[1:]
    pats.to_csv(tmp_path / "export" / "patients.csv", index=False)
    msg = refused(f, "patients.csv does not list", "row 1 (line 2 of the file)")
    assert "pt-000" not in msg  # no patient id in a message


def test_renamed_code_column_is_never_guessed(tmp_path):
    """The issue's case: CODE renamed; START dates must not become "codes"."""
    f = synthea(tmp_path / "export", rename_code=True, with_patients=False)
    assert detect_source(f) == "csv"  # not Synthea any more, and not silently long
    msg = refused(f, "non-numeric value", "source long")
    assert "--patient-col" in msg
    msg = refused(f, "no column named like a code", "START, STOP, PATIENT, ENCOUNTER, SNOMED, DESCRIPTION",
                  "--code-cols", source="long")
    # named, it loads the right column
    ds = load(f, source="long", code_cols="SNOMED")
    assert set(ds.codes) == {"10509002", "38341003", "44054006"} and ds.n_patients == 12


def test_patient_column_is_never_the_first_column_by_default(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("visit_date,member,code\n2020-01-01,a,401\n2020-02-01,b,250\n2020-03-01,a,250\n")
    refused(p, "no column named like a patient id", "visit_date, member, code", source="long")
    ds = load(p, source="long", patient_col="member")
    assert ds.patient_ids == ["a", "b"] and ds.codes == ["250", "401"]


def test_third_column_is_not_taken_for_a_count(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("patient,code,description\n1,401,Hypertension\n2,250,Diabetes\n1,250,Diabetes\n")
    ds = load(p, source="long")
    assert ds.kind == "binary" and ds.X.toarray().tolist() == [[1, 1], [1, 0]]


def test_two_column_table_needs_one_named_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("member,dx\na,401\nb,250\n")
    assert load(p, source="long").patient_ids == ["a", "b"]
    q = tmp_path / "u.csv"
    q.write_text("member,thing\na,401\nb,250\n")
    refused(q, "no column named like a patient id", source="long")


def test_blank_codes_in_a_long_table_are_counted(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("patient,code\n1,401\n1,\n2,250\n2,?\n3,250\n")
    ds = load(p)
    assert ds.warnings == [f"2 of 5 rows of {p} have no code in column 'code' and were left out (40.0%)."]
    assert load(tmp_path / "long.csv").summary()["warnings"] == ds.warnings


def test_blank_codes_of_real_eicu_are_reported_in_inspect():
    folder = require_data("eicu-demo")
    ds = load(folder)
    df = pd.read_csv(folder / "diagnosis.csv.gz", usecols=["icd9code"], dtype=str)
    blank = int((df["icd9code"].isna() | (df["icd9code"].str.strip() == "")).sum())
    assert blank > 0
    assert ds.warnings == [f"{blank:,} of {len(df):,} diagnosis rows of {folder / 'diagnosis.csv.gz'} have no code "
                           f"in column 'icd9code' and were left out ({100 * blank / len(df):.1f}%)."]
    out = subprocess.run([CORGAN, "data", "inspect", str(folder), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["warnings"] == ds.warnings
    out = subprocess.run([CORGAN, "data", "inspect", str(folder)], capture_output=True, text=True, check=True)
    assert f"warning: {ds.warnings[0]}" in out.stdout


def test_mimic4_messages_say_what_to_do(tmp_path):
    hosp = tmp_path / "m4" / "hosp"
    hosp.mkdir(parents=True)
    pd.DataFrame({"subject_id": [1, 2], "hadm_id": [10, 20], "icd_code": ["I10", "E119"], "icd_version": [10, 10]}
                 ).to_csv(hosp / "diagnoses_icd.csv", index=False)
    refused(tmp_path / "m4", "no ICD-9 codes, only ICD-10", "icd_version 10 or both", icd_version="9")
    assert load(tmp_path / "m4", icd_version="both").codes == ["ICD10:E11", "ICD10:I10"]  # ICD-10 grouped to 3
    (hosp / "diagnoses_icd.csv").write_text("subject_id,hadm_id,icd_code,icd_version\n1,10,I10,\n2,20,E119,10\n")
    msg = refused(tmp_path / "m4", "no ICD version at row 1", "9 or 10")
    assert "nan" not in msg


def test_grouping_help_says_icd10_is_grouped_too():
    out = subprocess.run([CORGAN, "data", "inspect", "--help"], capture_output=True, text=True, check=True)
    assert "ICD-10" in " ".join(out.stdout.split())
    assert DataOptions.__dataclass_fields__["grouping"].metadata["help"].startswith("ICD grouping: 3digit (ICD-9 and ICD-10")


def test_blank_code_warning_reaches_the_run_and_the_data_page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from conftest import REPO_ROOT
    from corgan_core.runs import Run

    folder = require_data("eicu-demo")
    note = load(folder).warnings[0]
    run = Run.create(str(folder), model="independent", run_dir=tmp_path / "r")
    assert run.config()["data"]["warnings"] == [note]
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=180).run()
    at.switch_page("../pages/data.py").run()
    next(r for r in at.radio if r.label == "Where is the data?").set_value("A file or folder on this server").run()
    at.text_input[0].set_value(str(folder)).run()
    next(b for b in at.button if b.label == "Use this data").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert note in [w.value for w in at.warning]
