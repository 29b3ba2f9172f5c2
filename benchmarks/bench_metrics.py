"""Benchmark: the full membership attack + DCR/NNDR on Diabetes 130-US, exact, at growing sizes.

For n real patients (5,000, 20,000 and all 71,518 by default), an 80/20 split and a synthetic set,
it times ``nearest_neighbours`` + ``membership_inference`` (sizes 1,000 / 10,000 / all, fractions
0.05-0.4, thresholds 0-10, 3 seeds) + ``distance_to_closest_record``, each size in a fresh process
so its peak RSS is its own. Two synthetic sets: an ``independent`` sample of n rows (the usual
case: few exact duplicates) and a ``verbatim`` copy of the training rows (the attack's best case).
Target on a 2-core machine: full size under 60 s and 4 GB.

    python benchmarks/bench_metrics.py [--sizes 5000,20000,0] [--cases independent,verbatim]
    python benchmarks/bench_metrics.py --evaluate     # full evaluate(): 57k train, 14k holdout, 10k synthetic

Prints a table and writes benchmarks/results/metrics.json (``--evaluate``: metrics_evaluate.json:
wall and CPU seconds, peak RSS, the load average around the run, seconds per metric family). Run from anywhere; data is read from
../shared/data relative to the repository root.
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

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "diabetes-130-us" / "dataset_diabetes.zip").resolve()
RESULTS = ROOT / "benchmarks" / "results" / "metrics.json"
RESULTS_EVALUATE = ROOT / "benchmarks" / "results" / "metrics_evaluate.json"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one(n: int, case: str, seed: int = 0) -> dict:
    """Measure one size and case in this process."""
    import numpy as np

    from corgan_core.data import load, split
    from corgan_core.metrics import (distance_to_closest_record, independent_baseline, membership_inference,
                                     nearest_neighbours)

    t0 = time.perf_counter()
    ds = load(DATA, patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3")
    if 0 < n < ds.n_patients:
        ds = ds.take(np.sort(np.random.default_rng(seed).choice(ds.n_patients, n, replace=False)))
    s = split(ds, 0.2, seed)
    train, holdout = ds.X[s.train], ds.X[s.holdout]
    synth = independent_baseline(train, ds.n_patients, seed + 1) if case == "independent" else train.copy()
    load_s = time.perf_counter() - t0
    import sklearn.metrics  # noqa: F401 - a one-off import (seconds) is not part of the measurement
    rss_before = _rss_mb()

    t1 = time.perf_counter()
    sizes = sorted({min(k, synth.shape[0]) for k in (1000, 10000)} | {synth.shape[0]})
    nn = nearest_neighbours(train, holdout, synth, kind="binary", sizes=sizes, seed=seed)
    t2 = time.perf_counter()
    mi = membership_inference(train, holdout, synth, neighbours=nn)
    dcr = distance_to_closest_record(train, holdout, synth, neighbours=nn)
    t3 = time.perf_counter()
    at0 = [x for x in mi.summary if x["size"] == sizes[-1] and x["threshold"] == 0 and x["fraction"] == 0.4]
    return {
        "case": case, "n_real": ds.n_patients, "n_train": train.shape[0], "n_holdout": holdout.shape[0],
        "n_synthetic": synth.shape[0], "n_codes": ds.n_codes, "density": ds.density,
        "seconds": round(t3 - t1, 2), "neighbours_seconds": round(t2 - t1, 2),
        "attack_and_dcr_seconds": round(t3 - t2, 2), "load_seconds": round(load_s, 2),
        "peak_rss_mb": round(_rss_mb(), 1), "rss_before_metrics_mb": round(rss_before, 1),
        "distinct": {k: v for k, v in nn.stats.items() if k.startswith("distinct")}, "dtype": nn.stats["dtype"],
        "backend": nn.stats["backend"], "membership_auroc": round(mi.auroc[-1], 4),
        "precision_at_0": round(at0[0]["precision_mean"], 4) if at0 else None,
        "verbatim_copy_precision": round(mi.verbatim_copy_precision, 4), "advantage": round(mi.advantage, 4), "holdout_twin_share": round(mi.holdout_twin_share, 4),
        "dcr_share_closer_to_train": round(dcr.share_closer_to_train, 4),
    }


def full_evaluate(seed: int = 0, n_synthetic: int = 10000) -> dict:
    """Full ``evaluate()`` (every part, bootstrap intervals, all-code prediction) on Diabetes 130-US
    with an independent sample as the synthetic set, in this process."""
    from corgan_core.data import load, split
    from corgan_core.metrics import evaluate, independent_baseline

    ds = load(DATA, patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3")
    s = split(ds, 0.2, seed)
    train, holdout = ds.X[s.train], ds.X[s.holdout]
    synth = independent_baseline(train, n_synthetic, seed + 1)
    import sklearn.metrics  # noqa: F401 - one-off imports are not part of the measurement
    load0, rss0 = os.getloadavg(), _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    rep = evaluate(train, holdout, synth, kind="binary", seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"n_train": train.shape[0], "n_holdout": holdout.shape[0], "n_synthetic": synth.shape[0],
            "n_codes": ds.n_codes, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "peak_rss_mb": round(_rss_mb(), 0), "rss_before_mb": round(rss0, 0),
            "load_before": [round(x, 1) for x in load0], "load_after": [round(x, 1) for x in os.getloadavg()],
            "timings": rep.meta["timings"], "bootstrap": rep.meta["bootstrap"],
            "prediction_codes": rep.utility["prediction_auroc_gap"].details["eligible"],
            "verdicts": {n: m.verdict for _, n, m in rep.metrics() if m.verdict}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="5000,20000,0", help="Real patients per run; 0 = all.")
    p.add_argument("--cases", default="independent,verbatim")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluate", action="store_true", help="Time the full evaluate() instead (see above).")
    p.add_argument("--_one", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.evaluate:
        r = full_evaluate(args.seed)
        print(f"{'train':>6s} {'holdout':>7s} {'synth':>6s} {'codes':>5s} {'wall s':>7s} {'CPU s':>6s} {'peak RSS MB':>11s} load")
        print(f"{r['n_train']:6d} {r['n_holdout']:7d} {r['n_synthetic']:6d} {r['n_codes']:5d} {r['wall_seconds']:7.1f} "
              f"{r['cpu_seconds']:6.1f} {r['peak_rss_mb']:11.0f} {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}")
        print("seconds per part:", r["timings"])
        RESULTS_EVALUATE.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_EVALUATE.write_text(json.dumps({
            "benchmark": "full evaluate(), Diabetes 130-US, independent synthetic set",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "target": {"wall_seconds": 60, "peak_rss_mb": 3072}, "result": r}, indent=1))
        print(f"wrote {RESULTS_EVALUATE.relative_to(ROOT)}")
        return 0
    if args._one:
        print(json.dumps(one(int(args._one[0]), args._one[1], args.seed)))
        return 0
    if not DATA.exists():
        print(f"Diabetes 130-US is not at {DATA}; see ../shared/data/README.md.", file=sys.stderr)
        return 2
    rows = []
    print(f"{'case':12s} {'n real':>7s} {'n synth':>7s} {'seconds':>8s} {'(NN)':>6s} {'peak RSS MB':>11s} "
          f"{'distinct syn':>12s} {'MI AUROC':>8s} {'prec@0':>6s} {'copy@0':>7s}")
    for case in args.cases.split(","):
        for n in (int(x) for x in args.sizes.split(",")):
            out = subprocess.run([sys.executable, __file__, "--_one", str(n), case, "--seed", str(args.seed)],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"{r['case']:12s} {r['n_real']:7d} {r['n_synthetic']:7d} {r['seconds']:8.2f} "
                  f"{r['neighbours_seconds']:6.2f} {r['peak_rss_mb']:11.0f} {r['distinct']['distinct_synthetic']:12d} "
                  f"{r['membership_auroc']:8.3f} {r['precision_at_0'] or float('nan'):6.3f} {r['verbatim_copy_precision']:7.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "membership attack + DCR/NNDR, exact, Diabetes 130-US",
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "target": {"seconds": 60, "peak_rss_mb": 4096}, "results": rows}, indent=1))
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
