"""One cohort, real held-out vs synthetic, for one or more trained runs: the numbers and the time it takes.

    python benchmarks/bench_cohorts.py --run-dir R1 --run-dir R2 --all 250,428 [--none 585] [-n 10000]

Prints a table (per run: cohort share real vs synthetic with intervals, the ratio and its verdict,
codes per patient in the cohort, and how the odds ratios of the real cohort's most associated codes
come out in the synthetic data) and writes ``benchmarks/results/cohorts.json``.
"""
from __future__ import annotations

import argparse
import json
import platform
from dataclasses import asdict
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corgan_core.cli_cohort import _codes  # noqa: E402
from corgan_core.cohort import CohortDefinition  # noqa: E402
from corgan_core.cohort_compare import CohortSettings  # noqa: E402
from corgan_core.cohort_run import compare_run, run_data  # noqa: E402
from corgan_core.runs import Run  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "cohorts.json"


def one(run: Run, defn: CohortDefinition, n: int | None, seed: int, settings: CohortSettings) -> dict:
    t0 = time.perf_counter()
    data = run_data(run, n, seed)
    t1 = time.perf_counter()
    c = compare_run(run, defn, n, seed, settings, data=data)
    t2 = time.perf_counter()
    rows = [r for r in c["codes"] if r.get("real_or") is not None]
    inside = [r["real_or_low"] <= r["synthetic_or"] <= r["real_or_high"] for r in rows]
    cfg = run.config()
    return {"run": run.id, "model": cfg["model"], "epochs": cfg["model_config"].get("epochs"),
            "real": c["real"], "synthetic": c["synthetic"], "ratio": c["ratio"], "verdict": c["verdict"],
            "sentence": c["sentence"], "profile_mean": {k: c["profile"][k]["mean"] for k in ("real", "synthetic")},
            "top_codes": [{k: r.get(k) for k in ("code", "title", "real_in", "synthetic_in", "real_or",
                                                 "real_or_low", "real_or_high", "synthetic_or")} for r in rows],
            "or_inside_real_interval": f"{sum(inside)}/{len(inside)}",
            "or_log_mae": float(np.mean([abs(np.log(r["synthetic_or"] / r["real_or"])) for r in rows])) if rows else None,
            "load_and_sample_s": round(t1 - t0, 2), "compare_s": round(t2 - t1, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", action="append", required=True)
    ap.add_argument("--all", action="append", default=None)
    ap.add_argument("--any", action="append", default=None)
    ap.add_argument("--none", action="append", default=None)
    ap.add_argument("-n", type=int, default=None, help="synthetic patients (default: the run's training size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    defn = CohortDefinition(all_of=_codes(a.all), any_of=_codes(a.any), none_of=_codes(a.none))
    settings = CohortSettings()
    out = [one(Run.open(d), defn, a.n, a.seed, settings) for d in a.run_dir]
    print(f"cohort: {defn.describe()}  (k = {settings.k}, {100 * settings.confidence:.0f}% intervals)")
    print(f"{'model':12s} {'real share':>22s} {'synthetic share':>22s} {'ratio':>18s} {'verdict':>12s} "
          f"{'codes/pt r/s':>12s} {'OR in real CI':>13s} {'|log OR| err':>12s} {'compare s':>9s}")
    for r in out:
        re_, sy, q = r["real"], r["synthetic"], r["ratio"]
        print(f"{r['model']:12s} {100 * re_['share']:6.2f}% ({100 * re_['low']:.2f}-{100 * re_['high']:.2f}%)"
              f" {100 * sy['share']:6.2f}% ({100 * sy['low']:.2f}-{100 * sy['high']:.2f}%)"
              f" {q['value']:5.2f} ({q['low']:.2f}-{q['high']:.2f}) {r['verdict']:>12s}"
              f" {r['profile_mean']['real']:5.2f}/{r['profile_mean']['synthetic']:5.2f}"
              f" {r['or_inside_real_interval']:>13s} {r['or_log_mae'] or float('nan'):12.3f} {r['compare_s']:9.2f}")
    if not a.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"definition": defn.to_dict(), "settings": asdict(settings),
                                       "machine": f"{platform.machine()}, shared CPU", "runs": out}, indent=1))
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
