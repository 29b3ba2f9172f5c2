"""OMOP CDM on a real PostgreSQL server: a throw-away cluster, the Eunomia CDM loaded into it with the
project's own copier, and the same matrix as DuckDB gives; filters, credentials, CLI, OMOP out."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import numpy as np
import pytest

from corgan_core.data import DataOptions, demo_path, load
from corgan_core.data.omop_write import copy_cdm, write_omop
from corgan_core.errors import DataError
from tests.conftest import assert_one_sentence
from tests.pg_server import cluster, find_bin

CORGAN = os.path.join(os.path.dirname(sys.executable), "corgan")


@pytest.fixture(scope="module")
def pg():
    if find_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests, but no initdb/pg_ctl/postgres was found "
                        "(.ci/run installs Debian's postgresql)")
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres); apt-get install postgresql")
    old = os.environ.get("CORGAN_PG_PASSWORD")
    with cluster() as server:
        os.environ["CORGAN_PG_PASSWORD"] = server.password
        try:
            copied = copy_cdm(demo_path(), server.url(schema="cdm"))
            server.copied = copied
            yield server
        finally:
            if old is None:
                os.environ.pop("CORGAN_PG_PASSWORD", None)
            else:
                os.environ["CORGAN_PG_PASSWORD"] = old


def test_eunomia_is_copied_whole(pg):
    assert pg.copied["condition_occurrence"] == 65332 and pg.copied["person"] == 2694
    assert pg.psql("select count(*) from cdm.condition_occurrence").strip() == "65332"
    assert pg.psql("select count(distinct concept_id) from cdm.concept").strip() == "442"


@pytest.mark.parametrize("options", [
    DataOptions(),
    DataOptions(kind="count"),
    DataOptions(kind="count", domains="condition,procedure,drug", date_from="2000-01-01", date_to="2010-12-31"),
    DataOptions(concepts="40481087, 4112343", min_count=2),
], ids=["binary", "count", "three-domains-window", "concept-set"])
def test_postgresql_and_duckdb_give_the_identical_matrix(pg, options):
    a, b = load(pg.url(schema="cdm"), options), load(demo_path(), options)
    assert a.sha256() == b.sha256()  # matrix, codes, patient ids and kind, byte for byte
    assert a.codes == b.codes and a.patient_ids == b.patient_ids and a.titles == b.titles
    assert a.warnings == [w.replace(str(demo_path()), a.source) for w in b.warnings]
    assert a.n_patients >= 2 and a.X.nnz > 0 and set(a.titles) == set(a.codes)


def test_the_default_reads_conditions_with_titles_from_concept(pg):
    ds = load(pg.url(schema="cdm"))
    assert (ds.n_patients, ds.n_codes) == (2694, 80)
    assert ds.titles["40481087"] == "Viral sinusitis"
    assert ds.source == pg.url(schema="cdm") and pg.password not in ds.source


def test_date_window_and_concept_set_match_a_direct_count(pg):
    opts = DataOptions(date_from="2005-01-01", date_to="2012-06-30", concepts="40481087,4112343,260139")
    ds = load(pg.url(schema="cdm"), opts)
    con = duckdb.connect(str(demo_path()), read_only=True)
    pairs = con.execute(
        "select count(*), count(distinct person_id) from (select distinct person_id, condition_concept_id "
        "from condition_occurrence where condition_start_date between date '2005-01-01' and date '2012-06-30' "
        "and condition_concept_id in (40481087, 4112343, 260139))").fetchone()
    con.close()
    assert (ds.X.nnz, ds.n_patients) == pairs and ds.n_codes == 3
    assert any("have no kept event" in w for w in ds.warnings)


def test_the_concept_set_can_come_from_a_file(pg, tmp_path):
    f = tmp_path / "set.csv"
    f.write_text("concept_id,concept_name\n40481087,Viral sinusitis\n4112343,Acute viral pharyngitis\n")
    ds = load(pg.url(schema="cdm"), concepts=str(f))
    assert ds.codes == ["4112343", "40481087"]


@pytest.mark.parametrize("opts, words", [
    ({"date_from": "2010-13-01"}, ["date_from", "YYYY-MM-DD"]),
    ({"date_from": "2012-01-01", "date_to": "2011-01-01"}, ["empty"]),
    ({"domains": "condition,labs"}, ["labs"]),
    ({"concepts": "40481087,sinusitis"}, ["sinusitis", "concept id"]),
])
def test_bad_options_are_one_sentence(pg, opts, words):
    with pytest.raises(DataError) as info:
        load(pg.url(schema="cdm"), **opts)
    assert_one_sentence(str(info.value))
    assert all(w in str(info.value) for w in words)


def test_the_password_is_never_shown(pg, monkeypatch):
    with pytest.raises(DataError) as info:
        load(f"postgresql://corgan:{pg.password}@127.0.0.1:{pg.port}/postgres?schema=cdm")
    assert pg.password not in str(info.value) and "CORGAN_PG_PASSWORD" in str(info.value)
    monkeypatch.setenv("CORGAN_PG_PASSWORD", "not-" + pg.password)
    with pytest.raises(DataError) as info:
        load(pg.url(schema="cdm"))
    assert_one_sentence(str(info.value))
    assert "password authentication failed" in str(info.value) and pg.password not in str(info.value)
    # a whole URL, password included, may live in an environment variable
    monkeypatch.setenv("CDM_URL", f"postgresql://corgan:{pg.password}@127.0.0.1:{pg.port}/postgres?schema=cdm")
    monkeypatch.delenv("CORGAN_PG_PASSWORD")
    ds = load("env:CDM_URL")
    assert ds.n_patients == 2694 and pg.password not in ds.source and pg.password not in json.dumps(ds.summary())


def test_a_missing_schema_or_table_is_one_sentence(pg):
    for url, word in ((pg.url(schema="nope"), "schema 'nope'"), (pg.url(), "condition_occurrence")):
        with pytest.raises(DataError) as info:
            load(url)
        assert_one_sentence(str(info.value))
        assert word in str(info.value)


def test_cli_inspect_reads_the_server_and_never_prints_the_password(pg):
    r = subprocess.run([CORGAN, "data", "inspect", pg.url(schema="cdm"), "--json", "--kind", "count"],
                       capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["patients"], s["codes"], s["kind"]) == (2694, 80, "count")
    assert pg.password not in r.stdout + r.stderr


def test_a_run_trained_on_postgres_samples_out_to_postgres_as_omop(pg, tmp_path):
    run_dir = tmp_path / "run"
    r = subprocess.run([CORGAN, "train", pg.url(schema="cdm"), "--model", "independent", "--no-evaluate",
                        "--run-dir", str(run_dir)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["data"]["path"] == pg.url(schema="cdm") and pg.password not in json.dumps(cfg)
    target = pg.url(schema="synthetic")
    r = subprocess.run([CORGAN, "sample", "--run-dir", str(run_dir), "-n", "400", "--omop", target,
                        "-o", str(tmp_path / "s.npz")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    sampled = load(tmp_path / "s.npz")
    back = load(target)
    dense = np.zeros((400, sampled.n_codes), dtype=np.float32)
    col = {c: j for j, c in enumerate(sampled.codes)}
    rows = [int(p) - 1 for p in back.patient_ids]
    dense[np.ix_(rows, [col[c] for c in back.codes])] = back.X.toarray()
    np.testing.assert_array_equal(dense, sampled.X.toarray())
    assert pg.psql("select count(*) from synthetic.person").strip() == "400"
    assert pg.psql("select distinct condition_start_date from synthetic.condition_occurrence").strip() == "2000-01-01"
    # a second write to the same schema is refused, nothing is overwritten
    r = subprocess.run([CORGAN, "sample", "--run-dir", str(run_dir), "-n", "10", "--omop", target],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "already has a person table" in r.stderr
    assert pg.psql("select count(*) from synthetic.person").strip() == "400"


def test_write_omop_to_postgres_round_trips_counts(pg):
    ds = load(demo_path(), kind="count")
    where, rows = write_omop(ds, pg.url(schema="counts"))
    assert rows == int(ds.X.sum())
    back = load(pg.url(schema="counts"), kind="count")
    assert back.codes == ds.codes and (back.X != ds.X).nnz == 0


def test_the_data_page_reads_a_postgresql_url(pg, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO_ROOT

    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=180).run()
    at.switch_page("../pages/data.py").run()
    next(r for r in at.radio if r.label == "Where is the data?").set_value("A file or folder on this server").run()
    next(t for t in at.text_input if t.label == "Path").set_value(pg.url(schema="cdm")).run()
    next(t for t in at.text_input if t.label == "date from").set_value("2005-01-01").run()
    next(b for b in at.button if b.label == "Use this data").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    expected = load(pg.url(schema="cdm"), date_from="2005-01-01")
    assert metrics["Patients"] == f"{expected.n_patients:,}" and metrics["Codes"] == f"{expected.n_codes:,}"
    assert expected.n_patients < 2694  # the date window took effect
    shown = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert pg.password not in shown
