"""Crash safety, for real (issue 11): run processes are SIGKILLed at several points and resumed.

A kill during pretraining or mid-epoch is timed from the metrics the run writes; a kill while the
checkpoint is being written or while quality rows are being recorded uses the test-only crash points
of :mod:`corgan_core.killpoints`. After each kill nothing is corrupt, and the resumed run picks up at
its last good checkpoint, records every epoch exactly once, and ends with exactly the model of an
uninterrupted run with the same seed. Two runs also train at once while the dashboard's readers
poll them, and a runs folder that cannot be written fails with one sentence.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_one_sentence, require_data
from corgan_core.killpoints import ENV
from corgan_core.runs import Run, TrainSettings
from corgan_core.runs.views import progress, run_row

pytestmark = pytest.mark.slow

MODEL = {"epochs": 3, "pretrain_epochs": 2, "pretrain_patience": 0}
SETTINGS = TrainSettings(seed=3, evaluate=False)
KILL_POINTS = ("pretraining", "mid-epoch", "checkpoint-write", "quality")


def make(root: Path, name: str, seed: int = 3) -> Run:
    data = require_data("mimic3-demo")
    return Run.create(str(data), model="corgan", model_config=MODEL,
                      settings=TrainSettings(seed=seed, evaluate=False, checkpoint_interval_s=0),  # every epoch:
                      run_dir=root / name)  # the kill points are then the same on any machine


def epochs(run: Run):
    return run.metrics()


def wait_for(cond, timeout=300.0, poll=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(poll)
    raise AssertionError("condition not reached in time")


def intact(run: Run) -> dict | None:
    """Every file of the run reads back; returns the checkpoint's progress (None without one)."""
    json.loads((run.dir / "config.json").read_text())
    json.loads((run.dir / "status.json").read_text())
    with sqlite3.connect(run.dir / "metrics.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if not run.checkpoint_path().exists():
        return None
    ck = torch.load(run.checkpoint_path(), map_location="cpu", weights_only=True)
    return ck["progress"]


def sample(run: Run) -> np.ndarray:
    return np.asarray(run.load_model().sample(300, seed=11))


def losses(run: Run) -> dict:
    df = epochs(run)
    return {(r.phase, int(r.epoch), r.name): r.value for r in df.itertuples()}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two runs trained at once (seeds 3 and 4) while the dashboard's readers poll both."""
    root = tmp_path_factory.mktemp("runs")
    a, b = make(root, "a", 3), make(root, "b", 4)
    a.start(), b.start()
    reads = 0
    while any(r.status()["status"] in ("queued", "running") for r in (a, b)):
        for r in (a, b):
            st = r.status()
            df, q = r.metrics(), r.metrics("quality")
            run_row(r), progress(r, st, df)  # what the Runs and Train pages show
            assert set(df["phase"]) <= {"pretrain", "gan"} and set(q["phase"]) <= {"gan"}
            reads += 1
        time.sleep(0.1)
    return a, b, reads


def test_two_runs_at_once_never_mix_or_block(pair):
    a, b, reads = pair
    assert reads >= 10  # the readers really polled while both trained
    for r in (a, b):
        assert r.status()["status"] == "finished", r.log_tail()
        df = epochs(r)
        assert len(df.groupby(["phase", "epoch"])) == 5  # 2 pretraining + 3 GAN epochs, each once
        assert not df.duplicated(["phase", "epoch", "name"]).any()
    assert losses(a) != losses(b)  # each folder holds its own run's numbers


def _kill_timed(run: Run, phase: str) -> None:
    """SIGKILL the run's process as soon as it has finished its first epoch of ``phase``."""
    wait_for(lambda: not epochs(run).empty and (epochs(run)["phase"] == phase).any())
    os.kill(int(run.status()["pid"]), signal.SIGKILL)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_run_resumes_from_its_last_good_checkpoint(point, pair, tmp_path, monkeypatch):
    reference = pair[0]
    run = make(tmp_path, point)
    if point in ("checkpoint-write", "quality"):
        monkeypatch.setenv(ENV, f"{point}:2" if point == "checkpoint-write" else point)
        run.start()
        monkeypatch.delenv(ENV)
    else:
        run.start()
        _kill_timed(run, "pretrain" if point == "pretraining" else "gan")
    wait_for(lambda: run.status()["status"] == "died", timeout=300)
    killed_at = time.time()
    if point == "checkpoint-write":  # the kill really hit a half-finished write
        assert list(run.dir.glob(".checkpoint.*.tmp*")), sorted(p.name for p in run.dir.iterdir())
    before = intact(run)
    done_before = len(epochs(run).groupby(["phase", "epoch"]))
    assert done_before < 5

    run.resume()
    st = run.wait(timeout=600)
    assert st["status"] == "finished", run.log_tail()
    intact(run)
    assert not list(run.dir.glob(".*.tmp*"))  # the stale temp file was cleared
    df = epochs(run)
    # metrics continuous: every epoch of every phase exactly once, in order
    for phase, n in (("pretrain", 2), ("gan", 3)):
        got = sorted(set(df[df["phase"] == phase]["epoch"]))
        assert got == list(range(1, n + 1)), (phase, got)
    assert not df.duplicated(["phase", "epoch", "name"]).any()
    assert not run.metrics("quality").duplicated(["phase", "epoch", "name"]).any()
    # resumed from the last good checkpoint: the first epoch trained again is the one after it
    again = df[df["t"] > killed_at].iloc[0]
    names = ["pretrain", "gan"]
    if before is None:
        assert (again.phase, int(again.epoch)) == ("pretrain", 1)
    else:
        pi, ep = int(before["phase_index"]), int(before["epoch"])
        want = (names[pi], ep + 1) if pi < len(names) else None
        assert (again.phase, int(again.epoch)) == want, (before, again.phase, again.epoch)
    # nothing lost: the same numbers and the same model as the uninterrupted run
    ref = losses(reference)
    got = losses(run)
    assert got.keys() == ref.keys()
    assert np.allclose([got[k] for k in ref], [ref[k] for k in ref], rtol=1e-4, atol=1e-6)
    assert np.array_equal(sample(run), sample(reference))


def _corgan(*args, env=None, unprivileged=False, **kw):
    cmd = [str(Path(sys.executable).with_name("corgan")), *args]
    if unprivileged and os.geteuid() == 0:  # root writes anywhere: drop its capabilities
        cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def test_read_only_runs_folder_fails_with_one_sentence(tmp_path):
    data = require_data("mimic3-demo")
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o555)
    out = _corgan("train", str(data), "--epochs", "1", "--pretrain-epochs", "0",
                  env={"CORGAN_RUNS_DIR": str(runs)}, unprivileged=True, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert "\n" not in line and "Traceback" not in out.stderr, out.stderr
    assert line.startswith("error: Cannot write the run folder") and "writable" in line, line
    assert_one_sentence(line[len("error: "):])
    assert list(runs.iterdir()) == []


def test_full_disk_fails_the_run_with_one_sentence(tmp_path):
    """A file-size limit stands in for a full disk: the checkpoint cannot be written."""
    import resource

    data = require_data("mimic3-demo")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    out = _corgan("train", str(data), "--epochs", "1", "--pretrain-epochs", "0", "--no-evaluate",
                  "--run-dir", str(tmp_path / "r"), preexec_fn=limit)
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and "Traceback" not in out.stderr, out.stderr
    assert "Cannot write checkpoint.pt" in line and "disk may be full" in line, line
    assert_one_sentence(line[len("error: "):])
    st = Run(tmp_path / "r").status()
    assert st["status"] == "failed" and st["error"] == line[len("error: "):]
