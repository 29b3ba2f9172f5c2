"""A time limit, not a default epoch cap, ends training (issue 16): the run layer raises the main
phase's cap when the user gives a limit and left the cap at its default, records it in config.json
(so a resume trains the same model and the progress views agree), and keeps caps the user chose
(the quick demo's) and caps under differential privacy."""
from __future__ import annotations

import json
import time

import pytest

from corgan_core.runs import QUICK_TIME_BUDGET_S, Run, TrainSettings, quick_overrides
from corgan_core.runs.execute import execute
from corgan_core.runs.settings import BUDGET_EPOCH_CAP, budget_caps
from corgan_core.runs.views import progress
from tests.conftest import SHARED_DATA, require_data

MIMIC = SHARED_DATA / "mimic3-demo"


def _defaults(model: str, preset: str = "default") -> dict:
    from dataclasses import asdict

    from corgan_core.models import make_model

    return asdict(make_model(model, None, preset).config)


@pytest.mark.parametrize("model", ["corgan", "medgan", "vae"])
def test_a_default_cap_is_raised_only_under_a_time_limit(model):
    cfg = _defaults(model)
    limited = TrainSettings(time_budget_s=600)
    assert budget_caps(model, "default", cfg, limited) == {"epochs": (cfg["epochs"], BUDGET_EPOCH_CAP)}
    assert budget_caps(model, "default", cfg, TrainSettings()) == {}  # no limit: the caps end training
    assert budget_caps(model, "default", cfg, TrainSettings(time_budget_s=600, epochs_follow_budget=False)) == {}
    chosen = {**cfg, "epochs": cfg["epochs"] + 1}  # a cap the user typed is kept
    assert budget_caps(model, "default", chosen, limited) == {}
    assert budget_caps(model, "default", {**cfg, "dp_epsilon": 3.0}, limited) == {}  # epsilon is for the planned epochs


def test_the_quick_demo_keeps_its_caps_and_a_preset_default_is_raised():
    from corgan_core.models import get_model_class

    quick = {**_defaults("corgan"), **quick_overrides(get_model_class("corgan").Config)}
    assert budget_caps("corgan", "default", quick, TrainSettings(time_budget_s=QUICK_TIME_BUDGET_S)) == {}
    released = _defaults("corgan", "released")
    assert budget_caps("corgan", "released", released, TrainSettings(time_budget_s=60))["epochs"][1] == BUDGET_EPOCH_CAP
    assert budget_caps("independent", "default", _defaults("independent"), TrainSettings(time_budget_s=60)) == {}


def test_a_run_with_a_time_limit_trains_until_the_limit_on_real_data(tmp_path):
    require_data("mimic3-demo")
    default_epochs = _defaults("corgan")["epochs"]
    run = Run.create(str(MIMIC), run_dir=tmp_path / "r", model_config={"pretrain_epochs": 0},
                     settings=TrainSettings(time_budget_s=2, evaluate=False, checkpoint_interval_s=0))
    assert run.config()["model_config"]["epochs"] == default_epochs  # raised when it trains, not before
    st = execute(run)
    cfg = json.loads((run.dir / "config.json").read_text())
    assert cfg["budget_caps"] == {"epochs": {"default": default_epochs, "raised_to": BUDGET_EPOCH_CAP}}
    assert cfg["model_config"]["epochs"] == BUDGET_EPOCH_CAP
    assert [p["max_epochs"] for p in cfg["phases"] if p["name"] == "gan"] == [BUDGET_EPOCH_CAP]
    # the limit ended it (the cap is out of reach), which is the plan, not a cut
    assert st["status"] == "finished" and st["time_limited"] is False and st["training_s"] >= 2
    done = int(run.metrics("epochs")["epoch"].max())
    p = progress(run)
    assert p["epochs_follow_budget"] and p["fraction"] == 1.0 and p["epoch"] == p["epochs"] == done
    assert p["eta_s"] is None
    # a resume reads the raised caps: the checkpoint's model and the config agree
    import torch

    ck = torch.load(run.checkpoint_path(), weights_only=True)
    assert ck["config"]["epochs"] == BUDGET_EPOCH_CAP


def test_a_chosen_cap_still_ends_a_run_with_a_long_limit(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "r", model_config={"epochs": 2, "pretrain_epochs": 0},
                     settings=TrainSettings(time_budget_s=600, evaluate=False))
    st = execute(run)
    assert "budget_caps" not in run.config() and run.config()["model_config"]["epochs"] == 2
    assert st["status"] == "finished" and not st["time_limited"]
    assert int(run.metrics("epochs")["epoch"].max()) == 2 and progress(run)["fraction"] == 1.0


def test_progress_of_a_run_whose_caps_follow_the_limit_comes_from_the_limit(tmp_path):
    require_data("mimic3-demo")
    run = Run.create(str(MIMIC), run_dir=tmp_path / "r", model_config={"pretrain_epochs": 0},
                     settings=TrainSettings(time_budget_s=200))
    from corgan_core.runs.execute import _raise_caps

    _raise_caps(run, run.config(), run.settings())
    con = run.metrics_db()
    con.executemany("INSERT INTO epochs VALUES (?,?,?,?,?,?,?)",
                    [(1000.0 + 2 * ep, "gan", ep, BUDGET_EPOCH_CAP, 2.0, "critic", 0.0) for ep in range(1, 21)])
    con.commit()
    con.close()
    run.set_status("running", phase="gan", epoch=20, epochs=BUDGET_EPOCH_CAP, started=time.time() - 10,
                   elapsed_before=40.0)
    p = progress(run)
    assert 0.24 <= p["fraction"] <= 0.27  # 50 of 200 s, not 20 of 100,000 epochs
    assert 145 <= p["eta_s"] <= 150
    assert 20 + 72 <= p["epochs"] <= 20 + 75  # 150 s left at 2 s an epoch
