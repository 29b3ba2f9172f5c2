"""The Cohorts page under Streamlit's AppTest, on a run trained on the embedded Diabetes 130-US demo:
a two-code cohort (diabetes 250 with heart failure 428) shows its sentence, both prevalence charts and
the histogram; suppression hides the real side; a contradictory definition is an error box."""
from __future__ import annotations

import pytest

from corgan_core.demo import DIABETES_DEMO
from corgan_core.runs import Run, TrainSettings

from conftest import REPO_ROOT

APP = str(REPO_ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    """A runs folder with one finished independent-model run on the demo (about a second to train)."""
    from corgan_core.runs.execute import execute

    root = tmp_path_factory.mktemp("cohort-runs")
    run = Run.create(str(DIABETES_DEMO), model="independent", settings=TrainSettings(device="cpu", evaluate=False),
                     run_dir=root / "independent-demo")
    execute(run)
    assert run.status()["status"] == "finished"
    return root


@pytest.fixture
def at(runs_root, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CORGAN_RUNS_DIR", str(runs_root))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("../pages/cohorts.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def one(widgets, label: str):
    hits = [w for w in widgets if w.label == label]
    assert hits, f"no widget labelled {label!r} among {[w.label for w in widgets]}"
    return hits[0]


def boxes(at) -> list[str]:
    return [b.value for b in [*at.success, *at.error, *at.info, *at.warning]]


def test_page_asks_for_a_code_before_any_cohort(at):
    assert at.title[0].value == "Cohorts"
    assert any("Pick at least one code" in b for b in boxes(at))
    assert len(at.get("plotly_chart")) == 0


def test_two_code_cohort_shows_sentence_charts_and_synthetic_members(at):
    one(at.multiselect, "Must have all of").set_value(["250", "428"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 3  # prevalence bars, prevalence scatter, codes-per-patient histogram
    sentence = next(b for b in boxes(at) if "times the real one" in b)
    assert "of 4,000 real held-out patients" in sentence  # the demo's 20% holdout
    metrics = {m.label: m.value for m in at.metric}
    real, syn = int(metrics["Real held-out members"].replace(",", "")), int(metrics["Synthetic members"].replace(",", ""))
    assert 0 < real < 4000 and 0 < syn < 16000
    # the independent model multiplies the two prevalences, so it overshoots a correlated pair
    assert metrics["Verdict"] in ("fail", "inconclusive")
    listed = [m.value for m in at.markdown if m.value.startswith("**synthetic-")]
    assert len(listed) == 10 and all("250 - Diabetes" in m and "428 - Congestive heart failure" in m for m in listed)
    assert any(s.value == f"Synthetic members ({syn:,})" for s in at.subheader)


def test_a_large_k_suppresses_the_real_cohort(at):
    one(at.multiselect, "Must have all of").set_value(["250", "428"]).run()
    one(at.number_input, "k").set_value(5000).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Real held-out members"] == "suppressed"
    assert metrics["Verdict"] == "inconclusive"
    assert any("fewer than 5000" in b for b in boxes(at))


def test_a_contradictory_definition_is_one_error_box(at):
    one(at.multiselect, "Must have all of").set_value(["250"]).run()
    one(at.multiselect, "Must have none of").set_value(["250"]).run()
    assert not at.exception
    assert any("both required and excluded" in e.value for e in at.error)


def _run_on(root, path, name, **options):
    from corgan_core.data import DataOptions
    from corgan_core.runs.execute import execute

    run = Run.create(str(path), model="independent", data_options=DataOptions(**options),
                     settings=TrainSettings(device="cpu", evaluate=False), run_dir=root / name)
    execute(run)
    return run


def _page(root, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CORGAN_RUNS_DIR", str(root))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("../pages/cohorts.py").run()
    return app


def test_search_box_finds_codes_by_title(at):
    one(at.text_input, "Find codes by code or title").set_value("heart failure").run()
    found = " ".join(c.value for c in at.caption)
    assert "428 - Congestive heart failure" in found


def test_count_data_asks_for_a_minimum_count(tmp_path, monkeypatch):
    from conftest import require_data

    _run_on(tmp_path, require_data("mimic3-demo"), "mimic-count", kind="count")
    at = _page(tmp_path, monkeypatch)
    one(at.multiselect, "Must have all of").set_value(["401"]).run()
    once = int(next(m.value for m in at.metric if m.label == "Synthetic members").replace(",", ""))
    one(at.number_input, "A code counts as present from this many occurrences").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    twice = int(next(m.value for m in at.metric if m.label == "Synthetic members").replace(",", ""))
    assert 0 <= twice < once
    assert any("present at least 2 times" in m.value for m in at.markdown)


def test_continuous_table_cohort_by_range(tmp_path, monkeypatch):
    from conftest import require_data

    path = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    _run_on(tmp_path, path, "seizure")
    at = _page(tmp_path, monkeypatch)
    one(at.multiselect, "Ranges on columns").set_value(["X1"]).run()
    one(at.number_input, "X1 from").set_value(100.0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("X1 >= 100" in m.value or "100 <= X1" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3
    real = int(next(m.value for m in at.metric if m.label == "Real held-out members").replace(",", ""))
    assert 10 <= real < 2300  # some of the 2,300 held-out rows, enough to be shown
