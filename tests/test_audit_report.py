"""`corgan report`: the audit report of a real run (issue 11), checked as data and in real Chromium.

The same run gives the same bytes apart from the stated timestamp field; the page holds the data's
SHA-256, the split, config, seed, versions, model card, results with intervals, the verdict and the
review block; it opens offline with every chart drawn, and names no patient.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from browser_helpers import CHROMIUM, browser, shot
from conftest import assert_one_sentence, require_data
from corgan_core import cli
from corgan_core.audit import DECISIONS, TIMESTAMP_FIELD
from corgan_core.data import load
from corgan_core.report import DEFAULT_THRESHOLDS
from corgan_core.runs import Run, TrainSettings


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from corgan_core.runs.execute import execute

    data = require_data("mimic3-demo")
    r = Run.create(str(data), model="corgan", model_config={"epochs": 2, "pretrain_epochs": 0},
                   settings=TrainSettings(seed=5, evaluate=False),
                   run_dir=tmp_path_factory.mktemp("runs") / "audited")
    execute(r)
    return r


@pytest.fixture(scope="module")
def reports(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    assert cli.main(["report", "--run-dir", str(run.dir), "-o", str(out / "a.html"), "--reviewer", "Dr. Reviewer"]) == 0
    assert cli.main(["report", "--run-dir", str(run.dir), "-o", str(out / "b.html"), "--reviewer", "Dr. Reviewer"]) == 0
    return out


def _without_timestamp(text: str) -> str:
    text = re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text)
    return re.sub(r"<span id='generated-at'>[^<]*</span>", "<span id='generated-at'></span>", text)


def test_same_run_gives_the_same_bytes_apart_from_the_timestamp(reports):
    for ext in ("html", "json"):
        a, b = (reports / f"a.{ext}").read_text(), (reports / f"b.{ext}").read_text()
        assert _without_timestamp(a) == _without_timestamp(b)
        assert TIMESTAMP_FIELD in a or "generated-at" in a


def test_the_json_twin_holds_what_an_officer_needs(run, reports):
    a = json.loads((reports / "a.json").read_text())
    cfg = run.config()
    assert a["data"]["sha256"] == cfg["data"]["sha256"] == load(cfg["data"]["path"]).sha256()
    assert a["split"] == cfg["split"] and a["seed"] == 5
    assert a["config"]["model_config"]["epochs"] == 2 and a["versions"]["torch"]
    card = a["model_card"]
    assert card["model"] == "corgan" and card["what"] and card["trained_on"]["train_rows"] == cfg["split"]["train"]
    assert any("275 column names" in c for c in card["carries"]) and card["limits"]
    assert a["verdict"]["decision"] in DECISIONS and a["verdict"]["reason"]
    assert a["thresholds"]["defaults"] == DEFAULT_THRESHOLDS and a["thresholds"]["overridden"] == {}
    fid = a["results"]["fidelity"]["frequency_r2"]
    assert fid["interval"] and fid["interval"][0] <= fid["value"] <= fid["interval"][1]
    assert a["results"]["privacy"] and a["dp_epsilon"] is None
    assert a["review"]["reviewer"] == "Dr. Reviewer" and a["review"]["decision"] == ""
    judged = [m["verdict"] for s in a["results"].values() for m in s.values() if m["verdict"]]
    assert (a["verdict"]["decision"] == "no-go") == ("fail" in judged)


def test_no_patient_id_is_written(run, reports):
    ds = run.dataset()
    strings = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                strings.add(str(k))
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            strings.add(x)
    walk(json.loads((reports / "a.json").read_text()))
    assert not strings & set(ds.patient_ids)
    body = (reports / "a.html").read_text().split("</script>")[-1]  # the page, after the embedded plotly.js
    text = re.sub(r"<[^>]+>", " ", body)
    assert not set(re.findall(r"\b\d{4,6}\b", text)) & set(ds.patient_ids)


def test_steward_thresholds_change_the_verdict(run, tmp_path):
    out = tmp_path / "strict.html"
    assert cli.main(["report", "--run-dir", str(run.dir), "-o", str(out), "--threshold", "frequency_r2=0.9999"]) == 0
    a = json.loads(out.with_suffix(".json").read_text())
    assert a["thresholds"]["overridden"] == {"frequency_r2": 0.9999}
    assert a["results"]["fidelity"]["frequency_r2"]["verdict"] in ("fail", "inconclusive")
    assert a["verdict"]["decision"] != "go"


@pytest.mark.parametrize("args, word", [(["--threshold", "bogus=1"], "known metric"),
                                        (["--threshold", "frequency_r2=high"], "number"),
                                        (["--run-dir", "../elsewhere"], "no run")])
def test_bad_report_options_are_one_line(run, tmp_path, capsys, args, word):
    base = ["report", "--run-dir", str(run.dir), "-o", str(tmp_path / "r.html")]
    assert cli.main(base + args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and word in err, err
    assert_one_sentence(err[len("error: "):].strip())
    assert not (tmp_path / "r.html").exists()


@pytest.mark.browser
def test_report_renders_offline_in_chromium_with_its_charts(reports):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    page_html = (reports / "a.html").read_text()
    assert not re.search(r"<script[^>]+src=['\"]?https?:", page_html)
    sections = re.findall(r"data-chart='([^']+)'", page_html)
    assert {"frequency", "membership"} <= set(sections)
    with browser() as b:
        ctx = b.new_context(offline=True, viewport={"width": 1280, "height": 900})
        requested = []
        ctx.route(re.compile(r"^https?://"), lambda route: (requested.append(route.request.url), route.abort()))
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((reports / "a.html").as_uri())
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(sections)}",
                               timeout=60_000)
        assert page.locator(".js-plotly-plot").count() == len(sections)
        assert page.locator("#decision").inner_text().lower() in DECISIONS
        assert page.get_by_text("Model card").count() == 1
        page.locator("input[name=reviewer]").fill("Dr. Reviewer")  # the review block is usable
        assert requested == [] and errors == []
        shot(page, "audit-report")
