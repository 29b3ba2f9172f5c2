"""The model-agnostic training engine: runs a model's phases epoch by epoch and yields events.

Consumers (the CLI's progress bar, the run process that feeds the dashboard, tests) only read
events; nothing here prints. Every epoch starts from a seed derived from (seed, phase, epoch), and
checkpoints hold the model's full state plus the position, so a run resumed from its last checkpoint
continues exactly as if it had never stopped. It imports nothing from ``models`` (the models call
it from ``fit``), so the two never import each other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from . import distributed
from .atomic import atomic_torch_save


@dataclass(frozen=True)
class Event:
    """One thing that happened in training.

    ``type`` is one of ``phase_start``, ``epoch_end``, ``checkpoint``, ``finished``, ``failed``.
    """

    type: str
    phase: str = ""
    epoch: int = 0          # 1-based epoch within the phase (epoch_end, checkpoint)
    epochs: int = 0         # the phase's epoch cap
    losses: dict = field(default_factory=dict)
    seconds: float = 0.0    # wall time of this epoch (epoch_end) or of the whole run (finished)
    path: str | None = None
    error: str | None = None


def epoch_seed(seed: int, phase_index: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + phase_index * 10_007 + epoch) % (2**31 - 1)


def train(model, X, *, kind: str = "binary", seed: int = 0, device: str = "auto",
          checkpoint_path: str | Path | None = None, resume: dict | None = None,
          time_budget_s: float | None = None, checkpoint_interval_s: float = 0.0) -> Iterator[Event]:
    """Train ``model`` (a :class:`~corgan_core.models.base.GenerativeModel`) on the rows of ``X``
    (dense or sparse; the model's ``setup`` checks and converts them), yielding :class:`Event` objects.

    ``checkpoint_path`` gets an atomic checkpoint after every epoch; ``resume`` is a checkpoint dict
    (from ``torch.load(..., weights_only=True)``) to continue from. ``time_budget_s`` ends training
    cleanly (as finished) after that much wall time. ``checkpoint_interval_s`` skips checkpoints
    until that many seconds have passed since the last one (the end of each phase always writes one).

    Under torchrun (:mod:`corgan_core.distributed`) every rank runs this loop on its shard of the
    rows: epoch seeds come from (seed, rank), losses are averaged over the ranks, and stopping
    early or on time is rank 0's decision; only the caller on rank 0 should pass ``checkpoint_path``.
    """
    start = time.perf_counter()
    last_ckpt = start
    try:
        distributed.check_model(model)
        distributed.share_config(model)
        model.setup(X, kind, seed, device)
        progress = {"phase_index": 0, "epoch": 0}
        if resume is not None:
            model.set_state(resume["state"])
            progress = dict(resume.get("progress") or progress)
            start -= float(progress.get("elapsed_s", 0.0))  # a time budget spans the resumes
        distributed.wrap(model)
        phases = model.phases()
        for pi in range(int(progress["phase_index"]), len(phases)):
            phase = phases[pi]
            first = int(progress["epoch"]) if pi == int(progress["phase_index"]) else 0
            if first >= phase.max_epochs:
                continue
            yield Event("phase_start", phase.name, first, phase.max_epochs)
            for epoch in range(first, phase.max_epochs):
                torch.manual_seed(distributed.rank_seed(epoch_seed(seed, pi, epoch)))
                t0 = time.perf_counter()
                result = model.train_epoch(phase.name, epoch)
                yield Event("epoch_end", phase.name, epoch + 1, phase.max_epochs,
                            distributed.mean_losses(dict(result.losses)), time.perf_counter() - t0)
                over_time = distributed.agree(time_budget_s is not None and time.perf_counter() - start > time_budget_s)
                done_phase = distributed.agree(result.stop) or epoch + 1 == phase.max_epochs
                if done_phase:  # early stopping may have put back a best state: all ranks take rank 0's
                    distributed.sync_state(model)
                nxt = {"phase_index": pi + 1, "epoch": 0} if done_phase else {"phase_index": pi, "epoch": epoch + 1}
                nxt["elapsed_s"] = time.perf_counter() - start
                due = done_phase or over_time or time.perf_counter() - last_ckpt >= checkpoint_interval_s
                if checkpoint_path is not None and due:
                    last_ckpt = time.perf_counter()
                    atomic_torch_save(model.checkpoint(nxt), checkpoint_path)
                    yield Event("checkpoint", phase.name, epoch + 1, phase.max_epochs, path=str(checkpoint_path))
                if over_time:
                    yield Event("finished", seconds=time.perf_counter() - start)
                    return
                if done_phase:
                    break
        yield Event("finished", seconds=time.perf_counter() - start)
    except Exception as exc:  # the consumer decides how to show it; the error is re-raised
        yield Event("failed", error=str(exc) or type(exc).__name__, seconds=time.perf_counter() - start)
        raise

