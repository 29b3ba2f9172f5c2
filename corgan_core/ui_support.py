"""Library-side helpers for the dashboard (no streamlit here, so they are testable on their own).

Saving an upload where runs can find it again, the devices this machine offers, a run's progress
(phase, epoch, speed, ETA), one flat row per run for the Runs table, short demo settings, and
synthetic samples cached in the run folder so revisiting a page (or restarting the server) is instant.
"""
from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from .data import Dataset, detect_source
from .errors import CorganError, DataError, RunError
from .export import synthetic_dataset
from .runs import Run, list_runs, runs_dir

UPLOAD_DIR = "_uploads"
MAX_UNZIPPED_BYTES = 8 * 1024**3
QUICK_EPOCHS = {"epochs": 6, "pretrain_epochs": 2}
QUICK_TIME_BUDGET_S = 45.0
QUALITY_KEYS = ("frequency_r2", "cooccurrence_r2", "correlation_r2", "mi_auroc", "zero_rows", "duplicate_rows")
QUALITY_NAMES = {"frequency_r2": "code frequency R²", "cooccurrence_r2": "co-occurrence R²",
                 "correlation_r2": "correlation R²", "mi_auroc": "membership attack AUROC",
                 "zero_rows": "all-zero share", "duplicate_rows": "repeated share"}


# ---- data ----------------------------------------------------------------------------------------
def stage_upload(name: str, data: bytes, root: str | Path | None = None) -> str:
    """Save uploaded bytes under ``<runs>/_uploads/<sha>/`` and return the path to load.

    Runs remember their data by path and check its SHA-256 when resumed, so an upload is kept
    beside the runs rather than in a temporary folder. A ``.zip`` holding a MIMIC/eICU folder is
    extracted and the folder returned; a zip holding one table is loaded as it is.
    """
    name = Path(str(name)).name or "upload"
    if not data:
        raise DataError(f"The uploaded file {name} is empty.")
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(root) if root is not None else runs_dir() / UPLOAD_DIR
    folder = folder / digest
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(target)
    if not name.lower().endswith(".zip"):
        return str(target)
    return str(_unzip_if_folder(target))


def _unzip_if_folder(path: Path) -> Path:
    """Extract a zip of a MIMIC/eICU folder and return that folder; else return the zip itself."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise DataError(f"{path.name} unpacks to more than {MAX_UNZIPPED_BYTES // 1024**3} GB; "
                                f"put the folder on the server and give its path instead.")
            tables = [i for i in infos if Path(i.filename).name.lower().startswith(
                ("diagnoses_icd.csv", "diagnosis.csv"))]
            if not tables:
                return path  # a zip of one table: the loaders read it directly
            out = path.with_name(path.stem + "_unzipped")
            if not out.exists():
                tmp = path.with_name(f".{path.stem}.extracting")
                shutil.rmtree(tmp, ignore_errors=True)
                zf.extractall(tmp)  # zipfile drops absolute and '..' parts of member names
                tmp.replace(out)
    except zipfile.BadZipFile:
        raise DataError(f"{path.name} is not a readable zip archive: it is truncated or corrupt.") from None
    # the folder holding the diagnosis table (MIMIC-IV keeps it under hosp/)
    for table in sorted(out.rglob("*")):
        low = table.name.lower()
        if low.startswith(("diagnoses_icd.csv", "diagnosis.csv")) and "__macosx" not in str(table).lower():
            folder = table.parent.parent if table.parent.name.lower() == "hosp" else table.parent
            try:
                detect_source(folder)
                return folder
            except DataError:
                continue
    return out


# ---- devices and settings ------------------------------------------------------------------------
def available_devices() -> list[tuple[str, str]]:
    """``(value, label)`` pairs: auto, then each CUDA GPU by name, then the CPU."""
    out = []
    try:
        import torch

        gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
        names = [torch.cuda.get_device_name(i) for i in range(len(gpus))]
    except Exception:  # noqa: BLE001 - no GPU stack is just "CPU only"
        gpus, names = [], []
    out.append(("auto", f"auto ({'GPU: ' + names[0] if names else 'CPU: no GPU found'})"))
    out += [(g, f"{g} ({n})") for g, n in zip(gpus, names)]
    out.append(("cpu", "cpu"))
    return out


def quick_overrides(config_cls) -> dict:
    """Short epoch caps for a demo, for whichever of the model's fields exist."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {k: v for k, v in QUICK_EPOCHS.items() if k in names}


# ---- runs ----------------------------------------------------------------------------------------
def phase_caps(run: Run) -> list[tuple[str, int]]:
    """The run's phases and their epoch caps, from its saved config."""
    from .models import make_model

    cfg = run.config()
    try:
        return [(p.name, int(p.max_epochs)) for p in make_model(cfg["model"], cfg["model_config"]).phases()]
    except Exception:  # noqa: BLE001 - an unknown model still shows what was recorded
        return []


def progress(run: Run, status: dict | None = None, epochs_df=None) -> dict:
    """Where a run is: phase, epoch, overall fraction, seconds per epoch and an ETA (seconds)."""
    st = status if status is not None else run.status()
    df = epochs_df if epochs_df is not None else run.metrics("epochs")
    caps = phase_caps(run)
    total = sum(c for _, c in caps) or 1
    done_by_phase: dict[str, int] = {}
    secs: list[float] = []
    if not df.empty:
        last = df.groupby(["phase", "epoch"], sort=False).agg(t=("t", "first"), s=("seconds", "first"))
        for (ph, ep) in last.index:
            done_by_phase[ph] = max(done_by_phase.get(ph, 0), int(ep))
        # wall time between epochs (includes checkpoints and quality checks), else the epoch's own time
        t = np.sort(last["t"].to_numpy(float))
        secs = list(np.diff(t)) if len(t) >= 2 else [float(x) for x in last["s"]]
    current = st.get("phase") or (caps[0][0] if caps else "")
    names = [n for n, _ in caps]
    pos = names.index(current) if current in names else 0
    done = sum(c for _, c in caps[:pos]) + (done_by_phase.get(current, 0) if caps else 0)
    remaining_epochs = max(total - done, 0)
    finished = st.get("status") == "finished"
    fraction = 1.0 if finished else min(done / total, 1.0)
    per_epoch = float(np.median(secs[-5:])) if secs else None
    eta = None if finished or per_epoch is None else remaining_epochs * per_epoch
    return {"status": st.get("status", "?"), "phase": current, "epoch": int(st.get("epoch") or 0),
            "epochs": int(st.get("epochs") or 0), "fraction": fraction, "seconds_per_epoch": per_epoch,
            "eta_s": eta, "elapsed_s": _elapsed(st), "warning": st.get("warning"), "error": st.get("error")}


def _elapsed(st: dict) -> float | None:
    start = st.get("started")
    if not start:
        return None
    end = st.get("finished") or (time.time() if st.get("status") in ("running", "queued") else st.get("updated"))
    return max(float(end or start) - float(start), 0.0)


def last_quality(run: Run) -> dict:
    """The latest checkpoint's quality figures (empty before the first checkpoint)."""
    q = run.metrics("quality")
    if q.empty:
        return {}
    last = q[q["t"] == q["t"].max()]
    return dict(zip(last["name"], last["value"].astype(float)))


def run_row(run: Run) -> dict:
    """One flat row for the Runs table."""
    try:
        cfg = run.config()
        st = run.status()
    except (OSError, ValueError) as e:
        return {"run": run.id, "status": "unreadable", "error": str(e)}
    data = cfg.get("data", {})
    q = last_quality(run)
    row = {
        "run": run.id, "status": st.get("status"), "model": cfg.get("model"), "preset": cfg.get("preset"),
        "data": data.get("source") or data.get("path"),
        "patients x codes": f"{data.get('patients', '?')} x {data.get('codes', '?')}",
        "seed": cfg.get("settings", {}).get("seed"),
        "phase": st.get("phase"), "epoch": st.get("epoch"),
        "created": cfg.get("created", "")[:19].replace("T", " "),
    }
    for k in QUALITY_KEYS:
        if k in q:
            row[k] = round(q[k], 4)
    row["note"] = st.get("error") or st.get("warning") or ""
    return row


def runs_table(root: str | Path | None = None) -> list[dict]:
    return [run_row(r) for r in list_runs(root)]


def find_run(run_id: str, root: str | Path | None = None) -> Run:
    root = Path(root) if root is not None else runs_dir()
    path = root / run_id
    if not (path / "config.json").exists():
        raise RunError(f"There is no run {run_id!r} in {root}.")
    return Run(path)


def has_model(run: Run) -> bool:
    return run.model_path().exists() or run.checkpoint_path().exists()


# ---- synthetic samples, cached in the run folder -------------------------------------------------
def synthetic(run: Run, n: int | None = None, seed: int = 0) -> Dataset:
    """``n`` synthetic patients (default: as many as the run trained on) with code names and titles.

    Kept in ``<run>/samples/`` keyed by the model file's time, so they are drawn once per model.
    """
    if not has_model(run):
        raise RunError(f"Run {run.id} has no trained model yet (no checkpoint written).")
    cfg = run.config()
    n = int(n or cfg.get("split", {}).get("train") or cfg["data"]["patients"])
    if n < 1:
        raise CorganError(f"The number of synthetic patients must be at least 1; got {n}.")
    path = _sample_path(run, n, seed)
    if path.exists():
        from .data.matrix import load_npz

        return load_npz(path)
    X = run.sample(n, seed=int(seed))
    meta = getattr(run.load_model(), "meta_", {}) or {}
    codes = list(meta.get("codes") or [f"code_{j}" for j in range(X.shape[1])])
    ds = synthetic_dataset(X, codes, meta.get("kind") or cfg["data"].get("kind", "binary"),
                           meta.get("titles") or {}, source=f"synthetic from run {run.id}")
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"*-n{n}-seed{int(seed)}.npz"):  # samples of an older model
        old.unlink(missing_ok=True)
    ds.save_npz(path)
    return ds


def _sample_path(run: Run, n: int, seed: int) -> Path:
    """Cache file of ``n`` samples: keyed by the model file (final model, else checkpoint) and its time."""
    src = run.model_path() if run.model_path().exists() else run.checkpoint_path()
    return run.dir / "samples" / f"{src.stem}-{int(src.stat().st_mtime_ns)}-n{int(n)}-seed{int(seed)}.npz"


def compare_table(runs: list[Run]):
    """Runs side by side (one column each): status, data, settings, the options that differ, last quality."""
    import pandas as pd

    cols = {}
    configs = {r.id: r.config() for r in runs}
    differing = set()
    options = [c.get("model_config", {}) for c in configs.values()]
    for key in sorted(set().union(*options)) if options else []:
        if len({repr(o.get(key)) for o in options}) > 1:
            differing.add(key)
    for r in runs:
        cfg, row = configs[r.id], run_row(r)
        col = {"status": row["status"], "model": cfg.get("model"), "preset": cfg.get("preset"),
               "data": row["data"], "patients x codes": row["patients x codes"], "seed": row["seed"],
               "epochs done": row.get("epoch")}
        col.update({f"option: {k}": cfg.get("model_config", {}).get(k) for k in sorted(differing)})
        q = last_quality(r)
        col.update({f"last check: {QUALITY_NAMES.get(k, k)}": round(q[k], 4) for k in QUALITY_KEYS if k in q})
        cols[r.id] = {k: ("" if v is None else str(v)) for k, v in col.items()}
    return pd.DataFrame(cols)


def sample_file(run: Run, fmt: str, n: int | None = None, seed: int = 0) -> Path:
    """The synthetic sample as a ``.csv``/``.parquet``/``.npz`` file with code names (cached in the run)."""
    from .export import write_samples

    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "parquet", "npz"):
        raise CorganError(f"Cannot export as {fmt!r}: choose csv, parquet or npz.")
    ds = synthetic(run, n, seed)
    src = _sample_path(run, ds.n_patients, seed)
    if fmt == "npz":
        return src
    out = src.with_suffix(f".{fmt}")
    if not out.exists():
        write_samples(ds.dense(), ds.codes, ds.kind, out)
    return out


# ---- evaluation report, cached in the run folder -------------------------------------------------
def report_path(run: Run, n: int | None = None, seed: int = 0) -> Path:
    cfg = run.config()
    n = int(n or cfg.get("split", {}).get("train") or cfg["data"]["patients"])
    src = run.model_path() if run.model_path().exists() else run.checkpoint_path()
    stamp = int(src.stat().st_mtime_ns) if src.exists() else 0
    return run.dir / "evaluation" / f"report-{src.stem}-{stamp}-n{n}-seed{int(seed)}.json"


def evaluation(run: Run, n: int | None = None, seed: int = 0, progress=None):
    """The run's evaluation :class:`~corgan_core.report.Report` (computed once per model, n and seed).

    Synthetic patients come from :func:`synthetic`; the real rows are the run's own train/holdout
    split; the run's DP epsilon is passed along. ``progress(done, total)`` sees the work as it goes.
    """
    from .metrics import evaluate
    from .report import Report

    path = report_path(run, n, seed)
    if path.exists():
        return Report.from_json(path)
    ds, sp = run.dataset(), run.split()
    holdout = run.holdout_rows(ds)
    syn = synthetic(run, n, seed)
    label = run.label_name(ds)
    rep = evaluate(ds.take(sp.train), holdout, syn, kind=ds.kind, codes=ds.codes,
                   titles=ds.titles, seed=int(seed), epsilon=run.epsilon(), progress=progress,
                   **({"label": label} if label else {}))
    rep.meta["source"] = {"run": run.id, "n": syn.n_patients}
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"report-*-n{syn.n_patients}-seed{int(seed)}.json"):
        old.unlink(missing_ok=True)
    rep.to_json(path)
    return rep


def cached_evaluation(run: Run, n: int | None = None, seed: int = 0):
    """The cached report, or None when it has not been computed yet."""
    from .report import Report

    path = report_path(run, n, seed)
    return Report.from_json(path) if path.exists() else None
