"""Run store and CLI edge cases a real user meets: moved folders, double starts, stops, bad outputs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from corgan_core.errors import RunError
from corgan_core.runs import Run, TrainSettings
from tests.conftest import SHARED_DATA, require_data
from tests.test_cli_runs import CORGAN, _wait_for, cli

MIMIC = SHARED_DATA / "mimic3-demo"
TINY = {"epochs": 2, "pretrain_epochs": 1}


def test_a_run_made_from_a_relative_path_is_usable_from_any_folder(tmp_path):
    require_data("mimic3-demo")
    rel = os.path.relpath(MIMIC, tmp_path)
    r = cli("train", rel, "--epochs", 1, "--pretrain-epochs", 1, "--run-dir", "R", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    other = tmp_path / "elsewhere"
    other.mkdir()
    r = cli("evaluate", "--run-dir", tmp_path / "R", "-o", "rep.json", "-n", 200, "--include", "fidelity", cwd=other)
    assert r.returncode == 0, r.stderr
    assert json.loads((other / "rep.json").read_text())["fidelity"]["frequency_r2"]["value"] is not None


def test_a_run_cannot_be_started_twice(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "d", model_config={"epochs": 30, "pretrain_epochs": 1})
    run.start()
    with pytest.raises(RunError, match="already"):
        run.start()
    assert _wait_for(lambda: run.status()["status"] == "running", timeout=60)
    from corgan_core.runs.execute import execute

    with pytest.raises(RunError, match="another process"):  # the folder lock, even past the status check
        execute(Run(run.dir))
    run.stop()
    assert _wait_for(lambda: run.status()["status"] == "stopped", timeout=30)
    epochs = run.metrics()
    assert not epochs.duplicated(["phase", "epoch", "name"]).any()


def test_stop_reaches_a_foreground_training(tmp_path):
    require_data("mimic3-demo")
    # 400 GAN epochs: on the 80 demo patients an epoch takes milliseconds, and 40 could all end
    # before the stop (a separate `corgan runs stop` process) arrives
    proc = subprocess.Popen([CORGAN, "train", str(MIMIC), "--epochs", "400", "--pretrain-epochs", "1",
                             "--run-dir", str(tmp_path / "fg")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run_dir = tmp_path / "fg"
    assert _wait_for(lambda: (run_dir / "status.json").exists()
                     and Run(run_dir).status().get("phase") == "gan", timeout=120)
    assert cli("runs", "stop", run_dir).returncode == 0
    assert proc.wait(timeout=60) == 0
    st = Run(run_dir).status()
    assert st["status"] == "stopped" and st["epoch"] < 400
    assert not list(run_dir.glob(".*.tmp*"))
    assert cli("runs", "resume", run_dir, "--foreground").returncode == 0
    assert Run(run_dir).status()["status"] == "finished"


def test_a_reused_pid_does_not_make_a_dead_run_look_alive(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "z", model_config=TINY)
    run.set_status("running", pid=os.getpid(), pid_start="1")  # our pid, but another process's start time
    assert run.status()["status"] == "died"


def test_outputs_that_cannot_be_written_are_one_error_line(tmp_path):
    require_data("mimic3-demo")
    for args in (["data", "convert", MIMIC, "-o", tmp_path / "m.csv"],
                 ["data", "convert", MIMIC, "-o", tmp_path]):
        r = cli(*args)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left behind


def test_runs_list_survives_a_corrupt_run_folder(tmp_path):
    require_data("mimic3-demo")
    runs = tmp_path / "runs"
    Run.create(str(MIMIC), run_dir=runs / "good", model_config=TINY)
    (runs / "bad").mkdir()
    (runs / "bad" / "config.json").write_text("{not json")
    r = cli("runs", "list", "--json", env={"CORGAN_RUNS_DIR": str(runs)})
    assert r.returncode == 0 and [row["id"] for row in json.loads(r.stdout)] == ["good"]
    assert "unreadable config.json" in r.stderr


def test_evaluating_a_run_without_holdout_says_why(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "h0", model_config=TINY, settings=TrainSettings(holdout=0.0))
    from corgan_core.runs.execute import execute

    execute(run)
    r = cli("evaluate", "--run-dir", run.dir, "-o", tmp_path / "r.json")
    assert r.returncode == 2 and "no held-out patients" in r.stderr


def test_a_labelled_table_learns_its_label_and_gets_a_tstr_verdict(tmp_path):
    require_data("epileptic-seizure")
    src = next((SHARED_DATA / "epileptic-seizure").glob("*.csv.gz"))
    df = pd.read_csv(src, nrows=600)
    df["y"] = (df["y"] == 1).astype(int)  # the paper's task: seizure vs the rest
    path = tmp_path / "eeg.csv"
    df.to_csv(path, index=False)
    r = cli("train", path, "--epochs", 2, "--pretrain-epochs", 1, "--run-dir", tmp_path / "eeg")
    assert r.returncode == 0, r.stderr
    run = Run.open(tmp_path / "eeg")
    ds = run.dataset()
    assert ds.codes[-1] == "y" and run.label_name(ds) == "y" and ds.n_codes == 179
    X = run.sample(300, seed=1, ds=ds)
    assert set(np.unique(X[:, -1])) <= {0.0, 1.0}
    out = tmp_path / "s.csv"
    assert cli("sample", "--run-dir", run.dir, "-n", 50, "-o", out).returncode == 0
    assert pd.read_csv(out).columns[-1] == "y"
    r = cli("evaluate", "--run-dir", run.dir, "-o", tmp_path / "r.json", "-n", 400, "--include", "classifier")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    details = rep["utility"]["tstr_auroc_gap"]["details"]
    assert set(details["models"]) == {"logistic", "random_forest", "gradient_boosting"}
    for res in details["models"].values():  # computed, or a stated reason (a 2-epoch model may emit one class)
        assert res["tstr"]["auroc"] is not None or res.get("reason")


def test_time_budget_spans_a_resume(tmp_path):
    from corgan_core.models import make_model
    from corgan_core.training import train

    X = (np.random.default_rng(0).random((64, 7)) < 0.3).astype(np.float32)
    ck = tmp_path / "c.pt"
    events = list(train(make_model("corgan", {"epochs": 3, "pretrain_epochs": 1}), X, device="cpu",
                        checkpoint_path=ck))
    import torch

    state = torch.load(ck, weights_only=True)
    assert state["progress"]["elapsed_s"] > 0
    state["progress"]["elapsed_s"] = 1e6  # as if the budget were long spent before the kill
    resumed = list(train(make_model("corgan", {"epochs": 50, "pretrain_epochs": 1}), X, device="cpu",
                         resume={**state, "progress": {"phase_index": 1, "epoch": 1, "elapsed_s": 1e6}},
                         time_budget_s=10))
    assert sum(e.type == "epoch_end" for e in resumed) == 1 and resumed[-1].type == "finished"
    assert events[-1].type == "finished"
