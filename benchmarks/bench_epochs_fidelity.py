"""Benchmark: do the headline fidelity figures tell a 1-epoch corGAN from a trained one (issue 10)?

On the embedded Diabetes 130-US demo (20,000 patients, 80/20 split), corGAN is trained for 1 GAN
epoch and for ``--epochs`` (default 15) with the same seed; each samples as many patients as it
trained on and is evaluated (fidelity and utility). Prints the headline figures with their 95%
intervals, the real-data ceiling and the independent floor, and writes
benchmarks/results/epochs_fidelity.json (CPU seconds per training, load average).

    python benchmarks/bench_epochs_fidelity.py [--epochs 15]
    python benchmarks/bench_epochs_fidelity.py --full --epochs 40   # all of Diabetes 130-US, 10,000 samples

Training runs on one thread (``torch.set_num_threads(1)``) so that CPU seconds mean one core.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "epochs_fidelity.json"
RESULTS_FULL = ROOT / "benchmarks" / "results" / "epochs_fidelity_full.json"
HEAD = ("frequency_r2", "cooccurrence_r2", "threeway_r2", "frequency_r2_rare", "odds_ratio_agreement",
        "discriminator_auroc", "prediction_synthetic_auroc")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true", help="All of Diabetes 130-US (57k training patients).")
    args = p.parse_args(argv)
    import torch

    from corgan_core.data import load, load_demo, split
    from corgan_core.metrics import evaluate
    from corgan_core.models import make_model

    torch.set_num_threads(1)
    data = (ROOT / ".." / "shared" / "data" / "diabetes-130-us" / "dataset_diabetes.zip").resolve()
    ds = load(data, patient_col="patient_nbr", code_cols="diag_1,diag_2,diag_3") if args.full else load_demo()
    sp = split(ds, 0.2, args.seed)
    train, holdout = ds.take(sp.train), ds.take(sp.holdout)
    out = {}
    for epochs in (1, args.epochs):
        c0, load0 = time.process_time(), os.getloadavg()[0]
        model = make_model("corgan", {"epochs": epochs}).fit(train, seed=args.seed)
        cpu = time.process_time() - c0
        syn = model.sample(min(train.n_patients, 10000) if args.full else train.n_patients, seed=args.seed + 1)
        rep = evaluate(train, holdout, syn, kind=ds.kind, seed=args.seed, include=["fidelity", "prediction"])
        figs = {**rep.fidelity, **rep.utility}
        out[epochs] = {"train_cpu_seconds": round(cpu, 1), "load_average": round(load0, 1),
                       **{k: {"value": figs[k].value, "interval": figs[k].interval, "ceiling": figs[k].ceiling,
                              "floor": figs[k].baseline, "verdict": figs[k].verdict} for k in HEAD if k in figs}}
    print(f"{'figure':28s} " + " ".join(f"{f'{e} epoch(s)':>26s}" for e in out) + f" {'ceiling':>8s} {'floor':>8s}")
    for k in HEAD:
        cells = []
        for e in out:
            m = out[e].get(k) or {}
            iv = m.get("interval")
            cells.append(f"{m.get('value') or float('nan'):.3f} [{iv[0]:.3f}, {iv[1]:.3f}]".rjust(26) if iv
                         else f"{m.get('value') or float('nan'):.3f}".rjust(26))
        last = out[args.epochs].get(k) or {}
        print(f"{k:28s} " + " ".join(cells) + f" {last.get('ceiling') or float('nan'):8.3f} {last.get('floor') or float('nan'):8.3f}")
    path = RESULTS_FULL if args.full else RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"benchmark": "headline fidelity, corGAN 1 epoch vs trained, Diabetes "
                                + ("130-US (all)" if args.full else "demo"), "cpus": os.cpu_count(), "results": out}, indent=1))
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
