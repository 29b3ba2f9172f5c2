"""The run layer's own guarantees: status never goes back, every model is validated before a folder
exists, progress/ETA, the collapse warning, and medGAN/VAE through the run store, on real data."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from corgan_core.data import load
from corgan_core.errors import ConfigError, RunError
from corgan_core.models import REGISTRY, get_model_class
from corgan_core.runs import Run, TrainSettings, process
from corgan_core.runs.execute import execute
from corgan_core.runs.quality import checkpoint_quality, degenerate
from corgan_core.runs.views import progress
from tests.conftest import SHARED_DATA, require_data

MIMIC = SHARED_DATA / "mimic3-demo"
TINY = {"epochs": 2, "pretrain_epochs": 1}


def _run(tmp_path, name="r", **kw) -> Run:
    require_data("mimic3-demo")
    return Run.create(str(MIMIC), run_dir=tmp_path / name, model_config=kw.pop("model_config", TINY), **kw)


# ---- status: one writer, never backwards ---------------------------------------------------------
def test_status_moves_forward_only_and_the_first_final_state_wins(tmp_path):
    run = _run(tmp_path)
    assert run.status()["status"] == "queued"
    assert run.set_status("running", epoch=1)
    assert not run.set_status("queued")  # back from running: refused
    assert run.set_status("failed", error="boom")
    assert not run.set_status("stopped") and not run.set_status("running")
    assert not run.update_status(expect=("queued",), pid=123)
    st = run.status()
    assert st["status"] == "failed" and st["error"] == "boom" and "pid" not in st
    run.requeue()  # a resume starts a new attempt
    assert run.status()["status"] == "queued" and run.status()["error"] is None
    assert run.set_status("finished")
    with pytest.raises(RunError, match="already finished"):
        run.requeue()


def test_a_child_that_fails_before_its_parent_records_it_stays_failed(tmp_path, monkeypatch):
    """The old store wrote 'queued' after the child had started, turning a fast 'failed' into 'died'."""
    require_data("mimic3-demo")
    data = tmp_path / "mimic.npz"
    load(str(MIMIC)).save_npz(data)
    run = Run.create(str(data), run_dir=tmp_path / "r", model_config=TINY)
    load(str(MIMIC), kind="count").save_npz(data)  # the data changes: the child refuses to train

    real_spawn = process.spawn

    def spawn_and_let_the_child_finish_first(run_dir):
        pid = real_spawn(run_dir)
        while process.alive(pid):
            time.sleep(0.1)
        return pid

    monkeypatch.setattr(process, "spawn", spawn_and_let_the_child_finish_first)
    run.start()
    st = run.wait(60)
    assert st["status"] == "failed", st
    assert "changed since run" in st["error"]


def test_stopping_a_queued_run_before_its_process_starts_keeps_it_stopped(tmp_path):
    run = _run(tmp_path)
    run.set_status("stopped")
    st = execute(run)  # the process arrives late: it must not train
    assert st["status"] == "stopped" and not run.model_path().exists()
    assert run.metrics("epochs").empty


# ---- every model validated at the boundary -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if "batch_size" in get_model_class(n).Config.__dataclass_fields__))
def test_a_bad_option_is_refused_before_a_run_folder_exists(tmp_path, name):
    require_data("mimic3-demo")
    with pytest.raises(ConfigError, match="batch_size"):
        Run.create(str(MIMIC), model=name, model_config={"batch_size": 1}, run_dir=tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("settings,fragment", [(TrainSettings(holdout=1.5), "holdout"),
                                               (TrainSettings(time_budget_s=-1), "time_budget_s")])
def test_bad_run_settings_are_refused_before_a_run_folder_exists(tmp_path, settings, fragment):
    require_data("mimic3-demo")
    with pytest.raises(RunError, match=fragment):
        Run.create(str(MIMIC), settings=settings, run_dir=tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ---- progress and ETA ----------------------------------------------------------------------------
def test_progress_counts_epochs_over_phases_and_predicts_from_the_median_epoch(tmp_path):
    run = _run(tmp_path, model_config={"epochs": 10, "pretrain_epochs": 0})
    con = run.metrics_db()
    t0 = 1000.0
    gaps = [2.0, 2.0, 9.0, 2.0, 2.0, 2.0]  # one slow epoch (a checkpoint) must not move the ETA
    t = t0
    for ep, gap in enumerate(gaps, start=1):
        t += gap
        con.execute("INSERT INTO epochs VALUES (?,?,?,?,?,?,?)", (t, "gan", ep, 10, gap, "critic", 0.1))
    con.commit()
    con.close()
    run.set_status("running", phase="gan", epoch=6, epochs=10, started=time.time() - 25)
    p = progress(run)
    assert p["phase"] == "gan" and p["phase_label"] == "GAN training"
    assert p["fraction"] == pytest.approx(6 / 10)
    assert p["seconds_per_epoch"] == pytest.approx(2.0)
    assert p["eta_s"] == pytest.approx(4 * 2.0)
    assert 24 <= p["elapsed_s"] <= 60


def test_progress_before_the_first_epoch_skips_a_phase_with_no_epochs(tmp_path):
    run = _run(tmp_path, model_config={"epochs": 3, "pretrain_epochs": 0})
    p = progress(run)
    assert p["phase"] == "gan" and p["fraction"] == 0 and p["eta_s"] is None


# ---- the collapse warning ------------------------------------------------------------------------
def test_checkpoint_quality_names_a_collapse_on_real_rows():
    require_data("mimic3-demo")
    X = load(str(MIMIC)).dense()
    train, hold = X[:70], X[70:]
    ok = checkpoint_quality(train, hold, X[np.random.default_rng(0).integers(0, 100, 200)])
    assert degenerate(ok) is None and ok["frequency_r2"] > 0.5
    zeros = checkpoint_quality(train, hold, np.zeros((200, X.shape[1]), np.float32))
    assert zeros["zero_rows"] == 1.0 and "all-zero" in degenerate(zeros)
    same = checkpoint_quality(train, hold, np.repeat(X[:1], 200, axis=0))
    assert same["duplicate_rows"] > 0.99 and "repeat" in degenerate(same)
    dense = checkpoint_quality(train, hold, np.ones((200, X.shape[1]), np.float32))
    assert "codes per patient" in degenerate({**dense, "duplicate_rows": 0.0})


# ---- every neural model through the run store ----------------------------------------------------
@pytest.mark.parametrize("name,config", [("medgan", {"epochs": 2, "pretrain_epochs": 1}), ("vae", {"epochs": 2})])
def test_medgan_and_vae_train_through_the_run_store(tmp_path, name, config):
    run = _run(tmp_path, name, model=name, model_config=config, settings=TrainSettings(device="cpu"))
    st = execute(run)
    assert st["status"] == "finished" and run.model_path().exists()
    q = run.metrics("quality")
    sampling = {p["name"] for p in run.config()["phases"] if p["samples"]}
    assert not q.empty and set(q["phase"]) <= sampling  # no quality check while only an AE trains
    X = run.sample(50, seed=1)
    assert X.shape == (50, run.config()["data"]["codes"])


# ---- what the pages may import -------------------------------------------------------------------
def test_the_data_page_and_run_views_load_without_torch():
    code = ("import sys, corgan_core.data, corgan_core.data.upload, corgan_core.runs.settings, "
            "corgan_core.runs.views, corgan_core.runs.products; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_time_limited_run_says_it_stopped_on_time_and_how_far_it_got(tmp_path):
    run = _run(tmp_path, model_config={"epochs": 10_000, "pretrain_epochs": 0},
               settings=TrainSettings(time_budget_s=3, evaluate=False))
    st = execute(run)
    assert st["status"] == "finished" and st["time_limited"] is True
    p = progress(run)
    assert p["time_limited"] and 0 < p["epoch"] < 10_000 and p["fraction"] < 0.5
    assert 3 <= p["elapsed_s"] < 60


def test_elapsed_counts_earlier_attempts_and_the_eta_respects_the_time_limit(tmp_path):
    run = _run(tmp_path, model_config={"epochs": 100, "pretrain_epochs": 0}, settings=TrainSettings(time_budget_s=130))
    con = run.metrics_db()
    con.executemany("INSERT INTO epochs VALUES (?,?,?,?,?,?,?)",
                    [(1000.0 + 5 * ep, "gan", ep, 100, 5.0, "critic", 0.0) for ep in range(1, 11)])
    con.commit()
    con.close()
    run.set_status("running", phase="gan", epoch=10, epochs=100, started=time.time() - 20, elapsed_before=100.0)
    p = progress(run)
    assert 119 <= p["elapsed_s"] <= 125  # 100 s before the resume + 20 s since
    assert p["eta_s"] <= 130 - 119  # 90 epochs x 5 s would be 450 s, but the limit comes first


def test_the_run_process_leaves_a_report_for_the_pages(tmp_path):
    from corgan_core.runs.products import cached_evaluation

    run = _run(tmp_path, model_config={"epochs": 1, "pretrain_epochs": 0})
    st = execute(run)
    assert st["status"] == "finished" and st["evaluation"] == 1.0
    rep = cached_evaluation(run)
    assert rep is not None and "frequency_r2" in rep.fidelity


def test_members_are_exactly_the_rows_trained_on(tmp_path):
    """Rows held back to stop pretraining early were never trained on, so they are not members."""
    from corgan_core.runs.products import evaluation

    run = _run(tmp_path, model_config={"epochs": 1, "pretrain_epochs": 2}, settings=TrainSettings(evaluate=False))
    execute(run)
    train, members = run.split().train, run.members()
    assert set(members) < set(train) and len(members) == round(len(train) * 0.9)
    assert (run.dir / "members.json").exists()
    rep = evaluation(run, n=200)
    assert rep.meta["n_train"] == len(members)
    plain = _run(tmp_path, "plain", model_config={"epochs": 1, "pretrain_epochs": 0}, settings=TrainSettings(evaluate=False))
    execute(plain)
    assert list(plain.members()) == list(plain.split().train)  # no pretraining: every training row


def test_a_small_data_run_carries_the_size_warning_to_the_cli(tmp_path):
    from tests.test_cli_runs import cli

    run = _run(tmp_path, "small")
    assert any(w.startswith("Small data: 80 training and 20 held-out patients") for w in run.warnings())
    r = cli("train", MIMIC, "--epochs", 1, "--pretrain-epochs", 0, "--no-evaluate", "--run-dir", tmp_path / "cli")
    assert r.returncode == 0, r.stderr
    assert "warning: Small data: 80 training and 20 held-out patients" in r.stderr
