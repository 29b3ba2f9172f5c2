"""Speed work (issue 13): the yardstick and our step do the same work, speed-ups do not change the
samples, and the GPU check's CPU mode prints one valid JSON table. Real Diabetes 130-US patients
(the embedded demo sample), real training steps; no timing is asserted (benchmarks/ measures)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_speed  # noqa: E402


@pytest.fixture(scope="module")
def rows():
    """1,100 real patients padded to the released 1,071 codes: two batches of 512 per epoch."""
    return bench_speed.bench_data(1100, seed=0)


def test_yardstick_and_ours_do_equal_work(rows):
    assert rows.shape == (1100, 1071) and 0 < rows.mean() < 0.01
    yard, ours = bench_speed.yard_side(rows), bench_speed.ours_side(rows)
    for which, expected in (("ae_epoch", {"autoencoder": 2}), ("gan_epoch", {"critic": 10, "generator": 2})):
        w_yard, w_ours = bench_speed.epoch_work(yard, which), bench_speed.epoch_work(ours, which)
        assert w_yard == w_ours, (which, w_yard, w_ours)
        assert {k: v for k, v in w_ours.items() if v} == expected
    # the two sides' networks have the same shapes (the released geometry at 1,071 codes)
    n_yard = sum(p.numel() for net in (yard["obj"].ae, yard["obj"].gen, yard["obj"].disc) for p in net.parameters())
    m = ours["obj"]
    n_ours = sum(p.numel() for net in m.nets() for p in net.parameters() if p.requires_grad)
    assert n_yard == n_ours


def test_one_step_each_trains_both_sides(rows):
    """A critic step moves the critic's weights and keeps them inside the clipping cube on both sides."""
    yard, ours = bench_speed.yard_side(rows), bench_speed.ours_side(rows)
    # the released loop clamps before each step (so one Adam step, at most about lr = 1e-3, may leave
    # the cube until the next clamp); ours clamps after it
    for side, critic, bound in ((yard, yard["obj"].disc, 0.01 + 1.1e-3), (ours, ours["obj"].critic_, 0.01 + 1e-7)):
        before = [p.detach().clone() for p in critic.parameters()]
        side["critic"](), side["critic"]()
        after = list(critic.parameters())
        assert any(not torch.equal(a, b) for a, b in zip(before, after))
        assert max(float(p.detach().abs().max()) for p in after) <= bound


def test_corgan_sample_npz_is_the_same_sample(tmp_path, rows):
    """``corgan sample -o x.npz`` copies the kept sample; its rows are exactly the model's sample for
    the seed, the CSV path (densified) agrees, and the label read from the model's meta matches the
    one read from the data (none here), so the data is not loaded to sample."""
    from corgan_core.data.matrix import load_npz
    from corgan_core.runs import Run
    from corgan_core.runs.products import write_sample

    run = bench_speed.make_run(tmp_path, rows[:600])
    ds, path = write_sample(Run.open(run.dir), tmp_path / "a.npz", 300, seed=3)
    direct = run.load_model().sample(300, seed=3)
    assert path.exists() and np.array_equal(load_npz(path).dense(), direct)
    ds_csv, csv = write_sample(Run.open(run.dir), tmp_path / "a.csv", 300, seed=3)
    import pandas as pd

    assert np.array_equal(pd.read_csv(csv).to_numpy(np.float32), direct)
    fresh = Run.open(run.dir)
    assert fresh._learned_label(fresh.load_model(), None) == fresh.label_name(fresh.dataset()) is None
    again, _ = write_sample(fresh, tmp_path / "b.npz", 300, seed=3)  # a kept sample: the same file's rows
    assert np.array_equal(again.dense(), direct)


@pytest.mark.slow
def test_gpu_check_cpu_mode_prints_one_json_table():
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--device", "cpu", "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT),
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    res = json.loads(lines[0])
    assert res["complete"] is True and res["device"] == "cpu" and res["peak_gpu_memory_mb"] is None
    for key in ("critic_step_s", "generator_step_s", "epoch_s", "evaluation_s"):
        assert res[key] > 0, key
    assert res["curve"] and all(-np.inf < p["cooc_r2"] <= 1 for p in res["curve"])
    assert res["time_to_quality_s"] is None or res["time_to_quality_s"] <= res["budget_s"] + 60
