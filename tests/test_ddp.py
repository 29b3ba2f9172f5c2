"""Multi-process training under torchrun (gloo on CPU), on the real MIMIC-III demo.

Two processes with half the batch each must train exactly what one process with the whole batch
trains (the autoencoder losses agree to float precision: GroupNorm treats rows independently, the
losses are batch means, and the averaged gradient of two half batches is the whole batch's); the
run they write is complete and is written once; a run killed mid-way resumes under torchrun to
the same losses as an uninterrupted one; DP-SGD is refused with one sentence (the check train()
runs first on every rank).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, assert_one_sentence, require_data
from corgan_core.runs import Run

ARGS = ["--model", "corgan", "--pretrain-epochs", "3", "--epochs", "2", "--pretrain-patience", "0", "--ae-batch-size", "512",
        "--seed", "3", "--holdout", "0.2", "--checkpoint-interval-s", "0", "--no-evaluate", "--device", "cpu"]
TRAIN_ROWS = 80  # the demo's 100 patients less the 20% holdout


def _env(tmp: Path, **extra) -> dict:
    env = {**os.environ, "CORGAN_RUNS_DIR": str(tmp / "runs"), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO_ROOT)}
    env.pop("CORGAN_TEST_KILL_AT", None)
    env.update(extra)
    return env


def _corgan(tmp: Path, args: list[str], procs: int = 2, **env) -> subprocess.CompletedProcess:
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}",
              "-m", "corgan_core.cli"] if procs > 1 else [sys.executable, "-m", "corgan_core.cli"]
    return subprocess.run(launch + args, cwd=tmp, env=_env(tmp, **env), capture_output=True, text=True, timeout=600)


def _why(res: subprocess.CompletedProcess) -> str:
    """The first traceback of a failed launch (torchrun's own summary comes last and says little),
    with what came before it: a rank killed by a signal leaves no traceback of its own, only its last
    words (e.g. "terminate called after ...") ahead of the launcher's."""
    err = res.stderr
    at = max(0, err.find("Traceback"))
    return err[max(0, at - 2000):at + 4000]


def _losses(run: Path) -> dict:
    con = sqlite3.connect(run / "metrics.sqlite")
    try:
        rows = con.execute("SELECT phase, epoch, name, value FROM epochs ORDER BY phase, epoch, name").fetchall()
    finally:
        con.close()
    return {(p, e, k): v for p, e, k, v in rows}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    data = str(require_data("mimic3-demo"))
    tmp = tmp_path_factory.mktemp("ddp")
    out = {}
    for name, procs, batch in (("one", 1, TRAIN_ROWS), ("two", 2, TRAIN_ROWS // 2)):
        res = _corgan(tmp, ["train", data, *ARGS, "--batch-size", str(batch), "--run-dir", str(tmp / name)], procs)
        assert res.returncode == 0, _why(res)
        out[name] = tmp / name
    # killed at its third checkpoint write (only rank 0 writes; the old checkpoint stays), then resumed
    killed = _corgan(tmp, ["train", data, *ARGS, "--batch-size", str(TRAIN_ROWS // 2), "--run-dir", str(tmp / "cut")],
                     CORGAN_TEST_KILL_AT="checkpoint-write:3")
    out["cut_rc"] = killed.returncode
    out["cut_status"] = Run.open(tmp / "cut").status()["status"]
    resumed = _corgan(tmp, ["runs", "resume", str(tmp / "cut"), "--foreground"])
    assert resumed.returncode == 0, _why(resumed)
    out["cut"], out["tmp"], out["data"] = tmp / "cut", tmp, data
    return out


def test_two_processes_write_one_complete_run(runs):
    run = runs["two"]
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "finished"
    for name in ("config.json", "split.json", "metrics.sqlite", "checkpoint.pt", "model.pt", "members.json"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in runs["tmp"].iterdir()) == ["cut", "one", "two"]  # no stray output from rank 1
    members = json.loads((run / "members.json").read_text())
    members = members.get("rows", members) if isinstance(members, dict) else members
    assert len(members) == TRAIN_ROWS  # both shards together: every training row

    from corgan_core.data import load
    from corgan_core.models.base import GenerativeModel

    model = GenerativeModel.load(run / "model.pt")
    syn = model.sample(500, seed=1)
    real = load(runs["data"]).X
    assert syn.shape == (500, real.shape[1])
    assert set(np.unique(syn)) <= {0.0, 1.0}
    real_per_row, syn_per_row = real.sum() / real.shape[0], syn.sum(1).mean()
    assert 0.2 * real_per_row < syn_per_row < 5 * real_per_row, (syn_per_row, real_per_row)
    assert len(np.unique(syn, axis=0)) > 100  # not one record repeated


def test_same_global_batch_gives_the_same_losses(runs):
    one, two = _losses(runs["one"]), _losses(runs["two"])
    for epoch in (1, 2, 3):  # one step per epoch: the whole batch in one process, half in each of two
        a, b = one[("pretrain", epoch, "ae")], two[("pretrain", epoch, "ae")]
        assert abs(a - b) <= 1e-4 * abs(a), (epoch, a, b)
    assert one[("pretrain", 3, "ae")] < one[("pretrain", 1, "ae")]  # it learned something
    for key in (("gan", 1, "critic"), ("gan", 2, "generator")):
        assert np.isfinite(two[key])


def test_killed_run_resumes_under_torchrun_to_the_same_losses(runs):
    assert runs["cut_rc"] != 0 and runs["cut_status"] == "died"
    assert json.loads((runs["cut"] / "status.json").read_text())["status"] == "finished"
    cut, whole = _losses(runs["cut"]), _losses(runs["two"])
    assert cut.keys() == whole.keys()
    for key, value in whole.items():
        assert abs(cut[key] - value) <= 1e-5 * max(1.0, abs(value)), (key, cut[key], value)


def test_dp_sgd_is_refused_with_several_processes(monkeypatch):
    from corgan_core import distributed
    from corgan_core.errors import ConfigError
    from corgan_core.models import make_model

    monkeypatch.setattr(distributed, "active", lambda: True)  # as inside a torchrun process group
    with pytest.raises(ConfigError) as err:
        distributed.check_model(make_model("corgan", {"dp_noise_multiplier": 1.0}))
    assert "DP-SGD is not supported with several training processes" in str(err.value)
    assert_one_sentence(str(err.value))
    distributed.check_model(make_model("corgan", {}))  # DP off: fine
