"""Benchmark every registered model on Diabetes 130-US at one wall-time budget.

Each model trains (through the shared engine, ``time_budget_s``) on the training rows of a seeded
80/20 patient split, then draws 10,000 records; they are compared with the HELD-OUT rows:

* per-code frequency R^2 and top-100 co-occurrence R^2 (synthetic as a prediction of real, over
  the codes' frequencies / over the 4,950 pairwise co-occurrence rates of the 100 most frequent
  held-out codes; corgan_core.metrics),
* codes per patient (real held-out mean vs synthetic mean) and the share of all-zero records,
* the membership attack's AUROC: score = minus the Hamming distance of a real record to its closest
  synthetic record; members = 10,000 training rows, non-members = 10,000 held-out rows
  (0.5 = the attacker learns nothing).

Every model runs in its own child process so its peak memory (max RSS) is its own; runs are
sequential (one process at a time). Usage::

    python benchmarks/bench_models.py                       # every model, 600 s each
    python benchmarks/bench_models.py --budget 60 --models vae,corgan
    python benchmarks/bench_models.py --models corgan --set corgan.lr_g=1e-3 --no-write
    python benchmarks/bench_models.py --clock cpu --curve-every 30   # + quality vs time, time to R^2 0.95

Model entries are registry names, optionally ``name:preset`` (e.g. ``corgan:released``) and/or
``+key=value`` overrides (e.g. ``corgan+gd_arch=conv``). The table is printed and written to
``benchmarks/results/models.json`` (unless ``--no-write``). On a shared machine, ``--clock cpu``
gives every model the same CPU seconds instead of the same wall seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from model_scoring import N_SAMPLES, evaluate, load_split

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "models.json"
DEFAULT_MODELS = "independent,vae,medgan,corgan,corgan:released"


# ---- one model, in a child process --------------------------------------------------------------
def parse_value(text: str):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


CURVE_SAMPLES = N_SAMPLES  # as many as the final figure: R^2 on 2,000 records read 0.93 where 10,000 read 0.967
QUALITY_TARGET = 0.95


def curve_point(model, hold_X, seed: int) -> float:
    """Top-100 co-occurrence R^2 of a fixed-seed sample of ``CURVE_SAMPLES`` records vs the holdout
    (the same seed and size as the final sample, so the curve's last point is the table's figure)."""
    from corgan_core.metrics.cooccurrence import cooccurrence

    return float(cooccurrence(hold_X, model.sample(CURVE_SAMPLES, seed=seed), kind="binary", top_k=100).r2)


def run_one(entry: str, budget: float, overrides: dict, seed: int, train_rows: int | None,
            clock: str = "wall", curve_every: float = 0.0) -> dict:
    """Train one model for ``budget`` seconds and evaluate it. With ``curve_every`` > 0 the
    co-occurrence R^2 of a fixed sample is measured after the first epoch that ends at least
    that many training seconds after the last measurement (on the budget's clock); the time spent
    measuring is taken out of the training clock, so the budget buys the same training."""
    import torch

    from corgan_core.models import make_model
    from corgan_core.training import train

    name, _, preset = entry.split("+")[0].partition(":")
    train_X, hold_X = load_split(seed)
    if train_rows:
        train_X = train_X[np.random.default_rng(seed).choice(len(train_X), train_rows, replace=False)]
    model = make_model(name, overrides, preset or "default")
    t0, c0 = time.perf_counter(), time.process_time()
    epochs, last = {}, {}
    curve, q_wall, q_cpu, next_check = [], 0.0, 0.0, curve_every
    # wall: the engine's own time budget. cpu: stop once this process has used `budget` CPU
    # seconds (a contention-free proxy: on 2 idle cores a model gets at least that much compute).
    wall_budget = budget if clock == "wall" else 6 * budget
    if curve_every > 0:  # the engine cannot see the measuring time: the budget is checked here
        wall_budget = 6 * budget
    for ev in train(model, train_X, kind="binary", seed=seed, device="cpu", time_budget_s=wall_budget):
        spent = (time.perf_counter() - t0 - q_wall) if clock == "wall" else (time.process_time() - c0 - q_cpu)
        if ev.type == "epoch_end" and curve_every > 0 and spent >= next_check:
            w, c = time.perf_counter(), time.process_time()
            curve.append({"train_s": round(spent, 2), "phase": ev.phase, "epoch": ev.epoch,
                          "cooc_r2": round(curve_point(model, hold_X, seed), 4)})
            q_wall, q_cpu = q_wall + time.perf_counter() - w, q_cpu + time.process_time() - c
            next_check = spent + curve_every
        if ev.type == "epoch_end" and (clock == "cpu" or curve_every > 0) and spent > budget:
            epochs[ev.phase] = ev.epoch
            last = ev.losses
            break
        if ev.type == "epoch_end":
            epochs[ev.phase] = ev.epoch
            last = ev.losses
            print(f"[{time.perf_counter() - t0:7.1f}s] {entry} {ev.phase} {ev.epoch} "
                  + " ".join(f"{k}={v:.4g}" for k, v in ev.losses.items()), file=sys.stderr, flush=True)
    train_s, train_cpu_s = time.perf_counter() - t0 - q_wall, time.process_time() - c0 - q_cpu
    t1 = time.perf_counter()
    syn = model.sample(N_SAMPLES, seed=seed)
    sample_s = time.perf_counter() - t1
    result = {
        "model": entry, "overrides": overrides, "clock": clock, "train_s": round(train_s, 1),
        "train_cpu_s": round(train_cpu_s, 1), "sample_s": round(sample_s, 2),
        "epochs": epochs, "last_losses": {k: round(float(v), 4) for k, v in last.items()},
        **evaluate(syn, train_X, hold_X, seed),
    }
    if curve_every > 0:
        result["curve"] = curve
        hit = next((p["train_s"] for p in curve if p["cooc_r2"] >= QUALITY_TARGET), None)
        result["time_to_quality_s"] = hit  # training seconds on `clock` to cooc R^2 >= 0.95 (None: not within the budget)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["threads"] = torch.get_num_threads()
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=600.0, help="training wall-time budget per model, seconds")
    ap.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated registry names (name:preset)")
    ap.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE",
                    help="config override for one model entry, e.g. corgan.lr_g=1e-3 (repeatable)")
    ap.add_argument("--epochs-cap", type=int, default=100_000,
                    help="raise every neural model's epoch cap to this, so the budget ends training")
    ap.add_argument("--train-rows", type=int, default=0, help="subsample the training rows (probes only)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="budget in wall seconds (default) or in this process's CPU seconds (for shared machines)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--merge", action="store_true",
                    help="update the rows of the same model, clock and threads in an existing results file instead of replacing it")
    ap.add_argument("--verbose", action="store_true", help="show every epoch's losses (stderr)")
    ap.add_argument("--curve-every", type=float, default=0.0,
                    help="measure co-occurrence R^2 of a fixed 10,000-record sample every N training seconds "
                         "(a quality-vs-time curve and the time to R^2 >= 0.95; 0 = off)")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._worker:
        import torch

        torch.set_num_threads(args.threads)
        spec = json.loads(args._worker)
        res = run_one(spec["entry"], args.budget, spec["overrides"], args.seed, args.train_rows or None, args.clock,
                      args.curve_every)
        print("RESULT " + json.dumps(res))
        return 0

    entries = [m.strip() for m in args.models.split(",") if m.strip()]
    sets: dict[str, dict] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        model, _, field = key.partition(".")
        sets.setdefault(model, {})[field] = parse_value(value)
    rows = []
    for entry in entries:
        base, *extra = entry.split("+")
        over = dict(sets.get(entry, sets.get(base.split(":")[0], {})))
        for item in extra:
            key, _, value = item.partition("=")
            over[key] = parse_value(value)
        if args.epochs_cap and not entry.startswith("independent"):
            over.setdefault("epochs", args.epochs_cap)
        spec = json.dumps({"entry": entry, "overrides": over})
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", spec, "--budget", str(args.budget),
               "--threads", str(args.threads), "--clock", args.clock, "--seed", str(args.seed), "--train-rows", str(args.train_rows),
               "--curve-every", str(args.curve_every)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None if args.verbose else subprocess.PIPE,
                              text=True, env=env, cwd=str(ROOT))
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            err = (proc.stderr or "").strip().splitlines()
            print(f"{entry}: FAILED {err[-1:] if err else ''}", file=sys.stderr)
            rows.append({"model": entry, "overrides": over, "error": err[-1:] or ["see the log above"]})
            continue
        res = json.loads(line[7:])
        res["wall_s"] = round(time.perf_counter() - t0, 1)
        res["load_average_after"] = round(os.getloadavg()[0], 2)
        rows.append(res)
        print(format_row(res), flush=True)
    print()
    print(table(rows))
    if not args.no_write:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        for r in rows:
            r.setdefault("budget_s", args.budget)
            r.setdefault("clock", args.clock)
            r["date"] = time.strftime("%Y-%m-%d %H:%M")
        if args.merge and out.exists():
            doc = json.loads(out.read_text())
            key = lambda r: (r["model"], r.get("clock"), r.get("threads"), r.get("budget_s", doc.get("budget_s")))  # noqa: E731
            new_keys = {key(r) for r in rows}
            doc["results"] = [r for r in doc["results"] if key(r) not in new_keys] + rows
        else:
            doc = {"budget_s": args.budget, "clock": args.clock, "threads": args.threads, "seed": args.seed,
                   "n_samples": N_SAMPLES,
                   "data": "Diabetes 130-US, 3-digit ICD-9 (diag_1..3), 80/20 patient split (seed 0)",
                   "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
                   "date": time.strftime("%Y-%m-%d"), "results": rows}
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        os.replace(tmp, out)
    return 0


def format_row(r: dict) -> str:
    return (f"{r['model']:<18} train {r['train_s']:>6.0f}s cpu {r['train_cpu_s']:>6.0f}s  rss {r['peak_rss_mb']:>6.0f}MB  "
            f"freq {r['freq_r2']:.3f}  cooc {r['cooc_r2']:.3f}  cpp {r['codes_per_patient']:.2f}/"
            f"{r['codes_per_patient_real']:.2f}  zero {r['all_zero_rows']:.3f}  MI {r['mi_auroc']:.3f}  "
            f"epochs {r['epochs']}  {r['last_losses']}"
            + (f"  to 0.95: {_ttq(r)}  curve {[(p['train_s'], p['cooc_r2']) for p in r['curve']]}" if "curve" in r else ""))


def _ttq(r: dict) -> str:
    """Time to co-occurrence R^2 >= 0.95 as shown: seconds, or '> budget' when not reached."""
    t = r.get("time_to_quality_s")
    return f"{t:.0f} s" if t is not None else f"> {r.get('train_cpu_s' if r.get('clock') == 'cpu' else 'train_s', 0):.0f} s"


def table(rows: list[dict]) -> str:
    head = ("| model | train s (wall / CPU) | peak RSS MB | freq R² | top-100 co-occ R² | codes/patient (real) "
            "| all-zero rows | MI AUROC |\n|---|---|---|---|---|---|---|---|")
    curves = any("curve" in r for r in rows)
    if curves:
        head = head.replace(" MI AUROC |\n", " MI AUROC | time to co-occ R² 0.95 |\n") + "---|"
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error'][0]} | | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {r['train_s']:.0f} / {r['train_cpu_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['freq_r2']:.3f} | "
            f"{r['cooc_r2']:.3f} | {r['codes_per_patient']:.2f} ({r['codes_per_patient_real']:.2f}) | "
            f"{100 * r['all_zero_rows']:.1f}% | {r['mi_auroc']:.3f} |" + (f" {_ttq(r)} |" if curves else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
