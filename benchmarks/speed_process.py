"""The process-level parts of ``bench_speed.py``: ``corgan sample`` and ``corgan train`` timed as
whole processes (interpreter start, imports, checkpoint load, the work, writing), against a
released-style sampling process. ``code_root`` is the checkout whose ``corgan_core`` runs, so a
before/after pair times two commits with the same script."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BATCH = 512


def stats(values) -> dict:
    """min / median / max / n of ``values``."""
    v = sorted(float(x) for x in values)
    return {"min": v[0], "median": float(np.median(v)), "max": v[-1], "n": len(v)}


# ---- part 2: sampling end to end ----------------------------------------------------------------
def make_run(tmp: Path, X: np.ndarray, seed: int = 0):
    """A finished ``corgan:released`` run on ``X`` (one pretraining epoch, no GAN epoch: sampling
    speed depends on the networks' shapes, not on their training)."""
    import scipy.sparse as sp

    from corgan_core.data import Dataset
    from corgan_core.runs import Run, TrainSettings
    from corgan_core.runs.execute import execute

    ds = Dataset(sp.csr_matrix(X), [f"c{j:04d}" for j in range(X.shape[1])], [str(i) for i in range(len(X))])
    data = ds.save_npz(tmp / "data.npz")
    run = Run.create(str(data), model="corgan", preset="released", model_config={"epochs": 0, "pretrain_epochs": 1},
                     settings=TrainSettings(seed=seed, device="cpu", evaluate=False), run_dir=tmp / "run")
    execute(run)
    return run


def corgan_cmd() -> list[str]:
    """``corgan`` as ``python -m corgan_core.cli`` run from the checkout in ``code_root`` (so its package wins)."""
    return [sys.executable, "-m", "corgan_core.cli"]


def timed_process(cmd: list[str], env: dict, cwd: Path = ROOT, clock: str = "wall") -> float:
    """Seconds ``cmd`` took: wall, or its CPU (user + system, from the children's rusage: fair
    when other jobs share the cores)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=str(cwd), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {proc.stderr.strip()[-400:]}")
    return wall if clock == "wall" else (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def proc_env(threads: int, code_root: Path = ROOT) -> dict:
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                PYTHONPATH=os.pathsep.join([str(code_root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))


def bench_sample(X, repeats: int, threads: int, clock: str = "wall", n: int = 10_000, seed: int = 0,
                 code_root: Path = ROOT) -> dict:
    import shutil

    from released_yardstick import Released, save_state

    env, corgan = proc_env(threads, code_root), corgan_cmd()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        run = make_run(tmp, X[:1024], seed)
        save_state(Released(X[:1024], BATCH, seed), tmp / "released.pt")
        ours_cmd = [*corgan, "sample", "--run-dir", str(run.dir), "-n", str(n), "-o", str(tmp / "out.npz")]
        released_cmd = [sys.executable, str(ROOT / "benchmarks" / "released_yardstick.py"), "sample",
                        str(tmp / "released.pt"), str(tmp / "out.npy"), str(n)]
        ours, released = [], []
        for r in range(repeats):
            for side in (("ours", "released") if r % 2 == 0 else ("released", "ours")):
                shutil.rmtree(run.dir / "samples", ignore_errors=True)  # no kept sample: full work
                (tmp / "out.npz").unlink(missing_ok=True)
                if side == "ours":
                    ours.append(timed_process(ours_cmd, env, code_root, clock))
                else:
                    released.append(timed_process(released_cmd, env, ROOT, clock))
        model = run.load_model()
        t0 = time.perf_counter()
        model.sample(n, seed=seed)
        inproc = time.perf_counter() - t0
    return {"ours_s": stats(ours), "released_s": stats(released), "n_ours": n, "n_released": (n // BATCH) * BATCH,
            "ratio": stats([a / b for a, b in zip(released, ours)]), "clock": clock,
            "ours_in_process_samples_per_s": round(n / inproc)}


# ---- part 3: corgan train overhead --------------------------------------------------------------
TORCH_AND_ADAM = "import torch; torch.optim.Adam([torch.zeros(1, requires_grad=True)]).step()"


def bench_train(repeats: int, threads: int, clock: str = "wall", seed: int = 0, code_root: Path = ROOT) -> dict:
    """A 1-epoch ``corgan train`` on the MIMIC-III demo (80 training patients: the epoch itself is
    a fraction of a second) minus its epochs' own (wall) seconds; imports are timed apart."""
    env, corgan = proc_env(threads, code_root), corgan_cmd()
    data = (ROOT / ".." / "shared" / "data" / "mimic3-demo").resolve()
    totals, epochs, overhead, imports, bare, optim = [], [], [], [], [], []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as td:
            rd = Path(td) / "run"
            totals.append(timed_process([*corgan, "train", str(data), "--epochs", "1", "--pretrain-epochs", "0",
                                         "--seed", str(seed), "--device", "cpu", "--no-evaluate",
                                         "--run-dir", str(rd)], env, code_root, clock))
            with sqlite3.connect(rd / "metrics.sqlite") as con:
                ep = sum(row[0] for row in con.execute("SELECT MAX(seconds) FROM epochs GROUP BY phase, epoch"))
            epochs.append(ep)
            overhead.append(totals[-1] - ep)
        imports.append(timed_process([sys.executable, "-c", "import corgan_core.cli"], env, code_root, clock))
        bare.append(timed_process([sys.executable, "-c", "import torch"], env, ROOT, clock))
        # what any PyTorch training pays before its first step, the released code too: torch.optim's
        # first call imports torch._dynamo
        optim.append(timed_process([sys.executable, "-c", TORCH_AND_ADAM], env, ROOT, clock))
    return {"total_s": stats(totals), "epochs_wall_s": stats(epochs), "overhead_s": stats(overhead),
            "import_cli_s": stats(imports), "import_torch_s": stats(bare), "torch_and_adam_s": stats(optim), "clock": clock,
            "overhead_after_torch_s": stats([o - b for o, b in zip(overhead, bare)]),
            "overhead_after_torch_and_adam_s": stats([o - a for o, a in zip(overhead, optim)]),
            "overhead_after_imports_s": stats([o - i for o, i in zip(overhead, imports)]),
            "data": "MIMIC-III demo (100 patients), corgan default, 1 GAN epoch, no evaluation"}
