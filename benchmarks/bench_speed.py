"""Speed: our ``corgan:released`` step against the released code's step (the yardstick), side by side.

The yardstick is :mod:`released_yardstick` (a plain PyTorch re-statement of the released training
loop, kept in ``benchmarks/`` and labelled as such). Both sides get the same data (Diabetes 130-US
patients from the embedded demo sample, padded with empty columns to the released 1,071 codes),
batch 512, the same torch thread count, and equal work: one generator step per real batch drawn
with replacement, the released critic schedule, ``rows // 512`` batches per epoch. Repeats are
interleaved (the side that goes first alternates) and reported as min/median/max.

Parts (``--parts``):

* ``steps``: one critic step, one generator step (each averaged over ``--steps`` steps), one
  autoencoder step (a pretraining epoch over the rows / its batches) and one steady-state GAN epoch
  (past the 100-critic-step warm-up, so 5 critic steps per generator step on both sides); ratio =
  yardstick time / ours.
* ``sample``: ``corgan sample --run-dir R -n N -o out.npz`` as a process against a
  released-style sampling process (checkpoint load, N // 512 batches of 512 rows through
  generator + decoder into a dense array, threshold, ``np.save``), for each N of ``--sample-n``
  (default 10,000), and our in-process sampling rate.
* ``train``: a 1-epoch ``corgan train`` process: its wall time minus the epochs' own seconds
  (the overhead), and the bare ``import corgan_core.cli`` time inside it.

The process-level parts (``sample``, ``train``) live in :mod:`speed_process`.

Usage::

    python benchmarks/bench_speed.py --threads 1 --clock cpu            # all parts, 5 repeats
    python benchmarks/bench_speed.py --quick --parts steps --no-write

Writes ``benchmarks/results/speed.json`` (or ``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
DEMO = ROOT / "corgan_core" / "demo" / "diabetes-130-us-sample.npz"
RESULTS = ROOT / "benchmarks" / "results" / "speed.json"

from speed_process import BATCH, bench_sample, bench_train, make_run, stats  # noqa: E402  (make_run: tests)


def bench_data(rows: int = 5000, codes: int = 1071, seed: int = 0) -> np.ndarray:
    """``rows`` real Diabetes 130-US patients (demo sample, seeded draw), zero-padded to ``codes`` columns."""
    from corgan_core.data.matrix import load_npz

    X = load_npz(DEMO).dense()
    X = X[np.sort(np.random.default_rng(seed).choice(len(X), min(rows, len(X)), replace=False))]
    return np.pad(X, ((0, 0), (0, max(0, codes - X.shape[1])))).astype(np.float32)


class Clock:
    """Seconds on the chosen clock: ``wall`` (perf_counter) or ``cpu`` (this process's CPU time)."""

    def __init__(self, kind: str):
        self.now = time.process_time if kind == "cpu" else time.perf_counter


# ---- the two sides ------------------------------------------------------------------------------
def count_steps(opt, counts: dict, key: str) -> None:
    """Count ``opt``'s steps in ``counts[key]`` (an optimizer hook: sees every step, however made)."""
    counts.setdefault(key, 0)
    opt.register_step_post_hook(lambda *_: counts.__setitem__(key, counts[key] + 1))


def yard_side(X: np.ndarray, seed: int = 0):
    from released_yardstick import Released

    y = Released(X, BATCH, seed)
    y.counts = {}
    count_steps(y.opt_d, y.counts, "critic")
    count_steps(y.opt_g, y.counts, "generator")
    count_steps(y.opt_a, y.counts, "autoencoder")
    real = next(iter(y.loader)).type(torch_float())

    def critic():
        for p in y.disc.parameters():
            p.requires_grad = True
        y.critic_step(real)

    def steady_epoch():
        y.gen_iterations = 26  # past the warm-up: 5 critic steps per generator step
        y.gan_epoch()

    return {"critic": critic, "generator": lambda: y.generator_step(BATCH), "ae_epoch": y.pretrain_epoch,
            "gan_epoch": steady_epoch, "counts": y.counts, "obj": y}


def ours_side(X: np.ndarray, seed: int = 0):
    from corgan_core.models import make_model

    m = make_model("corgan", {"epochs": 1_000_000, "pretrain_epochs": 1_000_000}, "released")
    m.setup(X, "binary", seed, "cpu")
    m.counts = {}
    count_steps(m.opt_d_, m.counts, "critic")
    count_steps(m.opt_g_, m.counts, "generator")
    count_steps(m.opt_ae_, m.counts, "autoencoder")
    real = next(m._batches())
    m.generator_.train(), m.decoder_.train(), m.critic_.train()

    def steady_epoch():
        m.g_iters_ = 26
        m.train_epoch("gan", 0)

    return {"critic": lambda: m._critic_step(real, []), "generator": m._generator_step,
            "ae_epoch": lambda: m.train_epoch("pretrain", 0), "gan_epoch": steady_epoch,
            "counts": m.counts, "obj": m}


def torch_float():
    import torch

    return torch.FloatTensor


def epoch_work(side: dict, which: str) -> dict:
    """Optimizer steps one ``which`` epoch makes (the equal-work check)."""
    before = dict(side["counts"])
    side[which]()
    return {k: side["counts"][k] - before.get(k, 0) for k in side["counts"]}


# ---- part 1: steps and epochs -------------------------------------------------------------------
def bench_steps(X, repeats: int, steps: int, clock: Clock, seed: int = 0) -> dict:
    sides = {"released": yard_side(X, seed), "ours": ours_side(X, seed)}
    for s in sides.values():  # warm-up: first calls allocate
        s["critic"](), s["generator"]()
    per_batch = len(X) // BATCH
    work = {name: {w: epoch_work(s, w) for w in ("ae_epoch", "gan_epoch")} for name, s in sides.items()}
    times: dict = {name: {k: [] for k in ("critic", "generator", "autoencoder", "gan_epoch")} for name in sides}
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for name in order:
            s, t = sides[name], times[name]
            t0 = clock.now()
            for _ in range(steps):
                s["critic"]()
            t["critic"].append((clock.now() - t0) / steps)
            t0 = clock.now()
            for _ in range(steps):
                s["generator"]()
            t["generator"].append((clock.now() - t0) / steps)
            t0 = clock.now()
            s["ae_epoch"]()
            t["autoencoder"].append((clock.now() - t0) / per_batch)
            t0 = clock.now()
            s["gan_epoch"]()
            t["gan_epoch"].append(clock.now() - t0)
    out = {name: {k: stats(v) for k, v in t.items()} for name, t in times.items()}
    out["ratio"] = {k: stats([a / b for a, b in zip(times["released"][k], times["ours"][k])])
                    for k in times["ours"]}
    out["work_per_epoch"] = work
    return out


# ---- the table and the JSON ---------------------------------------------------------------------
def machine() -> dict:
    import platform

    import torch

    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__, "load_average": round(os.getloadavg()[0], 2)}


def _mmm(s: dict, scale: float = 1.0, fmt: str = "{:.4f}") -> str:
    return " / ".join(fmt.format(s[k] * scale) for k in ("min", "median", "max"))


def table(res: dict) -> str:
    lines = ["| what | released (yardstick) min / median / max | ours min / median / max | ratio (released / ours) median (min-max) |",
             "|---|---|---|---|"]
    st = res.get("steps")
    if st:
        for k, label in (("critic", "critic step, s"), ("generator", "generator step, s"),
                         ("autoencoder", "autoencoder step, s"), ("gan_epoch", "steady GAN epoch, s")):
            r = st["ratio"][k]
            lines.append(f"| {label} | {_mmm(st['released'][k])} | {_mmm(st['ours'][k])} | "
                         f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}) |")
    for sa in res.get("sample_by_n") or ([res["sample"]] if res.get("sample") else []):
        r = sa["ratio"]
        lines.append(f"| sample {sa['n_ours']} (released: {sa['n_released']}) end to end, s | {_mmm(sa['released_s'], fmt='{:.2f}')} | "
                     f"{_mmm(sa['ours_s'], fmt='{:.2f}')} | {r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}) |")
    tr = res.get("train")
    if tr:
        lines.append(f"| 1-epoch `corgan train`: overhead outside the epochs, s | | {_mmm(tr['overhead_s'], fmt='{:.2f}')} | |")
        lines.append(f"| ... of which `import corgan_core.cli`, s | | {_mmm(tr['import_cli_s'], fmt='{:.2f}')} | |")
        lines.append(f"| ... after the imports, s | | {_mmm(tr['overhead_after_imports_s'], fmt='{:.2f}')} | |")
        lines.append(f"| (`import torch` alone, s) | {_mmm(tr['import_torch_s'], fmt='{:.2f}')} | | |")
        if "torch_and_adam_s" in tr:
            lines.append(f"| (`import torch` + one Adam step: torch.optim imports torch._dynamo, s) | {_mmm(tr['torch_and_adam_s'], fmt='{:.2f}')} | | |")
            lines.append(f"| overhead minus `import torch`, s | | {_mmm(tr['overhead_after_torch_s'], fmt='{:.2f}')} | |")
            lines.append(f"| overhead minus `import torch` + one Adam step, s | | {_mmm(tr['overhead_after_torch_and_adam_s'], fmt='{:.2f}')} | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="steps,sample,train", help="comma-separated: steps, sample, train")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="critic/generator steps per timed repeat")
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="step timings on the wall clock or this process's CPU time (fairer on a shared machine)")
    ap.add_argument("--quick", action="store_true", help="3 repeats, 5 steps, 2,048 rows")
    ap.add_argument("--sample-n", default="10000", help="comma-separated sample sizes for the sample part, e.g. 10000,200000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--code-root", default=str(ROOT), help="checkout whose corgan the sample/train parts run (before/after)")
    args = ap.parse_args(argv)
    code_root = Path(args.code_root).resolve()
    if args.quick:
        args.repeats, args.steps, args.rows = min(args.repeats, 3), min(args.steps, 5), min(args.rows, 2048)
    import torch

    torch.set_num_threads(args.threads)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    res: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **machine(),
                 "threads": args.threads, "clock": args.clock, "repeats": args.repeats,
                 "conditions": f"{args.rows} Diabetes 130-US patients (demo sample) padded to 1,071 codes, batch {BATCH}, "
                               f"torch threads {args.threads}, corgan:released vs the yardstick (benchmarks/released_yardstick.py)",
                 "command": "python benchmarks/bench_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    X = bench_data(args.rows, seed=args.seed)
    if "steps" in parts:
        res["steps"] = bench_steps(X, args.repeats, args.steps, Clock(args.clock), args.seed)
    if "sample" in parts:
        res["sample_by_n"] = [bench_sample(X, args.repeats, args.threads, args.clock, n=int(n), seed=args.seed,
                                           code_root=code_root)
                              for n in args.sample_n.split(",") if n.strip()]
        res["sample"] = res["sample_by_n"][0]  # the first size, under the key earlier results used
    if "train" in parts:
        res["train"] = bench_train(args.repeats, args.threads, args.clock, args.seed, code_root)
    res["load_average_after"] = round(os.getloadavg()[0], 2)
    print(table(res))
    if not args.no_write:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
