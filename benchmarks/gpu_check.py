"""One GPU check of corGAN on Diabetes 130-US: step times, epoch time, time to quality, evaluation
time and peak GPU memory, printed as ONE JSON object (``benchmarks/gpu_check.sh`` runs it).

It installs nothing and downloads nothing. ``--device cuda`` (the default) trains the default
corGAN with the whole training set on the GPU; ``--device cpu --quick`` runs the same code on a
small slice of the embedded demo sample with tiny budgets, so that the script is tested where no
GPU is lent. Time to quality: the engine trains for at most ``--budget`` seconds; after every
epoch (at most every ``--every`` seconds) 2,000 records are sampled and their top-100
co-occurrence R² against the held-out patients is measured (outside the training clock); the
first time it reaches ``--target`` (0.95) is reported, or null when it does not within the budget.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIABETES = (ROOT / ".." / "shared" / "data" / "diabetes-130-us" / "dataset_diabetes.zip").resolve()
DEMO = ROOT / "corgan_core" / "demo" / "diabetes-130-us-sample.npz"


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def load(quick: bool, seed: int):
    from corgan_core.data import load as load_data, split
    from corgan_core.data.matrix import load_npz

    if quick or not DIABETES.exists():
        ds = load_npz(DEMO)
        source = "embedded demo sample of Diabetes 130-US"
    else:
        ds = load_data(str(DIABETES), patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3")
        source = "Diabetes 130-US (all patients)"
    if quick:
        ds = ds.take(np.sort(np.random.default_rng(seed).choice(ds.n_patients, 1000, replace=False)))
        source += ", 1,000 patients"
    sp_ = split(ds, 0.2, seed=seed)
    return ds.take(sp_.train), ds.take(sp_.holdout), source


def step_times(model, steps: int) -> dict:
    """Median seconds of one critic and one generator step (synchronised on the GPU)."""
    real = next(model._batches())
    out = {}
    for name, fn in (("critic_step_s", lambda: model._critic_step(real, [])), ("generator_step_s", model._generator_step)):
        fn()
        times = []
        for _ in range(steps):
            sync(model.device_)
            t0 = time.perf_counter()
            fn()
            sync(model.device_)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="1,000 demo patients, tiny budgets, fidelity-only evaluation (a CPU test of the script)")
    ap.add_argument("--budget", type=float, default=180.0, help="training seconds for time to quality")
    ap.add_argument("--every", type=float, default=5.0, help="least training seconds between quality checks")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.quick:
        args.budget, args.every, args.steps = min(args.budget, 3.0), min(args.every, 1.0), min(args.steps, 3)
    import torch

    from corgan_core.metrics import cooccurrence, evaluate
    from corgan_core.models import make_model
    from corgan_core.training import train

    t_all = time.perf_counter()
    train_ds, hold_ds, source = load(args.quick, args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # TF32 matmuls; fp32 storage
        torch.backends.cudnn.allow_tf32 = True
        torch.cuda.reset_peak_memory_stats()
    res = {"device": args.device, "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
           "machine": f"{platform.machine()}, {os.cpu_count()} cores", "torch": torch.__version__,
           "threads": torch.get_num_threads(), "data": source, "train_rows": train_ds.n_patients,
           "holdout_rows": hold_ds.n_patients, "codes": train_ds.n_codes, "model": "corgan (default config)",
           "quick": args.quick, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "complete": False}
    signal.signal(signal.SIGTERM, lambda *_: (print(json.dumps(res), flush=True), os._exit(124)))  # the partial table

    probe = make_model("corgan", {"epochs": 1})
    probe.setup(train_ds.X, "binary", args.seed, args.device)
    sync(device)
    t0 = time.perf_counter()
    probe.train_epoch("gan", 0)  # first: an epoch sets up what the steps keep (and warms the device up)
    sync(device)
    res["epoch_s"] = time.perf_counter() - t0
    res.update(step_times(probe, args.steps))
    del probe

    model = make_model("corgan", {"epochs": 100_000})
    curve, train_clock, last_check, reached = [], 0.0, -1e9, None
    for ev in train(model, train_ds.X, kind="binary", seed=args.seed, device=args.device):
        if ev.type != "epoch_end":
            continue
        train_clock += ev.seconds  # the engine's own per-epoch wall time; quality checks sit outside it
        if train_clock - last_check >= args.every or train_clock >= args.budget:
            last_check = train_clock
            r2 = float(cooccurrence(hold_ds.X, model.sample(2000, seed=args.seed), kind="binary", top_k=100).r2)
            curve.append({"train_s": round(train_clock, 2), "phase": ev.phase, "epoch": ev.epoch, "cooc_r2": round(r2, 4)})
            if reached is None and r2 >= args.target:
                reached = train_clock
                break
        if train_clock >= args.budget:
            break
    res.update(time_to_quality_s=reached, quality_target=args.target, budget_s=args.budget, curve=curve)

    syn = model.sample(min(10_000, 5 * hold_ds.n_patients), seed=args.seed)
    t0 = time.perf_counter()
    rep = evaluate(train_ds, hold_ds, syn, kind="binary", codes=train_ds.codes, seed=args.seed,
                   include=("fidelity",) if args.quick else ("fidelity", "utility", "privacy"),
                   bootstrap=10 if args.quick else 200, max_rows=None if args.quick else 20_000)
    res["evaluation_s"] = time.perf_counter() - t0
    res["evaluation_synthetic_rows"] = int(len(syn))
    res["evaluation_ok"] = rep is not None
    res["peak_gpu_memory_mb"] = (torch.cuda.max_memory_allocated() / 2**20) if device.type == "cuda" else None
    res["total_s"] = time.perf_counter() - t_all
    res["complete"] = True
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
