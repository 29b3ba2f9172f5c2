"""Ablation: does convolution help corGAN? (the paper's claim that ADJACENT columns are related).

Grid: ``gd_arch`` in {mlp (MLP G and critic, as released), conv-critic (pure 1-D conv critic, MLP
generator), conv-pure (conv G and pure conv critic), conv (conv G, conv critic whose head also
reads the raw codes; named conv-hybrid until 2026-12-04)} x column order in {icd
(the loaders' order), permuted (a seeded random permutation: neighbours are then unrelated)} x
seeds, on Diabetes 130-US (a seeded training subset, scored vs the HELD-OUT rows), the MIMIC-III
demo (scored vs its training rows: 20 held-out patients are too few for pair rates) and Epileptic
Seizure (``eeg``: 178 EEG samples per row, seizure vs rest learned class-conditionally as the last
column, which stays last when permuted; synthetic columns are put back in order before scoring vs
the held-out 20%). Each run: the same CPU-second budget on one torch thread (checked at each
epoch end), no autoencoder pretraining (the same for every architecture, and most of a short
budget), every other corGAN setting the default. Metrics (``corgan_core.metrics``): top-100
co-occurrence R^2 and per-code frequency R^2; EEG: rank-correlation MAD, discriminator AUROC, GB
TSTR AUROC. The script also times one GAN step per architecture on Diabetes' 881 columns.

    python benchmarks/bench_ablation.py --datasets diabetes --archs mlp,conv-critic,conv-pure \
        --seeds 0 --budget-diabetes 60 --samples 5000 --merge        # one seed (BENCHMARKS.md)
    python benchmarks/bench_ablation.py --datasets eeg --seeds 0 --budget-eeg 45 --merge
    python benchmarks/bench_ablation.py --critic-only 150 --archs mlp,conv-pure,conv \
        --out benchmarks/results/ablation_critic.json                 # critics alone, ~6 CPU-min

``--critic-only STEPS`` trains each critic alone to tell real rows from independent draws with
the same code frequencies (only the pairs differ) and reports its Wasserstein estimate. Prints a
table (mean +- sample sd over seeds) and writes ``benchmarks/results/ablation.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ablation_probes import ARCHS, critic_probe, critic_wasserstein, step_times  # noqa: F401 - re-exported

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
RESULTS = ROOT / "benchmarks" / "results" / "ablation.json"
EEG = DATA / "epileptic-seizure" / "epileptic_seizure_recognition_rebuilt.csv.gz"
ORDERS = ("icd", "permuted")


def load_dataset(name: str, seed: int, rows: int):
    """(train, reference, reference name) for ``name``; Diabetes keeps ``rows`` training rows."""
    from corgan_core.data import load, split

    if name == "diabetes":
        ds = load(str(DATA / "diabetes-130-us" / "dataset_diabetes.zip"), patient_col="patient_nbr",
                  code_cols="diag_1,diag_2,diag_3")
        sp, X = split(ds, 0.2, seed=0), ds.dense()
        train = X[sp.train]
        if rows and rows < len(train):
            train = train[np.random.default_rng(seed).choice(len(train), rows, replace=False)]
        return train, X[sp.holdout], "held-out rows"
    if name == "eeg":  # label (seizure vs rest, the loader's positive=auto) as the last column
        ds = load(str(EEG), positive="auto").with_label_column()
        sp, X = split(ds, 0.2, seed=0), ds.dense()
        return X[sp.train], X[sp.holdout], "held-out rows"
    ds = load(str(DATA / "mimic3-demo"))
    sp, X = split(ds, 0.2, seed=0), ds.dense()
    return X[sp.train], X[sp.train], "training rows (20 held-out patients are too few)"


def permutation(n_cols: int, seed: int, labelled: bool) -> np.ndarray:
    """The seeded column permutation of the ``permuted`` runs; a label column (last) stays last."""
    rng = np.random.default_rng(1000 + seed)
    return np.r_[rng.permutation(n_cols - 1), n_cols - 1] if labelled else rng.permutation(n_cols)


def train_one(X, arch: str, seed: int, budget_cpu_s: float, n_samples: int, kind: str = "binary"):
    """Train corGAN (defaults + ``gd_arch``) until ``budget_cpu_s`` CPU seconds; sample.
    ``kind="continuous"``: the last column is a class label the model conditions on."""
    from corgan_core.models import make_model
    from corgan_core.training import train

    # No autoencoder pretraining: it would take most of a short budget and is the same for every
    # architecture (the decoder starts from the codes' frequencies instead).
    model = make_model("corgan", {"gd_arch": arch, "epochs": 100_000, "pretrain_epochs": 0})
    if kind == "continuous":  # names only matter for finding the label column (the last one)
        model.meta_ = {"codes": [str(j) for j in range(X.shape[1])], "label": str(X.shape[1] - 1)}
    c0, epochs, last = time.process_time(), 0, {}
    # No wall-clock limit: under nice on the shared cores a run can get 5% of a core for minutes,
    # and a wall limit then ends it short of its CPU budget (``ended_by`` records which it was).
    for ev in train(model, X, kind=kind, seed=seed, device="cpu"):
        if ev.type == "epoch_end":
            epochs, last = epochs + (ev.phase == "gan"), ev.losses
            if time.process_time() - c0 > budget_cpu_s:
                break
    cpu = time.process_time() - c0
    return model.sample(n_samples, seed=seed), {"cpu_s": round(cpu, 1), "gan_epochs": epochs,
                                                "ended_by": "cpu budget" if cpu > budget_cpu_s else "model",
                                                "g_steps": int(model.g_iters_),
                                                "last_losses": {k: round(float(v), 4) for k, v in last.items()}}


def score(ref, syn) -> dict:
    from corgan_core.metrics.cooccurrence import cooccurrence
    from corgan_core.metrics.frequency import dimension_wise_probability

    return {"cooc_r2": round(float(cooccurrence(ref, syn, kind="binary", top_k=100).r2), 4),
            "freq_r2": round(float(dimension_wise_probability(ref, syn, kind="binary").r2), 4),
            "codes_per_patient": round(float((syn > 0).sum(1).mean()), 3)}


def score_continuous(train, holdout, syn, real=None):
    """EEG figures of ``syn`` against the held-out rows (label last), as the evaluation computes
    them, metric seed 0 for every run; ``real`` (an earlier result) reuses the TRTR model.
    Returns the figures and the classifier result."""
    from threadpoolctl import threadpool_limits

    from corgan_core.metrics.classifier import classifier_fidelity
    from corgan_core.metrics.continuous import correlation_mad
    from corgan_core.metrics.discriminator import discriminator_score

    with threadpool_limits(limits=1):  # one core, as the training
        clf = classifier_fidelity(train, holdout, syn, label_index=-1, models=("gradient_boosting",), seed=0,
                                  bootstrap=0, real=real)
        disc = discriminator_score(holdout[:, :-1], syn[:, :-1], kind="continuous", seed=0)
        mad = correlation_mad(holdout[:, :-1], syn[:, :-1], bootstrap=0, seed=0)
    gb = clf.models["gradient_boosting"]
    return {"corr_mad": round(float(mad["value"]), 4), "disc_auroc": round(float(disc.auroc), 4),
            "gb_tstr_auroc": round(float(gb["tstr"]["auroc"]), 4), "gb_trtr_auroc": round(float(gb["trtr"]["auroc"]), 4),
            "seizure_share": round(float(np.mean(np.rint(syn[:, -1]) == 1)), 4)}, clf


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["mode"], r["dataset"], r["arch"], r["order"]), []).append(r)
    out = []
    for (mode, ds, arch, order), rs in groups.items():
        s = {"mode": mode, "dataset": ds, "arch": arch, "order": order, "n": len(rs)}
        for k in ("cooc_r2", "freq_r2", "g_steps", "critic_w", "corr_mad", "disc_auroc", "gb_tstr_auroc"):
            if k not in rs[0]:
                continue
            v = np.array([r[k] for r in rs], float)
            s[k + "_mean"], s[k + "_std"] = round(float(v.mean()), 4), round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4)
        out.append(s)
    return out


def table(summary: list[dict]) -> str:
    lines = ["| data | gd_arch | columns | seeds | co-occ R² mean ± sd | freq R² mean ± sd | G steps |",
             "|---|---|---|---|---|---|---|"]
    if summary and summary[0]["mode"] == "critic-only":
        lines = ["| data | critic of gd_arch | columns | seeds | Wasserstein estimate mean ± sd |", "|---|---|---|---|---|"]
        for s in summary:
            lines.append(f"| {s['dataset']} | {s['arch']} | {s['order']} | {s['n']} | {s['critic_w_mean']:.4f} ± {s['critic_w_std']:.4f} |")
        return "\n".join(lines)
    eeg = [s for s in summary if "corr_mad_mean" in s]  # continuous rows: their own columns
    if len(eeg) == len(summary):
        lines = []
    for s in summary:
        if s not in eeg:
            lines.append(f"| {s['dataset']} | {s['arch']} | {s['order']} | {s['n']} | {s['cooc_r2_mean']:.3f} ± "
                         f"{s['cooc_r2_std']:.3f} | {s['freq_r2_mean']:.3f} ± {s['freq_r2_std']:.3f} | {s['g_steps_mean']:.0f} |")
    if eeg:
        lines += ["", "| data | gd_arch | columns | seeds | rank-corr MAD mean ± sd | discriminator AUROC mean ± sd "
                      "| GB TSTR AUROC mean ± sd | G steps |", "|---|---|---|---|---|---|---|---|"]
    for s in eeg:
        lines.append(f"| {s['dataset']} | {s['arch']} | {s['order']} | {s['n']} | {s['corr_mad_mean']:.4f} ± {s['corr_mad_std']:.4f} "
                     f"| {s['disc_auroc_mean']:.3f} ± {s['disc_auroc_std']:.3f} | {s['gb_tstr_auroc_mean']:.3f} ± "
                     f"{s['gb_tstr_auroc_std']:.3f} | {s['g_steps_mean']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="mimic,diabetes")
    ap.add_argument("--archs", default=",".join(ARCHS))
    ap.add_argument("--orders", default=",".join(ORDERS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budget-diabetes", type=float, default=45.0, help="CPU seconds per Diabetes run")
    ap.add_argument("--budget-mimic", type=float, default=15.0, help="CPU seconds per MIMIC demo run")
    ap.add_argument("--budget-eeg", type=float, default=60.0, help="CPU seconds per Epileptic Seizure run")
    ap.add_argument("--diabetes-rows", type=int, default=20_000, help="Diabetes training rows (seeded subset)")
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--step-timing", type=int, default=15, help="GAN steps timed per architecture (0 = skip)")
    ap.add_argument("--critic-only", type=int, default=0, metavar="STEPS",
                    help="instead of training corGAN, train each critic alone for STEPS steps (real rows vs "
                         "independent draws of the same frequencies) and report its Wasserstein estimate")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--merge", action="store_true", help="keep the runs already in --out that this grid does not redo")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)  # the budget is one core's CPU seconds
    seeds = [int(s) for s in args.seeds.split(",")]
    archs, orders = args.archs.split(","), args.orders.split(",")
    rows, timing, real = [], None, None
    for ds in args.datasets.split(","):
        budget = {"diabetes": args.budget_diabetes, "eeg": args.budget_eeg}.get(ds, args.budget_mimic)
        for seed in seeds:
            train_X, ref, ref_name = load_dataset(ds, seed, args.diabetes_rows)
            if ds == "diabetes" and timing is None and args.step_timing and not args.critic_only:
                timing = step_times(train_X, args.step_timing)
                print("step CPU ms (batch 256, critic steps + generator step):", timing, flush=True)
            perm = permutation(train_X.shape[1], seed, labelled=ds == "eeg")
            for order in orders:
                Xo = train_X[:, perm] if order == "permuted" else train_X
                ref_o = ref[:, perm] if order == "permuted" else ref
                for arch in archs:
                    r = {"dataset": ds, "arch": arch, "order": order, "seed": seed, "train_rows": len(Xo)}
                    if args.critic_only:
                        r.update(mode="critic-only", **critic_probe(Xo, arch, seed, args.critic_only))
                    elif ds == "eeg":  # columns back in their order before scoring (the spectrum needs it)
                        syn, info = train_one(Xo, arch, seed, budget, len(Xo), kind="continuous")
                        figures, real = score_continuous(train_X, ref, syn[:, np.argsort(perm)] if order == "permuted" else syn, real)
                        r.update(mode="gan", budget_cpu_s=budget, reference=ref_name, **info, **figures)
                    else:
                        syn, info = train_one(Xo, arch, seed, budget, args.samples if ds == "diabetes" else 2_000)
                        r.update(mode="gan", budget_cpu_s=budget, reference=ref_name, **info, **score(ref_o, syn))
                    r["load_average"], r["utc"] = round(os.getloadavg()[0], 2), time.strftime("%Y-%m-%d %H:%M", time.gmtime())
                    rows.append(r)
                    print(json.dumps(r), flush=True)
                    if not args.no_write:
                        write(args.out, rows, timing, args, seeds)
    print()
    print(table(summarise(rows)))
    return 0


def write(path: str, rows: list[dict], timing, args, seeds) -> None:
    """The results so far (rewritten after every run, so a stopped grid keeps what it measured)."""
    import torch

    import corgan_core

    doc = {"what": "corGAN gd_arch ablation, ICD-ordered vs permuted columns",
           "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}",
           "versions": {"torch": torch.__version__, "numpy": np.__version__,
                        "corgan_core": getattr(corgan_core, "__version__", "dev")},
           "threads": 1, "pretrain_epochs": 0, "critic_only_steps": args.critic_only,
           "budget_cpu_s": {"diabetes": args.budget_diabetes, "mimic": args.budget_mimic, "eeg": args.budget_eeg},
           "diabetes_rows": args.diabetes_rows, "seeds": seeds, "date": time.strftime("%Y-%m-%d %H:%M"),
           "step_cpu_ms": timing, "summary": summarise(rows), "runs": rows}
    out = Path(path)
    if args.merge and out.exists():  # keep earlier runs this grid does not redo (and their settings)
        old = json.loads(out.read_text())
        key = lambda r: (r["mode"], r["dataset"], r["arch"], r["order"], r["seed"])  # noqa: E731
        done = {key(r) for r in rows}
        kept = [r for r in old.get("runs", []) if key(r) not in done]
        doc["runs"] = kept + rows
        doc["summary"] = summarise(doc["runs"])
        doc["seeds"] = sorted({r["seed"] for r in doc["runs"]})
        doc["step_cpu_ms"] = timing or old.get("step_cpu_ms")
        doc["budget_cpu_s"] = {**old.get("budget_cpu_s", {}), **{d: doc["budget_cpu_s"][d] for d in args.datasets.split(",")}}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    sys.exit(main())
