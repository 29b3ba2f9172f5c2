"""evaluate() -> Report on real data, the JSON schema round trip, HTML export and `corgan evaluate`."""
from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
import torch

from corgan_core.cli import main
from corgan_core.errors import DataError
from corgan_core.metrics import evaluate, independent_baseline
from corgan_core.report import DEFAULT_THRESHOLDS, JSON_SCHEMA, Report
from tests.conftest import SHARED_DATA, assert_one_sentence, require_data

MIMIC = SHARED_DATA / "mimic3-demo"
SEIZURE = SHARED_DATA / "epileptic-seizure" / "epileptic_seizure_recognition_rebuilt.csv.gz"


@pytest.fixture(scope="module")
def mimic():
    require_data("mimic3-demo")
    from corgan_core.data import load, split

    ds = load(MIMIC)
    s = split(ds, 0.3, seed=0)
    return ds, ds.take(s.train), ds.take(s.holdout)


@pytest.fixture(scope="module")
def mimic_report(mimic):
    ds, train, holdout = mimic
    synth = np.vstack([train.dense()[:40], independent_baseline(train.X, 60, seed=3).toarray()])
    return evaluate(train, holdout, synth, seed=0, epsilon=4.5, attack={"seeds": [0, 1]})


def test_report_has_every_section_with_directions_baselines_and_verdicts(mimic_report):
    rep = mimic_report
    assert {"frequency_r2", "cooccurrence_r2", "discriminator_auroc"} <= set(rep.fidelity)
    assert {"prediction_auroc_gap", "prediction_f1_gap"} <= set(rep.utility)
    assert {"membership_advantage", "membership_auroc", "dcr_share_closer_to_train", "exact_copy_excess",
            "rare_replay_excess", "holdout_twin_share", "attribute_inference_gap", "epsilon"} <= set(rep.privacy)
    f = rep.fidelity["cooccurrence_r2"]
    assert f.direction == "higher" and f.baseline is not None and f.threshold == DEFAULT_THRESHOLDS["cooccurrence_r2"]
    assert f.verdict in ("pass", "fail", "inconclusive") and f.reason and len(f.details["pair_codes"]) == len(f.details["real"])
    assert f.ceiling is not None and f.relative and f.interval[0] <= f.value <= f.interval[1]
    assert rep.privacy["membership_auroc"].chance == 0.5 and rep.privacy["membership_auroc"].direction == "at-most-chance"
    assert rep.meta["size_warning"].startswith("Small data: 70 training and 30 held-out patients")
    basis = rep.privacy["membership_advantage"].details["basis"]
    assert basis.startswith("r = ") and "threshold" in basis and "30 held-out patients" in basis
    assert rep.privacy["epsilon"].value == 4.5
    assert rep.privacy["exact_copy_excess"].details["copies"] >= 40  # 40 rows were copied from train
    assert rep.skipped == [{"metric": "classifier",
                            "reason": "No label was given, so TRTR/TSTR classification was not run."}]
    assert rep.meta["n_synthetic"] == 100 and rep.meta["neighbours"]["backend"] == ("torch" if torch.cuda.is_available() else "numpy")  # auto: torch only on a GPU


def test_json_round_trip_schema_and_html(mimic_report, tmp_path):
    text = mimic_report.to_json(tmp_path / "r.json")
    d = json.loads(text)
    jsonschema.validate(d, JSON_SCHEMA)
    back = Report.from_json(tmp_path / "r.json")
    assert back.to_dict() == d
    page = mimic_report.to_html(tmp_path / "r.html")
    figs = mimic_report.figures()
    assert {"fidelity_overview", "frequency", "cooccurrence", "prediction", "privacy_overview", "membership",
            "dcr", "attribute"} <= set(figs)
    assert page.count("Plotly.newPlot") == len(figs) and "Membership attack" in page and "95% interval" in page
    from corgan_core.report_charts import COLORS
    assert COLORS[1] in page  # the dashboard's colours: the two DCR series can be told apart
    assert (tmp_path / "r.html").stat().st_size > 1_000_000  # plotly.js is embedded: works offline
    with pytest.raises(DataError) as e:
        Report.from_json('{"schema": "other"}')
    assert_one_sentence(str(e.value))


def test_thresholds_can_be_overridden(mimic_report):
    m = mimic_report.privacy["exact_copy_excess"]
    assert m.verdict == "fail"  # 40 of 100 rows copied: the whole interval is above 0.02
    loose = mimic_report.with_thresholds({"exact_copy_excess": 0.9})
    assert loose.privacy["exact_copy_excess"].verdict == "pass" and loose.thresholds["exact_copy_excess"] == 0.9
    lo, hi = m.interval
    mid = mimic_report.with_thresholds({"exact_copy_excess": (lo + hi) / 2})
    assert mid.privacy["exact_copy_excess"].verdict == "inconclusive" and "straddles" in mid.privacy["exact_copy_excess"].reason
    assert m.threshold == DEFAULT_THRESHOLDS["exact_copy_excess"]
    with pytest.raises(DataError):
        mimic_report.with_thresholds({"nonsense": 1})


def test_include_and_bad_input(mimic):
    ds, train, holdout = mimic
    rep = evaluate(train.X, holdout.X, train.X, include=["probability", "copies"], codes=ds.codes)
    assert set(rep.fidelity) == {"frequency_r2", "frequency_r2_train", "frequency_rmse"}
    assert rep.privacy["exact_copy_excess"].verdict == "fail"  # the training rows themselves
    assert set(rep.privacy) == {"exact_copy_excess", "rare_replay_excess"} and not rep.utility
    renamed = holdout.take(np.arange(holdout.n_patients))
    renamed.codes = ["X" + c for c in renamed.codes]
    for call in (lambda: evaluate(train, renamed, train), lambda: evaluate(train, holdout, np.zeros((0, ds.n_codes))),
                 lambda: evaluate(train, holdout, train.X[:, :5]), lambda: evaluate(train, holdout, train, include="x")):
        with pytest.raises(DataError) as e:
            call()
        assert_one_sentence(str(e.value))


def test_continuous_labelled_data_trtr_tstr_and_euclidean_privacy():
    require_data("epileptic-seizure")
    from corgan_core.data import load

    ds = load(SEIZURE)
    rows = np.random.default_rng(0).permutation(ds.n_patients)[:1200]
    M = np.c_[ds.X[rows][:, ::4], (ds.labels[rows] == 1).astype(np.float32)]  # [X, y], the paper's binary task
    train, holdout = M[:900], M[900:]
    rep = evaluate(train, holdout, train.copy(), kind="continuous", label=-1, include=["utility", "privacy"],
                   attack={"sizes": [900]})
    tstr = rep.utility["tstr_auroc_gap"]
    assert abs(tstr.value) < 1e-2 and tstr.baseline > 0.2  # a copy is as useful as the real rows; columns alone are not
    assert tstr.details["models"]["random_forest"]["trtr"]["auroc"] > 0.9
    lo, hi = tstr.interval  # the headline gap is judged with its paired-bootstrap interval
    assert lo <= tstr.value <= hi and hi - lo < 0.05
    assert rep.privacy["membership_auroc"].value == 1.0 and rep.privacy["membership_auroc"].verdict == "fail"
    assert rep.privacy["dcr_share_closer_to_train"].details["dcr"]["train_full"]["share_zero"] == 1.0
    assert {s["metric"] for s in rep.skipped} == {"prediction", "attribute", "epsilon"}


def _write(ds, path, codes=None):
    if codes is not None:
        ds = ds.take(np.arange(ds.n_patients))
        ds.codes = codes
    ds.save_npz(path)
    return path


def test_cli_evaluate_files(mimic, tmp_path, capsys):
    ds, train, holdout = mimic
    a, b = _write(train, tmp_path / "train.npz"), _write(holdout, tmp_path / "holdout.npz")
    c = _write(train, tmp_path / "synthetic.npz")
    out = tmp_path / "report.json"
    rc = main([str(x) for x in ["evaluate", "--train", a, "--holdout", b, "--synthetic", c, "-o", out,
                                "--html", tmp_path / "r.html", "--include", "fidelity,privacy"]])
    assert rc == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    rep = Report.from_json(out)
    assert rep.privacy["exact_copy_excess"].verdict == "fail" and rep.meta["source"]["train"] == str(a)
    bad = _write(train, tmp_path / "bad.npz", codes=["Z" + x for x in train.codes])
    (tmp_path / "empty.csv").write_text("a,b,c\n")
    for args in (["--train", a, "--holdout", b, "--synthetic", bad], ["--train", a, "--holdout", b],
                 ["--train", a, "--holdout", b, "--synthetic", tmp_path / "empty.csv"]):
        assert main(["evaluate", *map(str, args), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ")
        assert_one_sentence(err[len("error: "):].strip())


def test_cli_evaluate_run_dir(tmp_path, capsys):
    require_data("mimic3-demo")
    from corgan_core import runs
    from corgan_core.runs.execute import execute

    run = runs.Run.create(str(MIMIC), run_dir=tmp_path / "run", model_config={"epochs": 1, "pretrain_epochs": 1})
    execute(run)
    out = tmp_path / "r.json"
    assert main(["evaluate", "--run-dir", str(run.dir), "-n", "150", "--seed", "2", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    rep = Report.from_json(out)
    assert rep.meta["n_synthetic"] == 150 and rep.meta["n_train"] == len(run.members())  # the rows trained on
    assert rep.meta["source"]["run"] == str(run.dir) and "frequency_r2" in rep.fidelity


def test_the_report_imports_no_metric_code():
    import ast
    from pathlib import Path

    import corgan_core

    root = Path(corgan_core.__file__).parent
    for name in ("report.py", "report_charts.py", "verdict.py"):
        tree = ast.parse((root / name).read_text())
        mods = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in mods if "metrics" in m], name  # evaluate -> report only: no two-way tie


def test_count_data_and_progress():
    require_data("mimic3-demo")
    from corgan_core.data import load, split

    ds = load(MIMIC, kind="count")
    s = split(ds, 0.3, seed=1)
    train, holdout = ds.take(s.train), ds.take(s.holdout)
    calls = []
    rep = evaluate(train, holdout, independent_baseline(train.X, 80, seed=2, kind="count"),
                   include=["probability", "cooccurrence", "membership", "dcr"], progress=lambda d, t: calls.append((d, t)))
    assert rep.meta["kind"] == "count" and {"mean_r2", "variance_r2"} <= set(rep.fidelity)
    assert rep.privacy["membership_advantage"].details["metric"] == "euclidean"
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1][0] == calls[-1][1]
