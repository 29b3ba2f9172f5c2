"""Speed work (issue 13): the yardstick and our step do the same work, speed-ups do not change the
samples, and the GPU check's CPU mode prints one valid JSON table. Real Diabetes 130-US patients
(the embedded demo sample), real training steps; no timing is asserted (benchmarks/ measures)."""
from __future__ import annotations

import copy
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


@pytest.mark.parametrize("name", ["corgan", "medgan", "vae"])
def test_restoring_to_sample_builds_no_optimizer_and_resume_stays_exact(name):
    """A model restored from a mid-training checkpoint builds no optimizer to sample (so it never
    pays torch.optim's import of torch._dynamo), keeps the checkpoint's optimizer state, writes it
    back when saved again, and training resumed from that re-saved checkpoint replays the rest of
    the run exactly. 150 real Diabetes 130-US patients (all 754 codes of the demo sample)."""
    from corgan_core.models import from_checkpoint, make_model
    from corgan_core.training import train

    X = bench_speed.bench_data(150, codes=0)
    cfg = {"corgan": dict(epochs=2, pretrain_epochs=1), "medgan": dict(epochs=2, pretrain_epochs=1),
           "vae": dict(epochs=3)}[name]
    model, snap = make_model(name, cfg), {}
    for ev in train(model, X, seed=3, device="cpu"):
        if ev.type == "epoch_end" and not snap and ev.epoch == 1 and ev.phase == model.phases()[-1].name:
            snap = copy.deepcopy(model.checkpoint({"phase_index": len(model.phases()) - 1, "epoch": 1}))  # live tensors
    full = model.sample(50, seed=5)
    assert snap["state"]["optims"] and all(o["state"] for o in snap["state"]["optims"].values())

    restored = from_checkpoint(snap)
    restored.sample(50, seed=5)
    assert not [k for k, v in vars(restored).items() if isinstance(v, torch.optim.Optimizer)]
    again = restored.checkpoint(snap["progress"])["state"]["optims"]
    assert again.keys() == snap["state"]["optims"].keys()
    for key, st in snap["state"]["optims"].items():
        for pid, slots in st["state"].items():
            assert all(torch.equal(v, again[key]["state"][pid][s]) for s, v in slots.items() if torch.is_tensor(v))
    # the first touch of an optimizer (a training step on a restored model) builds it with that state
    first = next(iter(snap["state"]["optims"]))
    assert getattr(restored, f"opt_{first}_").state_dict()["param_groups"] == snap["state"]["optims"][first]["param_groups"]

    resumed = make_model(name, cfg)
    events = list(train(resumed, X, seed=3, device="cpu", resume=copy.deepcopy(restored.checkpoint(snap["progress"]))))
    assert events[-1].type == "finished"
    np.testing.assert_array_equal(resumed.sample(50, seed=5), full)


def test_corgan_sample_process_never_imports_dynamo(tmp_path, rows):
    """``corgan sample`` restores the model without optimizers: torch._dynamo (about 1.9 CPU-s), pandas (the
    loaders' reader, about 0.45 CPU-s) and the metrics/plotly modules of the evaluate command are never imported."""
    run = bench_speed.make_run(tmp_path, rows[:300])
    code = ("import sys; from corgan_core.cli import main; "
            f"rc = main(['sample', '--run-dir', {str(run.dir)!r}, '-n', '2000', '-o', {str(tmp_path / 'o.npz')!r}]); "
            "print(rc, sorted(m for m in ('torch._dynamo', 'pandas', 'plotly', 'corgan_core.metrics', 'scipy.stats') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(ROOT),
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "o.npz").exists()


def test_generation_chunk_does_not_change_the_sample(rows):
    """The generation chunk (NeuralModel.CHUNK) is a speed setting only: 512, 1,024, 4,096 and a chunk
    that does not divide n give bit-identical rows for the same seed, dense and sparse."""
    from corgan_core.models import make_model

    model = make_model("corgan", dict(epochs=1, pretrain_epochs=1, batch_size=256)).fit(rows[:400], "binary", seed=0, device="cpu")
    ref = model.sample(2600, seed=9)
    for chunk in (4096, 1024, 512, 700):
        model.CHUNK = chunk
        assert np.array_equal(model.sample(2600, seed=9), ref), chunk
        assert np.array_equal(model.sample_sparse(2600, seed=9).toarray(), ref), chunk


def test_checkpoint_quality_imports_neither_scikit_learn_nor_scipy_stats(rows):
    """The quality check every ``corgan train`` runs at its checkpoints computes its R² and Pearson r
    with numpy: importing sklearn.metrics and scipy.stats for them cost ~1 s per training run."""
    code = ("import sys, numpy as np; from corgan_core.runs.quality import checkpoint_quality; "
            "X = (np.random.default_rng(0).random((300, 40)) < 0.1).astype(np.float32); "
            "q = checkpoint_quality(X[:100], X[100:200], X[200:]); "
            "print(sorted(q), sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    keys, imported = proc.stdout.strip().splitlines()[-1].split("] [")
    assert "'frequency_r2'" in keys and "'cooccurrence_r2'" in keys and "'mi_auroc'" in keys
    assert imported == "]", imported
