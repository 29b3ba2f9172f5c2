"""The run layer under torchrun: rank 0 makes and records the run, the other ranks follow it.

``corgan train`` and ``corgan runs resume --foreground`` call :func:`run_ranks` when torchrun
started them (:func:`corgan_core.distributed.launched`); the training itself is the engine's, made
distributed by :mod:`corgan_core.distributed`.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.distributed as dist

from ..distributed import init
from ..errors import CorganError
from ..models import make_model
from ..training import train
from .execute import execute
from .store import Run


def run_ranks(make_run: Callable, on_event=None, device: str = "auto") -> int:
    """The ``corgan train`` / ``runs resume --foreground`` body under torchrun: rank 0 makes the run
    (``make_run()`` creates or re-queues it) and trains it; the other ranks follow it."""
    ctx = init(device)
    try:
        box: list = [None]
        if ctx.rank == 0:
            try:
                box[0] = ("ok", str(make_run().dir))
            except CorganError as exc:
                box[0] = ("error", str(exc))
        dist.broadcast_object_list(box, src=0)
        status, value = box[0]
        if status == "error":
            raise CorganError(value)
        run = Run.open(value)
        if ctx.rank == 0:
            execute(run, on_event=on_event)
        else:
            follow(run)
        return 0
    finally:
        dist.destroy_process_group()


def follow(run) -> None:
    """A rank other than 0: train the run's shard in step with rank 0 and write nothing."""
    cfg, settings = run.config(), run.settings()
    ds, sp_ = run.dataset(), run.split()
    model = make_model(cfg["model"], cfg["model_config"])
    model.meta_ = {"codes": list(ds.codes), "kind": ds.kind, "label": run.label_name(ds)}  # as rank 0's
    resume = None
    if run.checkpoint_path().exists():
        resume = torch.load(run.checkpoint_path(), map_location="cpu", weights_only=True)
    for _ in train(model, ds.X[sp_.train], kind=ds.kind, seed=settings.seed, device=settings.device,
                   resume=resume, time_budget_s=settings.time_budget_s or None):
        pass
