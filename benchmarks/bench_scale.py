"""Benchmark: sparse data at scale, up to 1,000,000 patients x 10,000 codes at 0.1% density.

The project's own generator (:func:`generate`, seeded) writes the matrix as our ``.npz`` (CSR plus
vocabulary): each patient has 1 + NegBin(2, mean 9) codes (about 10, so 0.1% of 10,000), drawn
from a Zipf-like popularity (p_j ~ 1 / (j + 5)^1.05 over the columns in a seeded random order, so
a few codes are common and most are rare); repeats within a patient collapse, so the realised
density is a little under 0.1% and is reported. Then, each stage in its own process (peak RSS
from that process's ``getrusage``, which includes Python, torch and the corgan import, about
0.3-0.4 GB, shown as the ``import`` stage):

- ``load``: ``corgan_core.data.load(path)`` (the matrix stays CSR);
- ``train``: load + one training epoch of the VAE (``hidden`` 64, ``latent_dim`` 32 at 10,000
  codes: corGAN's convolutional decoder at 10,000 codes is heavier than 2 cores allow at this size
  within minutes) through ``GenerativeModel.fit``: the rows stay CSR in a RowStore and each batch
  of 512 is densified on its own; ``--max-steps`` caps the epoch (then it trains that many batches
  of rows drawn from the whole store, and says so); the model is saved;
- ``sample``: the saved model loaded and ``sample_sparse`` of as many patients as the data has
  (``--sample-cap`` caps it), written as a CSR ``.npz``.

Target: every stage under 4 GB peak RSS on CPU at 1,000,000 rows.

    python benchmarks/bench_scale.py [--rows 10000,100000,1000000] [--threads 1] [--max-steps 0]

Prints a table and writes benchmarks/results/scale.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
TARGET_GB = 4.0
VAE = {"epochs": 1, "hidden": 64, "latent_dim": 32, "batch_size": 512}


def generate(rows: int, codes: int = 10_000, density: float = 0.001, seed: int = 0):
    """A seeded binary CSR patient x code matrix with skewed code frequencies (see the docstring)."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    mean = max(1.0, density * codes)
    per = 1 + rng.negative_binomial(2, 2 / (2 + mean - 1), size=rows)  # mean 1 + (mean - 1)
    per = np.minimum(per, codes)
    popularity = 1.0 / (np.arange(codes) + 5.0) ** 1.05
    popularity = popularity[rng.permutation(codes)]
    cols = rng.choice(codes, size=int(per.sum()), p=popularity / popularity.sum()).astype(np.int32)
    indptr = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    X = sp.csr_matrix((np.ones(len(cols), np.float32), cols, indptr), shape=(rows, codes))
    X.sum_duplicates()
    X.data[:] = 1.0
    return X


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KB on Linux


def stage(name: str, a) -> dict:
    """One stage, in this (child) process; returns its numbers."""
    import torch

    torch.set_num_threads(a.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    out: dict = {}
    if name == "generate":
        from corgan_core.data import Dataset

        X = generate(a.n, a.codes, a.density, a.seed)
        Dataset(X=X, codes=[f"C{j:05d}" for j in range(a.codes)], patient_ids=[str(i) for i in range(a.n)],
                kind="binary", source="bench_scale generator").save_npz(a.path)
        out.update(nnz=int(X.nnz), density=X.nnz / (X.shape[0] * X.shape[1]),
                   top_code_share=float(X.sum(axis=0).max() / X.shape[0]), file_mb=os.path.getsize(a.path) / 1e6)
    elif name == "load":
        from corgan_core.data import load

        ds = load(a.path)
        out.update(sparse=bool(ds.is_sparse), nnz=int(ds.X.nnz), kind=ds.kind)
    elif name == "train":
        from corgan_core.data import load
        from corgan_core.models import make_model

        ds = load(a.path)
        t_load = time.perf_counter() - t0
        model = make_model("vae", VAE)
        if a.max_steps:
            _cap_steps(model, a.max_steps)
        seconds = []
        model.fit(ds, seed=a.seed, device="cpu",
                  on_event=lambda e: seconds.append(e.seconds) if e.type == "epoch_end" else None)
        steps = min(a.max_steps or 10**12, max(1, len(model.trained_rows_) // VAE["batch_size"]))
        model.save(a.model)
        out.update(load_s=t_load, epoch_s=seconds[0], steps=steps, rows_per_s=steps * VAE["batch_size"] / seconds[0],
                   store_mb=model.data_.nbytes / 1e6 if hasattr(model.data_, "nbytes") else None,
                   full_epoch=not a.max_steps or steps * VAE["batch_size"] >= len(model.trained_rows_))
    elif name == "sample":
        import scipy.sparse as sp

        from corgan_core.models.base import GenerativeModel

        model = GenerativeModel.load(a.model)
        n = min(a.n, a.sample_cap) if a.sample_cap else a.n
        S = model.sample_sparse(n, seed=1)
        sp.save_npz(a.path + ".samples.npz", S)
        out.update(samples=n, nnz=int(S.nnz), codes_per_patient=S.nnz / n)
    out.update(stage=name, wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0, peak_rss_gb=_peak_gb())
    return out


def _cap_steps(model, steps: int) -> None:
    """Cap the VAE's epoch at ``steps`` batches: after setup, the store is seen through a random
    choice of ``steps x batch_size`` of its rows (all of it stays in memory, as in a full epoch)."""
    import torch

    setup = model.setup

    def capped(X, kind, seed, device):
        setup(X, kind, seed, device)
        store, n = model.data_, steps * model.config.batch_size
        if n < len(store):
            pick = torch.randperm(len(store), generator=torch.Generator().manual_seed(seed))[:n]
            model.data_ = _Picked(store, pick)
    model.setup = capped


class _Picked:
    def __init__(self, store, pick):
        self.store, self.pick, self.nbytes = store, pick, store.nbytes

    def __len__(self):
        return len(self.pick)

    def __getitem__(self, index):
        return self.store[self.pick[index]]


def run_stage(name: str, a, n: int, path: str, model: str) -> dict:
    cmd = [sys.executable, __file__, "--stage", name, "--n", str(n), "--path", path, "--model", model,
           "--threads", str(a.threads), "--codes", str(a.codes), "--density", str(a.density),
           "--max-steps", str(a.max_steps), "--sample-cap", str(a.sample_cap), "--seed", str(a.seed)]
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads),
           "PYTHONPATH": str(ROOT)}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        return {"stage": name, "error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", default="10000,100000,1000000")
    p.add_argument("--codes", type=int, default=10_000)
    p.add_argument("--density", type=float, default=0.001)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="Cap the training epoch at this many batches (0 = a full epoch).")
    p.add_argument("--sample-cap", type=int, default=0, help="Sample at most this many patients (0 = as many as the data has).")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stage", default=None, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--path", default="", help=argparse.SUPPRESS)
    p.add_argument("--model", default="", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.stage:
        if a.stage == "import":
            import torch  # noqa: F401

            import corgan_core.models  # noqa: F401
            print(json.dumps({"stage": "import", "peak_rss_gb": _peak_gb(), "wall_s": 0.0, "cpu_s": time.process_time()}))
        else:
            print(json.dumps(stage(a.stage, a)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        base = run_stage("import", a, 0, "", "")
        print(f"import only: peak RSS {base['peak_rss_gb']:.2f} GB")
        print(f"{'rows':>9} {'stage':>8} {'wall s':>8} {'CPU s':>8} {'peak GB':>8}  notes")
        for n in [int(x) for x in a.rows.split(",")]:
            path, model = f"{tmp}/m{n}.npz", f"{tmp}/m{n}.pt"
            for name in ("generate", "load", "train", "sample"):
                r = {"rows": n, **run_stage(name, a, n, path, model)}
                results.append(r)
                notes = r.get("error") or ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                                                   if k not in ("rows", "stage", "wall_s", "cpu_s", "peak_rss_gb"))
                print(f"{n:>9} {name:>8} {r.get('wall_s', float('nan')):8.1f} {r.get('cpu_s', float('nan')):8.1f} "
                      f"{r.get('peak_rss_gb', float('nan')):8.2f}  {notes}", flush=True)
    import torch

    worst = max((r.get("peak_rss_gb", 0.0) for r in results), default=0.0)
    doc = {"benchmark": "bench_scale", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
           "versions": {"python": platform.python_version(), "torch": torch.__version__},
           "settings": {"codes": a.codes, "density": a.density, "threads": a.threads, "max_steps": a.max_steps,
                        "sample_cap": a.sample_cap, "seed": a.seed, "vae": VAE},
           "import_peak_rss_gb": base["peak_rss_gb"], "results": results,
           "target_gb": TARGET_GB, "worst_peak_rss_gb": worst, "target_met": worst < TARGET_GB}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2))
    print(f"worst peak RSS {worst:.2f} GB (target < {TARGET_GB} GB: {'met' if worst < TARGET_GB else 'MISSED'}); wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
