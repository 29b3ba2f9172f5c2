"""Synthetic data out as OMOP (DuckDB here; PostgreSQL in test_sources_postgres.py): what is written
reads back through the project's own OMOP loader as the sampled matrix."""
from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import numpy as np
import pytest
import scipy.sparse as sp

from corgan_core.data import Dataset, load
from corgan_core.data.omop_write import PLACEHOLDER_DATE, write_omop
from corgan_core.errors import DataError
from tests.conftest import SHARED_DATA, assert_one_sentence, require_data

CORGAN = os.path.join(os.path.dirname(sys.executable), "corgan")


def _toy(kind="binary"):
    X = np.array([[1, 0, 2], [0, 0, 0], [3, 1, 0]], dtype=np.float32)
    if kind == "binary":
        X = (X > 0).astype(np.float32)
    return Dataset(X=sp.csr_matrix(X), codes=["201826", "4329847", "40481087"], patient_ids=["a", "b", "c"],
                   kind=kind, source="toy")


@pytest.mark.parametrize("kind", ["binary", "count"])
def test_written_rows_read_back_as_the_matrix(tmp_path, kind):
    ds = _toy(kind)
    where, rows = write_omop(ds, tmp_path / "out.duckdb")
    assert rows == int(ds.X.sum())
    back = load(where, kind=kind)
    # the all-zero synthetic person has no condition row, so the loader leaves it out (and says so)
    assert back.patient_ids == ["1", "3"] and back.codes == ["201826", "4329847", "40481087"]
    dense = np.zeros(ds.X.shape, dtype=np.float32)
    col = {c: j for j, c in enumerate(ds.codes)}
    dense[np.ix_([int(p) - 1 for p in back.patient_ids], [col[c] for c in back.codes])] = back.X.toarray()
    np.testing.assert_array_equal(dense, ds.X.toarray())
    assert back.warnings and "1 of 3 persons" in back.warnings[0]
    con = duckdb.connect(where, read_only=True)
    assert con.execute("select count(*) from person").fetchone()[0] == 3
    assert con.execute("select distinct condition_start_date from condition_occurrence").fetchall() == [(PLACEHOLDER_DATE,)]
    assert con.execute("select count(*) from observation_period").fetchone()[0] == 3
    con.close()


def test_the_demo_round_trips_exactly(tmp_path):
    ds = load("demo")
    where, _ = write_omop(ds, tmp_path / "demo.duckdb")
    back = load(where)
    assert back.codes == ds.codes and (back.X != ds.X).nnz == 0
    assert back.patient_ids == [str(i) for i in range(1, ds.n_patients + 1)]  # synthetic ids, not the real ones


def test_codes_that_are_not_concept_ids_are_refused(tmp_path):
    ds = load(require_data("mimic3-demo"))
    ds = Dataset(X=ds.X, codes=[f"V{c}" if i == 0 else c for i, c in enumerate(ds.codes)],
                 patient_ids=ds.patient_ids, kind=ds.kind, source="x")
    with pytest.raises(DataError) as info:
        write_omop(ds, tmp_path / "x.duckdb")
    assert_one_sentence(str(info.value))
    assert "concept id" in str(info.value) and not (tmp_path / "x.duckdb").exists()


def test_an_existing_file_is_never_overwritten(tmp_path):
    target = tmp_path / "cdm.duckdb"
    target.write_bytes(b"precious")
    with pytest.raises(DataError) as info:
        write_omop(_toy(), target)
    assert_one_sentence(str(info.value))
    assert target.read_bytes() == b"precious"


def test_cli_sample_writes_omop_and_refuses_a_non_omop_run(tmp_path):
    run = tmp_path / "run"
    r = subprocess.run([CORGAN, "train", "demo", "--model", "independent", "--no-evaluate", "--run-dir", str(run)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "synthetic.duckdb"
    r = subprocess.run([CORGAN, "sample", "--run-dir", str(run), "-n", "250", "--omop", str(out), "-o",
                        str(tmp_path / "s.npz")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "250 synthetic persons" in r.stdout
    sampled, back = load(tmp_path / "s.npz"), load(out)
    dense = np.zeros(sampled.X.shape, dtype=np.float32)
    col = {c: j for j, c in enumerate(sampled.codes)}
    dense[np.ix_([int(p) - 1 for p in back.patient_ids], [col[c] for c in back.codes])] = back.X.toarray()
    np.testing.assert_array_equal(dense, sampled.X.toarray())
    assert back.titles == {}  # the vocabulary is not written
    r = subprocess.run([CORGAN, "sample", "--run-dir", str(run)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "-o FILE, --omop TARGET" in r.stderr
    if (SHARED_DATA / "mimic3-demo").exists():
        mrun = tmp_path / "mimic"
        assert subprocess.run([CORGAN, "train", str(SHARED_DATA / "mimic3-demo"), "--model", "independent",
                               "--no-evaluate", "--run-dir", str(mrun)], capture_output=True, timeout=600).returncode == 0
        r = subprocess.run([CORGAN, "sample", "--run-dir", str(mrun), "--omop", str(tmp_path / "m.duckdb")],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 2 and "not OMOP data" in r.stderr and not (tmp_path / "m.duckdb").exists()


def test_duckdb_filters_match_a_direct_count_and_an_empty_window_is_one_sentence():
    from corgan_core.data import demo_path

    ds = load("demo", domains="condition,procedure", date_from="2001-01-01", date_to="2009-12-31", kind="count")
    con = duckdb.connect(str(demo_path()), read_only=True)
    total = con.execute(
        "select count(*) from (select person_id, condition_concept_id as c, coalesce('v' || visit_occurrence_id, "
        "'o' || condition_occurrence_id) as e from condition_occurrence where condition_start_date between "
        "date '2001-01-01' and date '2009-12-31' union select person_id, procedure_concept_id, coalesce('v' || "
        "visit_occurrence_id, 'o' || procedure_occurrence_id) from procedure_occurrence where procedure_date "
        "between date '2001-01-01' and date '2009-12-31')").fetchone()[0]
    con.close()
    assert int(ds.X.sum()) == total and ds.n_codes > 80  # procedures joined the conditions
    with pytest.raises(DataError) as info:
        load("demo", date_from="2030-01-01")
    assert_one_sentence(str(info.value))
    assert "empty" in str(info.value) and "date window" in str(info.value)
