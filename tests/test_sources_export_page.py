"""The Export page offers a run's synthetic patients as an OMOP CDM (a .duckdb download and a
PostgreSQL target) when the run learned OMOP data, and not otherwise."""
from __future__ import annotations

import pytest

from corgan_core import omop_out
from corgan_core.data import load
from corgan_core.runs import Run, TrainSettings
from tests.conftest import REPO_ROOT, assert_one_sentence, require_data

APP = str(REPO_ROOT / "dashboard" / "app.py")


def _train(root, data):
    from corgan_core.runs.execute import execute

    run = Run.create(data, model="independent", settings=TrainSettings(device="cpu", evaluate=False),
                     run_dir=root / "run")
    execute(run)
    assert run.status()["status"] == "finished"
    return run


def _export_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("../pages/export.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_an_omop_run_is_offered_as_omop(runs_dir):
    run = _train(runs_dir, "demo")
    at = _export_page()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download OMOP .duckdb" in labels
    path = omop_out.omop_file(run, 120, 0)  # what the button runs
    assert path.parent == run.dir / "samples" and omop_out.omop_file(run, 120, 0) == path  # written once
    back = load(path)
    from corgan_core.runs.products import synthetic

    drawn = synthetic(run, 120, 0)
    rows = [int(p) - 1 for p in back.patient_ids]
    cols = [drawn.codes.index(c) for c in back.codes]
    assert (drawn.X[rows][:, cols] != back.X).nnz == 0 and drawn.X.sum() == back.X.sum()
    # an unreachable PostgreSQL target: one sentence in an error box, no traceback
    url = next(t for t in at.text_input if t.label == "PostgreSQL target")
    url.set_value("postgresql://me@127.0.0.1:1/db?schema=synthetic").run()
    next(b for b in at.button if b.label == "Write to PostgreSQL").click().run()
    assert not at.exception
    errs = [e.value for e in at.error]
    assert len(errs) == 1 and "Cannot connect to the PostgreSQL server" in errs[0]
    assert_one_sentence(errs[0])


def test_a_run_on_icd_codes_is_not_offered_as_omop(runs_dir):
    _train(runs_dir, str(require_data("mimic3-demo")))
    at = _export_page()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV" in labels and "Download OMOP .duckdb" not in labels
    assert not [t for t in at.text_input if t.label == "PostgreSQL target"]
