"""The run process: load the run's data and split, train with the engine, record every event.

``python -m corgan_core.runs.execute RUN_DIR`` is the background process that the dashboard and
``corgan train --detach`` start (:func:`corgan_core.runs.process.spawn`); :func:`execute` is also
called in the foreground by ``corgan train``. Status goes through the run store's compare-and-set.
"""
from __future__ import annotations

import fcntl
import os
import signal
import sys
import threading
import time
from typing import Callable

import numpy as np

from ..errors import CorganError, RunError
from ..killpoints import reached
from ..training import Event, train
from . import process
from .quality import checkpoint_quality, degenerate
from .settings import budget_caps
from .store import Run, write_json_atomic

QUALITY_SAMPLES = 2000
QUALITY_SHARE = 0.1  # quality checks may take at most this share of the run's wall time


def _record_epoch(con, e: Event) -> None:
    now = time.time()
    rows = [(now, e.phase, e.epoch, e.epochs, e.seconds, k, float(v)) for k, v in e.losses.items()]
    con.executemany("INSERT INTO epochs VALUES (?,?,?,?,?,?,?)", rows)
    con.commit()


def _record_quality(con, run: Run, model, train_rows, holdout_rows, kind, e: Event, seed: int) -> None:
    syn = model.sample(QUALITY_SAMPLES, seed=seed)
    q = checkpoint_quality(train_rows, holdout_rows if holdout_rows.shape[0] else train_rows, syn, kind, seed=seed)
    now = time.time()
    con.executemany("INSERT INTO quality VALUES (?,?,?,?,?)",
                    [(now, e.phase, e.epoch, k, float(v)) for k, v in q.items()])
    reached("quality")  # test-only crash point (corgan_core.killpoints): inserted, not committed
    con.commit()
    run.update_status(expect=("running",), warning=degenerate(q))


def _forget_after(con, model, progress: dict) -> None:
    """Drop metric rows of epochs the checkpoint does not contain (they will be trained again)."""
    names = [p.name for p in model.phases()]
    pi, epoch = int(progress.get("phase_index", 0)), int(progress.get("epoch", 0))
    for i, name in enumerate(names):
        if i > pi:
            con.execute("DELETE FROM epochs WHERE phase = ?", (name,))
            con.execute("DELETE FROM quality WHERE phase = ?", (name,))
        elif i == pi:
            con.execute("DELETE FROM epochs WHERE phase = ? AND epoch > ?", (name, epoch))
            con.execute("DELETE FROM quality WHERE phase = ? AND epoch > ?", (name, epoch))
    con.commit()


def _evaluate(run: Run) -> None:
    """The full report, computed once in this process so that pages only read it; progress goes to
    the status. A report that cannot be made (e.g. no held-out rows) does not fail the training."""
    from .products import evaluation

    shown = [0.0]

    def progress(done, total):
        if time.monotonic() - shown[0] >= 0.5:
            shown[0] = time.monotonic()
            run.update_status(expect=("running",), evaluation=min(done / max(total, 1e-9), 1.0))

    run.update_status(expect=("running",), evaluation=0.0)
    try:
        evaluation(run, progress=progress)
        run.update_status(expect=("running",), evaluation=1.0)
    except CorganError as exc:
        run.update_status(expect=("running",), evaluation=None, evaluation_error=str(exc))


def _raise_caps(run: Run, cfg: dict, settings) -> dict:
    """Before the first epoch: raise the epoch caps that would end training long before the time
    limit (:func:`~corgan_core.runs.settings.budget_caps`) and record them in config.json, so that a
    resume trains the same model and the progress views know the limit ends training."""
    from dataclasses import asdict

    from ..models import make_model

    raised = budget_caps(cfg["model"], cfg.get("preset", "default"), cfg["model_config"], settings)
    if not raised or cfg.get("budget_caps"):
        return cfg
    model_config = {**cfg["model_config"], **{k: new for k, (_, new) in raised.items()}}
    mdl = make_model(cfg["model"], model_config)
    mdl.validate()
    cfg = {**cfg, "model_config": asdict(mdl.config), "phases": [asdict(p) for p in mdl.phases()],
           "budget_caps": {k: {"default": old, "raised_to": new} for k, (old, new) in raised.items()}}
    write_json_atomic(run.dir / "config.json", cfg)
    return cfg


def _cut_by_budget(model, last: Event | None, budget: float | None, seconds: float, follows: bool) -> bool:
    """Did the time limit end training before its last epoch (rather than the epochs running out)?
    When the caps follow the limit (``follows``), only a limit reached before the last phase is a cut."""
    if budget is None or seconds <= budget or last is None:
        return False
    final = [p.name for p in model.phases() if p.max_epochs > 0][-1:]
    return (last.epoch < last.epochs and not follows) or [last.phase] != final


class StopRequested(BaseException):
    """Raised in the training process by SIGTERM (``corgan runs stop``, the dashboard's Stop)."""


def _on_sigterm(signum, frame):
    raise StopRequested()


def _lock(run: Run):
    """An exclusive lock on the run folder: two processes never train one run at once."""
    fh = open(run.dir / "run.lock", "w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise RunError(f"Run {run.id} is already being trained by another process.") from None
    return fh


def execute(run: Run, on_event: Callable[[Event], None] | None = None) -> dict:
    """Train a ``queued`` run in this process (resuming from its checkpoint if there is one).

    SIGTERM stops it cleanly (status ``stopped``; the last checkpoint stays for a resume). A run
    that was stopped before this process got to it is left as it is.
    """
    import torch

    from ..models import make_model

    cfg = run.config()
    settings = run.settings()
    lock = _lock(run)
    for stale in run.dir.glob(".*.tmp*"):  # temp files of a process killed mid-write
        stale.unlink(missing_ok=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    con = None
    try:
        if not run.set_status("running", pid=os.getpid(), pid_start=process.start_time(os.getpid()),
                              error=None, started=time.time()):
            return run.status()  # stopped (or otherwise ended) before training began
        con = run.metrics_db()
        if not run.checkpoint_path().exists():
            cfg = _raise_caps(run, cfg, settings)
        ds = run.dataset()
        sp_ = run.split()
        train_rows, holdout_rows = ds.X[sp_.train], ds.X[sp_.holdout]
        model = make_model(cfg["model"], cfg["model_config"])
        model.meta_ = {"codes": list(ds.codes), "kind": ds.kind, "split_seed": sp_.seed,
                       "run_id": run.id, "titles": {c: ds.titles[c] for c in ds.codes if c in ds.titles},
                       "label": run.label_name(ds)}  # the models condition on this column
        sampling = {p.name: p.samples for p in model.phases()}
        resume = None
        if run.checkpoint_path().exists():
            resume = torch.load(run.checkpoint_path(), map_location="cpu", weights_only=True)
        # rows of epochs the checkpoint lacks are trained again (all of them when a kill came before the first)
        _forget_after(con, model, (resume or {}).get("progress") or {})
        # training time of earlier attempts, so "elapsed" and the time limit span resumes
        before = float(((resume or {}).get("progress") or {}).get("elapsed_s", 0.0))
        run.update_status(expect=("running",), elapsed_before=before, started=time.time())
        budget = settings.time_budget_s or None
        started, quality_spent, pending, last = time.perf_counter(), 0.0, None, None
        for e in train(model, train_rows, kind=ds.kind, seed=settings.seed, device=settings.device,
                       checkpoint_path=run.checkpoint_path(), resume=resume, time_budget_s=budget,
                       checkpoint_interval_s=settings.checkpoint_interval_s):
            if e.type == "epoch_end":
                last = e
                _record_epoch(con, e)
                run.update_status(expect=("running",), phase=e.phase, epoch=e.epoch, epochs=e.epochs,
                                  last_losses=e.losses)
            elif e.type == "checkpoint" and sampling.get(e.phase, True):
                pending = e
                if quality_spent <= QUALITY_SHARE * (time.perf_counter() - started):
                    t0 = time.perf_counter()
                    _record_quality(con, run, model, train_rows, holdout_rows, ds.kind, e, settings.seed)
                    quality_spent += time.perf_counter() - t0
                    pending = None
            elif e.type == "finished":
                if pending is not None:  # the final model is always measured
                    _record_quality(con, run, model, train_rows, holdout_rows, ds.kind, pending, settings.seed)
                model.save(run.model_path())
                run.record_members(sp_.train[np.asarray(getattr(model, "trained_rows_", np.arange(len(sp_.train))))])
                run.update_status(expect=("running",), training_s=e.seconds,
                                  time_limited=_cut_by_budget(model, last, budget, e.seconds,
                                                              bool(cfg.get("budget_caps"))))
            if on_event is not None:
                on_event(e)
        if settings.evaluate:
            _evaluate(run)
        run.set_status("finished", finished=time.time())
        return run.status()
    except (StopRequested, KeyboardInterrupt):
        run.set_status("stopped")
        return run.status()
    except CorganError as exc:
        run.set_status("failed", error=str(exc))
        raise
    except Exception as exc:
        run.set_status("failed", error=f"Training failed: {type(exc).__name__}: {exc}")
        raise
    finally:
        if con is not None:
            con.close()
        lock.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        execute(Run.open(argv[0]))
    except CorganError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
