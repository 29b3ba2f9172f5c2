"""What a run looks like to a person: progress (phase, epoch, speed, ETA), one row per run, a
side-by-side comparison. The CLI's ``runs list`` and the dashboard's pages read the same rows.

Reads only the run folder (config, status, metrics), never the model, so it needs no torch.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import CorganError
from .quality import MEASURES, TABLE_KEYS
from .store import Run, list_runs

ETA_WINDOW = 5  # epochs whose median duration predicts the rest


def phases(run: Run) -> list[dict]:
    """The run's phases as recorded at creation: name, label, max_epochs, samples."""
    cfg = run.config()
    if "phases" in cfg:
        return cfg["phases"]
    from dataclasses import asdict

    from ..models import make_model  # a run made before phases were recorded

    return [asdict(p) for p in make_model(cfg["model"], cfg["model_config"]).phases()]


def phase_label(run: Run, name: str | None) -> str:
    for p in phases(run):
        if p["name"] == name:
            return p.get("label") or name
    return name or "starting"


def progress(run: Run, status: dict | None = None, epochs_df=None) -> dict:
    """Where a run is: phase, epoch, overall fraction, seconds per epoch and an ETA (seconds).

    When the epoch caps follow the time limit (``epochs_follow_budget``, see
    :func:`corgan_core.runs.settings.budget_caps`), the fraction and the ETA come from the limit
    and ``epochs`` is the number the rest of the limit is expected to fit at the recent pace."""
    st = status if status is not None else run.status()
    df = epochs_df if epochs_df is not None else run.metrics("epochs")
    caps = [(p["name"], int(p["max_epochs"])) for p in phases(run)]
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
        if "phase" in df and st.get("phase") in set(df["phase"]):  # this phase's pace predicts the rest best
            mine = last[last.index.get_level_values(0) == st["phase"]]
            t = np.sort(mine["t"].to_numpy(float))
            secs = list(np.diff(t)) if len(t) >= 2 else secs
    current = st.get("phase") or next((n for n, c in caps if c > 0), caps[0][0] if caps else "")
    names = [n for n, _ in caps]
    pos = names.index(current) if current in names else 0
    done = sum(c for _, c in caps[:pos]) + (done_by_phase.get(current, 0) if caps else 0)
    remaining_epochs = max(total - done, 0)
    finished = st.get("status") == "finished"
    cut = bool(st.get("time_limited"))
    fraction = 1.0 if finished and not cut else min(done / total, 1.0)
    per_epoch = float(np.median(secs[-ETA_WINDOW:])) if secs else None
    spent = elapsed(st)
    eta = None if finished or per_epoch is None else remaining_epochs * per_epoch
    cfg = run.config()
    budget = float(cfg.get("settings", {}).get("time_budget_s") or 0)
    if eta is not None and budget and spent is not None:
        eta = min(eta, max(budget - spent, 0.0))  # training ends at its time limit
    epoch, epochs = int(st.get("epoch") or 0), int(st.get("epochs") or 0)
    follows = bool(cfg.get("budget_caps")) and budget > 0
    if follows:  # the caps were raised so that the time limit ends training: it measures progress
        fraction = 1.0 if finished and not cut else min((spent or 0.0) / budget, 1.0)
        eta = None if finished else max(budget - (spent or 0.0), 0.0)
        if names and current == names[-1]:  # the epochs the rest of the limit will fit
            epochs = epoch if finished or not per_epoch else epoch + int(eta / per_epoch)
    return {"status": st.get("status", "?"), "phase": current, "phase_label": phase_label(run, current),
            "epoch": epoch, "epochs": epochs, "fraction": fraction, "epochs_follow_budget": follows,
            "seconds_per_epoch": per_epoch, "eta_s": eta, "elapsed_s": spent, "time_limited": cut,
            # finished because its time ran out: cut short of its caps, or caps that follow the limit
            "ended_by_limit": finished and (cut or follows),
            "time_budget_s": budget or None, "evaluation": st.get("evaluation"),
            "evaluation_error": st.get("evaluation_error"), "warning": st.get("warning"), "error": st.get("error")}


def elapsed(st: dict) -> float | None:
    """Training time over every attempt (a resumed run counts its earlier attempts too)."""
    if st.get("training_s") is not None and st.get("status") == "finished":
        return float(st["training_s"])
    start = st.get("started")
    if not start:
        return None
    end = st.get("finished") or (time.time() if st.get("status") in ("running", "queued") else st.get("updated"))
    return float(st.get("elapsed_before") or 0.0) + max(float(end or start) - float(start), 0.0)


def last_quality(run: Run) -> dict:
    """The latest checkpoint's quality figures (empty before the first checkpoint)."""
    q = run.metrics("quality")
    if q.empty:
        return {}
    last = q[q["t"] == q["t"].max()]
    return dict(zip(last["name"], last["value"].astype(float)))


def run_row(run: Run) -> dict:
    """One flat row per run (the Runs table, ``corgan runs list``)."""
    try:
        cfg = run.config()
        st = run.status()
    except (OSError, ValueError, CorganError) as e:
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
    for k in TABLE_KEYS:
        if k in q:
            row[k] = round(q[k], 4)
    row["note"] = st.get("error") or st.get("warning") or ""
    return row


def short_label(run: Run) -> str:
    """A run's name short enough for a legend or a column header: ``corgan 23:20:05 ab12cd``."""
    if len(run.id) <= 20:
        return run.id
    try:
        cfg = run.config()
    except CorganError:
        return run.id[-20:]
    when = cfg.get("created", "")[11:19]
    return f"{cfg.get('model', '?')} {when} {run.id[-6:]}".strip()


def runs_table(root: str | Path | None = None) -> list[dict]:
    return [run_row(r) for r in list_runs(root)]


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
        col.update({f"last check: {MEASURES[k][0]}": round(q[k], 4) for k in TABLE_KEYS if k in q})
        col = {"run": r.id, **col}
        cols[short_label(r)] = {k: ("" if v is None else str(v)) for k, v in col.items()}
    return pd.DataFrame(cols)
