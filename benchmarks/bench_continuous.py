"""Continuous records (issue 16): the corGAN paper's Epileptic Seizure experiment, seizure vs rest.

Each model trains through the shared engine on the training rows of a seeded 80/20 split of
``../shared/data/epileptic-seizure`` (the label y == 1 learned as the last column, so the neural
models are class-conditional) until a CPU-time budget is spent (``time.process_time``, one torch
thread: the shared machine's wall time is unreliable). Then, on the 20% held out:

- TRTR vs TSTR AUROC and accuracy for logistic regression, random forest and gradient boosting
  (:func:`corgan_core.metrics.classifier.classifier_fidelity`, as in the evaluation report): AUROC
  with its DeLong interval, accuracy with its Wilson interval, and the mean TRTR - TSTR gaps with
  paired bootstrap intervals over the holdout rows;
- the real-vs-synthetic discriminator AUROC (gradient boosting, 3-fold, balanced rows);
- the correlation-matrix mean absolute difference (with interval), the scaled per-column
  Wasserstein-1 and KS (mean and worst column) and the per-class power-spectrum distance.

Prints a table and writes ``benchmarks/results/continuous.json`` (``--merge`` keeps the rows of
models not run this time). Example: ``python benchmarks/bench_continuous.py --budget 240``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corgan_core.data import load, split  # noqa: E402
from corgan_core.metrics.classifier import MODELS, classifier_fidelity  # noqa: E402
from corgan_core.metrics.continuous import continuous_fidelity  # noqa: E402
from corgan_core.metrics.discriminator import discriminator_score  # noqa: E402
from corgan_core.models import make_model  # noqa: E402
from corgan_core.training import train  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "epileptic-seizure" / "epileptic_seizure_recognition_rebuilt.csv.gz"
OUT = ROOT / "benchmarks" / "results" / "continuous.json"
MODEL_OPTIONS = {"corgan": {"epochs": 100_000}, "medgan": {"epochs": 100_000, "pretrain_epochs": 10},
                 "vae": {"epochs": 100_000}, "independent": {}}


def prepare(seed: int, train_labels: str = "binary"):
    """``(dataset, training rows, held-out rows)``, the label as the last column: seizure vs rest, or
    (``train_labels="five"``) the file's five classes, which the models then condition on (the split
    is the same: it does not depend on the labels)."""
    ds = load(str(DATA), positive="none" if train_labels == "five" else "auto").with_label_column()
    sp = split(ds, holdout=0.2, seed=seed)
    X = ds.dense()
    return ds, X[sp.train], X[sp.holdout]


def binary_task(M: np.ndarray) -> np.ndarray:
    """The rows with a five-class label column (1 = seizure) turned into the binary task."""
    out = M.copy()
    out[:, -1] = np.rint(M[:, -1]) == 1
    return out


def fit_for(name: str, options: dict, ds, train_X, budget_cpu_s: float, seed: int):
    """Train ``name`` until ``budget_cpu_s`` CPU seconds (or its epoch caps) are spent."""
    import torch

    torch.set_num_threads(1)
    model = make_model(name, options)
    model.meta_ = {"codes": list(ds.codes), "label": ds.label_name}
    t0, epochs = time.process_time(), 0
    for ev in train(model, train_X, kind="continuous", seed=seed, device="cpu"):
        if ev.type == "epoch_end":
            epochs += 1
            if time.process_time() - t0 > budget_cpu_s:
                break
    return model, time.process_time() - t0, epochs


def evaluate_model(name, model, train_X, holdout_X, real, seed, task=None):
    """Every figure of one model's synthetic rows; ``real`` is an earlier model's classifier result
    (its TRTR models are reused); ``task`` maps the sampled rows to the binary task. Returns the row
    and this model's classifier result."""
    syn = model.sample(len(train_X), seed=seed + 1)
    syn = syn if task is None else task(syn)
    clf = classifier_fidelity(train_X, holdout_X, syn, label_index=-1, seed=seed, real=real)
    fid = continuous_fidelity(holdout_X[:, :-1], syn[:, :-1], y_holdout=holdout_X[:, -1], y_synthetic=syn[:, -1],
                              seed=seed)
    disc = discriminator_score(holdout_X[:, :-1], syn[:, :-1], kind="continuous", seed=seed)
    s = fid.synthetic
    return {"model": name, "utility": clf.to_dict(), "discriminator_auroc": disc.auroc,
            "discriminator_interval": disc.auroc_interval,
            "correlation_mad": s["correlation_mad"], "wasserstein_mean": s["wasserstein_mean"],
            "wasserstein_worst": s["wasserstein_worst"], "ks_mean": s["ks_mean"], "ks_worst": s["ks_worst"],
            "spectrum_distance": s["spectrum_distance"], "seizure_share": float(np.mean(np.rint(syn[:, -1]) == 1))}, clf


def table(rows) -> str:
    head = ("model", "cpu_s", "epochs", "LR trtr/tstr", "RF trtr/tstr", "GB trtr/tstr", "disc", "corrMAD", "W1", "KS")
    lines = [" | ".join(head)]
    for r in rows:
        u = r["utility"].get("models", r["utility"])  # rows written before the intervals
        cells = [r["model"], f"{r['cpu_s']:.0f}", str(r["epochs"])]
        for clf in MODELS:
            cells.append(f"{u[clf]['trtr']['auroc']:.3f}/{u[clf]['tstr']['auroc']:.3f}")
        cells += [f"{r['discriminator_auroc']:.3f}", f"{r['correlation_mad']['value']:.3f}",
                  f"{r['wasserstein_mean']:.3f}", f"{r['ks_mean']:.3f}"]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="corgan,vae,medgan,independent")
    ap.add_argument("--budget", type=float, default=240.0, help="CPU seconds of training per model.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], help="MODEL.option=value override (repeatable).")
    ap.add_argument("--tag", default="", help="Name suffix of the result rows (for variants).")
    ap.add_argument("--merge", action="store_true", help="Keep rows of other models from the existing JSON.")
    ap.add_argument("--train-labels", choices=("binary", "five"), default="binary",
                    help="What the models condition on: seizure vs rest, or the five classes (scored as seizure vs rest).")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    ds, model_X, holdout_X = prepare(args.seed, args.train_labels)
    task = binary_task if args.train_labels == "five" else None
    train_X, holdout_X = (model_X, holdout_X) if task is None else (task(model_X), task(holdout_X))
    rows, real = [], None
    for name in args.models.split(","):
        options = dict(MODEL_OPTIONS[name])
        for s in args.set:
            key, value = s.split("=", 1)
            m, opt = key.split(".", 1)
            if m == name:
                options[opt] = json.loads(value) if value[:1] in "0123456789-[{tf" else value
        model, cpu, epochs = fit_for(name, options, ds, model_X, args.budget, args.seed)
        row, clf = evaluate_model(name + args.tag, model, train_X, holdout_X, real, args.seed, task)
        real = real or clf
        row.update(cpu_s=cpu, epochs=epochs, options=options, budget_cpu_s=args.budget, train_labels=args.train_labels)
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
    out = Path(args.out)
    doc = {"data": str(DATA.name), "split": "seeded 80/20", "seed": args.seed, "rows": rows}
    if args.merge and out.exists():
        old = json.loads(out.read_text())
        names = {r["model"] for r in rows}
        doc["rows"] = [r for r in old.get("rows", []) if r["model"] not in names] + rows
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    print(table(doc["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
