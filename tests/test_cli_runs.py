"""The corgan CLI and the run store on real data: inspect, train, sample, determinism, kill + resume."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corgan_core.cli import main
from corgan_core.runs import Run, list_runs
from tests.conftest import SHARED_DATA, require_data, assert_one_sentence

MIMIC = SHARED_DATA / "mimic3-demo"
DIABETES = SHARED_DATA / "diabetes-130-us" / "dataset_diabetes.zip"
EICU = SHARED_DATA / "eicu-demo"


# The console script installed beside this interpreter (CI runs .venv/bin/python without activating it).
CORGAN = shutil.which("corgan", path=os.path.dirname(sys.executable)) or "corgan"


def cli(*args, cwd=None, env=None):
    """Run the installed console script as a user would."""
    return subprocess.run([CORGAN, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_inspect_json_on_the_real_sources():
    require_data("mimic3-demo")
    r = cli("data", "inspect", MIMIC, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["patients"], d["codes"], d["kind"]) == (100, 275, "binary")
    assert 0 < d["density"] < 0.1 and d["top_codes"][0]["title"]

    require_data("eicu-demo")
    eicu = json.loads(cli("data", "inspect", EICU, "--json").stdout)
    assert eicu["patients"] == 1558 and eicu["codes"] == 221
    require_data("diabetes-130-us")
    diab = json.loads(cli("data", "inspect", DIABETES, "--json", "--patient-col", "patient_nbr",
                          "--code-cols", "diag_1,diag_2,diag_3").stdout)
    assert (diab["patients"], diab["codes"]) == (71517, 881)
    assert abs(diab["codes_per_patient"]["mean"] - 3.67) < 0.01
    demo = json.loads(cli("data", "inspect", "demo", "--json").stdout)
    assert (demo["patients"], demo["codes"]) == (2694, 80)


def test_inspect_human_readable_lists_top_codes_with_titles(capsys):
    require_data("mimic3-demo")
    assert main(["data", "inspect", str(MIMIC)]) == 0
    out = capsys.readouterr().out
    assert "patients 100" in out and "codes 275" in out and "hypertension" in out.lower()


BAD_FILES = {
    "missing.csv": None,
    "x.matrix": b"\x80\x04K\x01.",  # a pickle: must be refused, never unpickled
    "t.csv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03abc",  # truncated gzip
    "n.csv": b"a,b\n1,2\n3,oops\n",  # non-numeric cell
    "one.csv": b"a,b\n1,0\n",  # one patient
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_one_error_line_and_exit_code_2(tmp_path, name):
    path = tmp_path / name
    if BAD_FILES[name] is not None:
        path.write_bytes(BAD_FILES[name])
    r = cli("data", "inspect", path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and Path(path).name in lines[0]
    assert "Traceback" not in r.stderr


def test_unknown_model_and_bad_option_value_are_one_sentence(tmp_path):
    require_data("mimic3-demo")
    r = cli("train", MIMIC, "--model", "gpt", "--run-dir", tmp_path / "r0")
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "'gpt'" in r.stderr
    assert_one_sentence(r.stderr[len("error: "):].strip())
    assert not (tmp_path / "r0").exists()
    r = cli("train", MIMIC, "--loss", "hinge", "--run-dir", tmp_path / "r")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("train", MIMIC, "--batch-size", "1", "--run-dir", tmp_path / "r2")
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "batch_size" in r.stderr


def _train_and_sample(tmp_path, name, fmt="npz", n=500):
    run_dir = tmp_path / name
    r = cli("train", MIMIC, "--model", "corgan", "--epochs", 2, "--pretrain-epochs", 1, "--seed", 1,
            "--run-dir", run_dir)
    assert r.returncode == 0, r.stderr
    out = tmp_path / f"{name}.{fmt}"
    r = cli("sample", "--run-dir", run_dir, "-n", n, "-o", out)
    assert r.returncode == 0, r.stderr
    return run_dir, out


def test_train_then_sample_is_deterministic_and_keeps_the_codes(tmp_path):
    require_data("mimic3-demo")
    run_dir, out = _train_and_sample(tmp_path, "a")
    _, out2 = _train_and_sample(tmp_path, "b")
    a, b = np.load(out, allow_pickle=False), np.load(out2, allow_pickle=False)
    assert tuple(a["shape"]) == (500, 275)
    assert set(np.unique(a["data"])) <= {1.0}  # binary rows
    assert list(a["codes"]) == json.loads(json.dumps(list(Run.open(run_dir).dataset().codes)))
    for key in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(a[key], b[key])
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["data"]["sha256"] and cfg["settings"]["seed"] == 1 and cfg["versions"]["torch"]
    assert Run.open(run_dir).status()["status"] == "finished"
    # csv and parquet carry the code names as columns
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"s.{fmt}"
        assert cli("sample", "--run-dir", run_dir, "-n", 37, "-o", path).returncode == 0
        df = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        assert df.shape == (37, 275) and list(df.columns)[:2] == list(a["codes"][:2])
        assert set(np.unique(df.values)) <= {0, 1}


def test_convert_writes_one_safe_npz_that_loads_back(tmp_path):
    require_data("mimic3-demo")
    out = tmp_path / "m.npz"
    assert main(["data", "convert", str(MIMIC), "-o", str(out), "--kind", "count"]) == 0
    from corgan_core.data import load

    ds = load(out)
    assert (ds.n_patients, ds.n_codes, ds.kind) == (100, 275, "count") and ds.titles
    np.load(out, allow_pickle=False)  # no pickled objects inside


def _wait_for(predicate, timeout=120, poll=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(poll)
    return False


def test_a_run_killed_with_sigkill_resumes_and_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    require_data("mimic3-demo")
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    args = ["--epochs", 16, "--pretrain-epochs", 2, "--seed", 3]
    r = cli("train", MIMIC, *args, "--run-dir", tmp_path / "runs" / "killed", "--detach")
    assert r.returncode == 0 and r.stdout.strip() == "killed", r.stderr
    run = Run.open(tmp_path / "runs" / "killed")

    def mid_gan():
        st = run.status()
        return st.get("phase") == "gan" and 4 <= (st.get("epoch") or 0) and run.checkpoint_path().exists()

    assert _wait_for(mid_gan), run.log_tail()
    pid = run.status()["pid"]
    os.killpg(pid, signal.SIGKILL)
    assert _wait_for(lambda: run.status()["status"] == "died", timeout=10)
    assert [r.id for r in list_runs()] == ["killed"]
    r = cli("runs", "resume", "killed", env={"CORGAN_RUNS_DIR": str(tmp_path / "runs")})
    assert r.returncode == 0, r.stderr
    assert run.wait(timeout=300)["status"] == "finished", run.log_tail()
    epochs = run.metrics()
    gan = epochs[(epochs.phase == "gan") & (epochs.name == "critic")]
    assert sorted(gan.epoch) == list(range(1, 17))  # each epoch recorded once despite the kill

    ref = tmp_path / "ref"
    assert cli("train", MIMIC, *args, "--run-dir", ref).returncode == 0
    a = Run.open(ref).load_model().sample(300, seed=9)
    b = run.load_model().sample(300, seed=9)
    np.testing.assert_array_equal(a, b)


def test_stop_then_resume_finishes(tmp_path):
    require_data("mimic3-demo")
    r = cli("train", MIMIC, "--epochs", 40, "--pretrain-epochs", 1, "--run-dir", tmp_path / "s", "--detach")
    assert r.returncode == 0
    run = Run.open(tmp_path / "s")
    assert _wait_for(lambda: run.status().get("phase") == "gan" and run.checkpoint_path().exists())
    assert cli("runs", "stop", tmp_path / "s").returncode == 0
    assert _wait_for(lambda: run.status()["status"] == "stopped", timeout=10)
    time.sleep(0.5)
    assert run.status()["status"] == "stopped"
    assert cli("runs", "resume", tmp_path / "s", "--foreground").returncode == 0
    assert run.status()["status"] == "finished"
    q = run.metrics("quality")
    assert {"frequency_r2", "cooccurrence_r2", "zero_rows", "mi_auroc"} <= set(q.name)


def test_failed_run_records_its_error_sentence(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "f", model_config={"epochs": 1, "pretrain_epochs": 1})
    cfg = json.loads((run.dir / "config.json").read_text())
    cfg["data"]["sha256"] = "0" * 64  # the data "changed" since the run was made
    (run.dir / "config.json").write_text(json.dumps(cfg))
    run.start()
    st = run.wait(timeout=120)
    assert st["status"] == "failed" and "has changed" in st["error"]
