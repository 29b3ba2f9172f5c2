"""Every dashboard page under Streamlit's AppTest: it loads, its main widgets work, bad input gives an
error box (st.error) and never an exception. Runs live in a temporary $CORGAN_RUNS_DIR.

AppTest never fires ``st.fragment(run_every=...)``, so tests that train poll the run and re-run the app.
"""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from corgan_core.runs import Run, TrainSettings, list_runs
from corgan_core.runs.settings import QUICK_EPOCHS

from conftest import REPO_ROOT, require_data

APP = str(REPO_ROOT / "dashboard" / "app.py")
TINY = {"epochs": 2, "pretrain_epochs": 1}  # a few seconds on the demo data


# ---- helpers -------------------------------------------------------------------------------------
def open_app(page: str | None = "data"):
    """The app (it opens on the Start page), then ``page`` unless None."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180).run()
    if page is not None:
        at.switch_page(f"../pages/{page}.py").run()
    return at


def open_train_on_the_omop_demo():
    """The Train page with the small Eunomia demo chosen (training tests stay quick)."""
    at = open_app("data")
    one(at.radio, "Demo").set_value("demo").run()
    one(at.button, "Use this data").click().run()
    at.switch_page("../pages/train.py").run()
    return at


def ok(at) -> None:
    """No exception element (the page never shows a traceback)."""
    assert not at.exception, [e.value for e in at.exception]


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def one(widgets, label: str):
    hits = [w for w in widgets if w.label == label]
    assert hits, f"no widget labelled {label!r} among {[w.label for w in widgets]}"
    return hits[0]


def plotly_count(at) -> int:
    return len(at.get("plotly_chart"))


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(root))
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Path:
    """A finished tiny run on the demo data, trained in this process once per session."""
    from corgan_core.runs.execute import execute

    root = tmp_path_factory.mktemp("trained")
    run = Run.create("demo", model_config=TINY, settings=TrainSettings(device="cpu"), run_dir=root / "tiny-demo-run")
    execute(run)
    assert run.status()["status"] == "finished"
    from corgan_core.runs.products import evaluation

    evaluation(run)  # the report is cached in the run folder, as the pages leave it
    return run.dir


@pytest.fixture
def finished(trained, runs_dir) -> Run:
    """A copy of the trained run inside this test's runs folder."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    dest = runs_dir / trained.name
    shutil.copytree(trained, dest)
    return Run(dest)


# ---- Data ----------------------------------------------------------------------------------------
def test_app_opens_on_a_start_page_that_names_the_steps_and_the_demo():
    at = open_app(None)
    ok(at)
    assert at.title[0].value == "corGAN studio"
    text = " ".join(m.value for m in at.markdown)
    for step in ("1. Data", "2. Train", "3. Fidelity", "4. Privacy", "Diabetes 130-US", "Export"):
        assert step in text or step in " ".join(c.value for c in at.caption), step


def test_app_opens_on_the_demo_data():
    at = open_app()
    ok(at)
    assert not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "20,000" and metrics["Codes"] == "754"  # the Diabetes 130-US demo
    assert plotly_count(at) == 2  # codes per patient, most frequent codes
    assert any("patients train the model" in m.value for m in at.markdown)


def test_the_omop_demo_is_one_click_away():
    at = open_app()
    one(at.radio, "Demo").set_value("demo").run()
    one(at.button, "Use this data").click().run()
    ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "2,694" and metrics["Codes"] == "80"


def test_data_bad_path_shows_an_error_and_keeps_the_demo():
    at = open_app()
    at.radio[0].set_value("A file or folder on this server").run()
    one(at.text_input, "Path").set_value("/no/such/file.csv").run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert any("not found" in e.lower() for e in errors(at)), errors(at)
    assert {m.label: m.value for m in at.metric}["Patients"] == "20,000"  # the page stays usable


def test_data_empty_path_and_missing_upload_are_errors():
    at = open_app()
    at.radio[0].set_value("A file or folder on this server").run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert any("Type the path" in e for e in errors(at))
    at.radio[0].set_value("Upload a file").run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert any("Choose a file" in e for e in errors(at))


def test_data_server_path_mimic_with_titles_and_split():
    mimic = require_data("mimic3-demo")
    at = open_app()
    at.radio[0].set_value("A file or folder on this server").run()
    one(at.text_input, "Path").set_value(str(mimic)).run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "100" and metrics["Codes"] == "275"
    one(at.slider, "Held-out share").set_value(0.3).run()
    assert any("**70** patients train the model" in m.value for m in at.markdown)
    # grouping none keeps the full ICD-9 codes
    one(at.selectbox, "grouping").set_value("none").run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert int({m.label: m.value for m in at.metric}["Codes"].replace(",", "")) > 275


def test_data_continuous_table_shows_column_profiles():
    eeg = require_data("epileptic-seizure")
    at = open_app()
    at.radio[0].set_value("A file or folder on this server").run()
    one(at.text_input, "Path").set_value(str(eeg / "epileptic_seizure_recognition_rebuilt.csv.gz")).run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert not errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "11,500" and metrics["Columns"] == "178"
    assert plotly_count(at) == 2


def test_data_upload_csv_and_a_bad_upload():
    at = open_app()
    at.radio[0].set_value("Upload a file").run()
    rows = "a,b,c\n" + "\n".join(f"{i % 2},{(i // 2) % 2},1" for i in range(20)) + "\n"
    at.file_uploader[0].set_value(("matrix.csv", rows.encode(), "text/csv")).run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert not errors(at)
    assert {m.label: m.value for m in at.metric}["Patients"] == "20"
    at.file_uploader[0].set_value(("broken.npz", b"not a zip at all", "application/octet-stream")).run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert errors(at) and "broken.npz" in errors(at)[0]
    assert "_uploads" not in errors(at)[0]  # the steward's file name, not the staging folder
    assert {m.label: m.value for m in at.metric}["Patients"] == "20"  # previous data still shown


def test_a_rejected_upload_is_deleted_and_kept_ones_can_be_deleted(runs_dir):
    from corgan_core.data.upload import list_uploads

    at = open_app()
    at.radio[0].set_value("Upload a file").run()
    at.file_uploader[0].set_value(("junk.csv", b"\x00\x01 not a table", "text/csv")).run()
    one(at.button, "Use this data").click().run()
    ok(at)
    assert errors(at) and list_uploads(runs_dir / "_uploads") == []
    rows = "a,b\n" + "\n".join(f"{i % 2},{(i // 2) % 2}" for i in range(12)) + "\n"
    for name, extra in (("one.csv", ""), ("two.csv", "1,1\n")):  # different bytes: two uploads
        at.file_uploader[0].set_value((name, (rows + extra).encode(), "text/csv")).run()
        one(at.button, "Use this data").click().run()
        ok(at)
    kept = list_uploads(runs_dir / "_uploads")
    assert sorted(u["name"] for u in kept) == ["one.csv", "two.csv"]
    delete = [b for b in at.button if b.label == "Delete" and not b.disabled]
    assert len(delete) == 1  # two.csv is in use and cannot be deleted
    delete[0].click().run()
    ok(at)
    assert [u["name"] for u in list_uploads(runs_dir / "_uploads")] == ["two.csv"]


def test_upload_of_a_zipped_mimic_folder_is_unpacked(tmp_path):
    from corgan_core.data import load
    from corgan_core.data.upload import stage_upload

    mimic = require_data("mimic3-demo")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("DIAGNOSES_ICD.csv", "D_ICD_DIAGNOSES.csv", "ADMISSIONS.csv"):
            zf.write(mimic / name, f"mimic-iii-demo/{name}")
    path = stage_upload("mimic.zip", buf.getvalue(), root=tmp_path)
    assert Path(path).is_dir()
    ds = load(path)
    assert ds.n_patients == 100 and ds.titles


# ---- Train ---------------------------------------------------------------------------------------
def test_train_form_is_built_from_the_registry_configs():
    from corgan_core.models import REGISTRY, get_model_class
    from corgan_core.options import fields_of

    at = open_app("train")
    ok(at)
    assert one(at.toggle, "Quick demo").value is True
    assert sorted(one(at.selectbox, "Model").options) == sorted(REGISTRY)
    assert "cpu" in one(at.selectbox, "Device").options
    for name in REGISTRY:
        one(at.selectbox, "Model").set_value(name).run()
        ok(at)
        labels = {w.label for kind in ("number_input", "selectbox", "checkbox", "text_input") for w in at.get(kind)}
        for f in fields_of(get_model_class(name).Config):
            assert f["name"].replace("_", " ") in labels, (name, f["name"])
    one(at.selectbox, "Model").set_value("corgan").run()
    # the form starts at the dataclass defaults (quick demo shortens only the epoch caps)
    from corgan_core.models.corgan import CorGANConfig

    assert one(at.number_input, "batch size").value == CorGANConfig().batch_size
    assert one(at.number_input, "epochs").value == QUICK_EPOCHS["epochs"]
    one(at.toggle, "Quick demo").set_value(False).run()
    assert one(at.number_input, "epochs").value == CorGANConfig().epochs


def test_train_bad_option_shows_an_error_and_creates_no_run(runs_dir):
    at = open_app("train")
    one(at.number_input, "batch size").set_value(1).run()
    one(at.button, "Start training").click().run()
    ok(at)
    assert any("batch_size" in e for e in errors(at)), errors(at)
    assert list_runs(runs_dir) == []


def test_train_start_poll_and_finish(runs_dir):
    at = open_train_on_the_omop_demo()
    one(at.number_input, "epochs").set_value(TINY["epochs"]).run()
    one(at.number_input, "pretrain epochs").set_value(TINY["pretrain_epochs"]).run()
    one(at.button, "Start training").click().run()
    ok(at)
    assert not errors(at)
    (run,) = list_runs(runs_dir)
    assert run.config()["model_config"]["epochs"] == TINY["epochs"]
    # AppTest does not fire run_every: poll the run and re-run the page
    run.wait(timeout=240)
    at.run()
    ok(at)
    assert run.status()["status"] == "finished"
    assert {m.label: m.value for m in at.metric}["Status"] == "finished"
    assert plotly_count(at) == 2  # losses and checkpoint quality
    assert "Traceback" not in run.log_tail()


def test_train_another_registry_model_and_follow_the_new_run(finished, runs_dir):
    at = open_train_on_the_omop_demo()
    assert one(at.selectbox, "Run shown").value == finished.id
    one(at.selectbox, "Model").set_value("independent").run()
    one(at.button, "Start training").click().run()
    ok(at)
    (run,) = [r for r in list_runs(runs_dir) if r.id != finished.id]
    assert run.config()["model"] == "independent"
    assert one(at.selectbox, "Run shown").value == run.id  # the page follows the run just started
    run.wait(timeout=120)
    at.run()
    ok(at)
    assert {m.label: m.value for m in at.metric}["Status"] == "finished"
    one(at.selectbox, "Run shown").set_value(finished.id).run()  # picking another run sticks
    ok(at)
    at.switch_page("../pages/runs.py").run()
    at.switch_page("../pages/train.py").run()
    assert one(at.selectbox, "Run shown").value == finished.id


def test_epsilon_is_plotted_and_judged_when_dp_was_used(finished):
    con = finished.metrics_db()
    con.executemany("INSERT INTO epochs VALUES (?,?,?,?,?,?,?)",
                    [(1e9 + e, "gan", e, 2, 0.1, "epsilon", 0.5 * e) for e in (1, 2)])
    con.commit()
    con.close()
    shutil.rmtree(finished.dir / "evaluation")  # the cached report predates the epsilon rows
    at = open_app("train")
    ok(at)
    assert plotly_count(at) == 3  # losses, checkpoint quality, epsilon
    at.switch_page("../pages/privacy.py").run()
    ok(at)
    assert any("epsilon = 1" in m.value for m in at.markdown)


def test_train_stop_and_resume_buttons(runs_dir):
    at = open_train_on_the_omop_demo()
    one(at.toggle, "Quick demo").set_value(False).run()
    one(at.button, "Start training").click().run()
    (run,) = list_runs(runs_dir)
    at.run()
    ok(at)
    one(at.button, "Stop").click().run()
    ok(at)
    assert run.status()["status"] == "stopped"
    one(at.button, "Resume").click().run()
    ok(at)
    assert run.status()["status"] in ("queued", "running")
    assert one(at.button, "Stop")
    run.delete()  # stops it first


# ---- Fidelity, Privacy, Export: empty and with a run ---------------------------------------------
@pytest.mark.parametrize("page", ["fidelity", "privacy", "export", "runs"])
def test_pages_without_runs_explain_what_to_do(page):
    at = open_app(page)
    ok(at)
    assert not errors(at)
    assert any("Train page" in i.value for i in at.info)


def test_fidelity_page_charts_and_train_toggle(finished):
    at = open_app("fidelity")
    ok(at)
    assert not errors(at), errors(at)
    assert plotly_count(at) >= 3  # frequency, co-occurrence, prediction
    metrics = {m.label: float(m.value) for m in at.metric}
    assert 0 < metrics["Code frequency R²"] <= 1
    one(at.toggle, "Also show training patients").set_value(True).run()
    ok(at)
    assert (finished.dir / "evaluation").is_dir()  # cached for the next visit


def test_privacy_page_verdicts_follow_the_stewards_limits(finished):
    at = open_app("privacy")
    ok(at)
    assert not errors(at), errors(at)
    assert plotly_count(at) >= 3  # membership, DCR, attribute inference
    assert any("within limit" in m.value or "above limit" in m.value for m in at.markdown)
    one(at.number_input, "Copies of training patients: largest excess share allowed").set_value(0.0).run()
    one(at.number_input, "Membership attack AUROC: largest distance from 0.5 allowed").set_value(0.0).run()
    ok(at)
    assert at.warning and "above the limits" in at.warning[0].value


def test_fidelity_and_privacy_show_an_error_when_the_data_is_gone(finished):
    cfg = json.loads((finished.dir / "config.json").read_text())
    cfg["data"]["path"] = "/no/such/data.csv"
    cfg["data"]["options"]["source"] = "auto"
    (finished.dir / "config.json").write_text(json.dumps(cfg))
    shutil.rmtree(finished.dir / "evaluation", ignore_errors=True)
    for page in ("fidelity", "privacy"):
        at = open_app(page)
        ok(at)
        assert any("not found" in e.lower() for e in errors(at)), errors(at)


def test_export_page_offers_csv_parquet_npz_and_the_report(finished):
    shutil.rmtree(finished.dir / "evaluation")
    at = open_app("export")
    ok(at)
    assert not errors(at), errors(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Download CSV", "Download PARQUET", "Download NPZ"} <= set(labels)
    one(at.button, "Compute the report").click().run()
    ok(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download report (JSON)" in labels and "Download report (HTML, with charts)" in labels
    from corgan_core.data import load_demo
    from dashboard.evaluation import file_bytes

    assert not list((finished.dir / "samples").glob("*.csv"))  # written only when the button is pressed
    file_bytes(finished.id, "csv")()  # what the CSV button runs
    lines = next((finished.dir / "samples").glob("*.csv")).read_text().splitlines()
    assert lines[0].split(",") == list(load_demo().codes)
    assert len(lines) - 1 == finished.config()["split"]["train"]
    import pandas as pd

    codes = pd.read_csv(finished.dir / "codes.csv", dtype=str)  # the header's codes, with their titles
    demo = load_demo()
    assert list(codes["code"]) == list(demo.codes) and list(codes["title"]) == [demo.titles[c] for c in demo.codes]
    assert one(at.get("download_button"), "Download codes.csv")


def test_export_shows_an_error_for_a_broken_model_file(finished):
    (finished.dir / "model.pt").write_bytes(b"this is not a checkpoint")
    shutil.rmtree(finished.dir / "samples", ignore_errors=True)
    at = open_app("export")
    ok(at)
    assert errors(at)


# ---- Runs ----------------------------------------------------------------------------------------
def test_runs_page_compares_and_deletes(finished, runs_dir):
    second = runs_dir / "second-run"
    shutil.copytree(finished.dir, second)
    at = open_app("runs")
    ok(at)
    assert not errors(at)
    assert len(at.dataframe) >= 2  # the runs table and the side-by-side comparison
    assert set(one(at.multiselect, "Runs to compare").value) == {finished.id, "second-run"}
    assert plotly_count(at) == 2
    axis = json.loads(at.get("plotly_chart")[1].proto.spec)["layout"]["xaxis"]["title"]["text"]
    assert axis == "epoch of gan training", axis  # named by the compared runs' sampling phase
    one(at.selectbox, "Loss").set_value("critic").run()
    ok(at)
    one(at.selectbox, "Run to delete").set_value("second-run").run()
    one(at.checkbox, "Yes, delete its folder for good").check().run()
    one(at.button, "Delete").click().run()
    ok(at)
    assert not second.exists() and finished.dir.exists()


def test_a_run_whose_epochs_follow_its_time_limit_says_so(runs_dir):
    """Default caps under a time limit are raised so the limit ends training: the page says the
    run trained for its limit, and the epoch count is marked as the limit's estimate."""
    from corgan_core.runs.execute import execute

    run = Run.create("demo", settings=TrainSettings(device="cpu", time_budget_s=3, evaluate=False),
                     run_dir=runs_dir / "budget-run")
    execute(run)
    assert run.config().get("budget_caps")  # the default caps followed the limit
    from corgan_core.runs.views import progress

    assert progress(run)["ended_by_limit"] and not progress(run)["time_limited"]  # ended on time, not cut short
    at = open_app("train")
    ok(at)
    text = " ".join(p.proto.text for p in at.get("progress"))
    assert "trained for its time limit (3 s)" in text and f"{run.status()['epoch']} epochs" in text, text
    assert {m.label: m.value for m in at.metric}["Epoch"].split(" / ")[1].startswith("~")
