"""Training on several processes (GPUs or CPU cores, one machine or many) launched by ``torchrun``.

``torchrun --nproc_per_node=N -m corgan_core.cli train ...`` starts N copies of the command; each
reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` from the environment that torchrun sets, joins one
process group (NCCL on GPUs, gloo on CPU) and then:

- **rows are sharded**: every rank takes an equal share of the training rows (:func:`shard_rows`;
  the remainder, fewer rows than there are ranks, is left out and recorded as not trained on);
  ``batch_size`` is per process, so the global batch is ``batch_size x N``;
- **gradients are averaged**: networks whose training code calls only their ``forward``, once per
  backward pass, are wrapped in :class:`torch.nn.parallel.DistributedDataParallel` (a model lists
  them in ``DDP_MODULES``; corGAN: encoder, decoder, generator). The others are averaged with
  ``torch.distributed.all_reduce`` just before their optimizer steps (an optimizer step pre-hook),
  the alternative the PyTorch distributed tutorial documents: DDP does not support
  ``torch.autograd.grad`` (its note on double backward), which the WGAN-GP critic needs for its
  gradient penalty, and a network used through methods other than ``forward`` (medGAN's
  autoencoder, whose decoder the generator step calls directly) would bypass DDP's hooks;
- **every rank is seeded from (seed, rank)** (rank 0 draws exactly what a single process draws);
- **one run is written, by rank 0** (:mod:`corgan_core.runs.ranks`): it creates (or re-queues) the
  run folder, records metrics, checkpoints and the model; the other ranks read the run's data, split
  and checkpoint and write nothing. Resuming is the same command (``runs resume RUN --foreground``
  under torchrun): every rank loads the last checkpoint.

Decisions that must be the same on every rank (stop early, time budget spent) are rank 0's, and the
model state is broadcast from rank 0 at the end of each phase, so ranks never drift apart. DP-SGD
under DDP is refused: Opacus' per-record clipping here runs inside one process's batch, and its
accountant would not see the other ranks' samples.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError


@dataclass(frozen=True)
class Context:
    """This process's place in the job (rank 0 of 1 when not launched by torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0


def launched() -> bool:
    """True when torchrun (or srun with the same variables) started several processes."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    """True inside an initialised multi-process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def context() -> Context:
    if not active():
        return Context()
    return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def init(device: str = "auto") -> Context:
    """Join the process group torchrun describes: NCCL when this rank trains on a GPU, gloo otherwise."""
    if not launched() or active():
        return context()
    gpu = device != "cpu" and torch.cuda.is_available()
    if gpu:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # "cuda" now means this rank's GPU
    dist.init_process_group("nccl" if gpu else "gloo")
    return context()


def check_model(model) -> None:
    """Refuse what cannot be trained across processes, before any data is touched."""
    cfg = getattr(model, "config", None)
    if active() and (getattr(cfg, "dp_epsilon", 0) > 0 or getattr(cfg, "dp_noise_multiplier", 0) > 0):
        raise ConfigError("DP-SGD is not supported with several training processes (its per-record clipping and "
                          "accounting see one process's batches only); train with one process or turn DP off.")


def share_config(model) -> None:
    """Every rank trains rank 0's config (the run layer may adjust it before training begins)."""
    if not active():
        return
    box = [model.config]
    dist.broadcast_object_list(box, src=0)
    model.config = box[0]


def rank_seed(seed: int) -> int:
    """This rank's seed from (seed, rank); rank 0 keeps ``seed`` itself."""
    rank = context().rank
    return int(seed) if rank == 0 else (int(seed) * 7_919 + rank * 104_729) % (2**31 - 1)


def shard_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows trained on by all ranks together, this rank's rows)``: equal shares, so every rank
    takes the same number of steps (a rank with one batch more would wait for the others forever)."""
    ctx = context()
    if ctx.world == 1:
        return rows, rows
    per = len(rows) // ctx.world
    if per < 1:
        raise ConfigError(f"{len(rows)} training rows cannot be shared among {ctx.world} processes; use fewer processes.")
    kept = rows[: per * ctx.world]
    return kept, kept[ctx.rank::ctx.world]


class SharedModule(nn.parallel.DistributedDataParallel):
    """DDP that stays out of the way where it has nothing to average: without gradients (sampling,
    validation) or with every parameter frozen (a critic during the generator step) it calls the
    network itself, so rank 0 may sample alone. State dicts and attributes are the network's own."""

    def forward(self, *args, **kwargs):
        if not torch.is_grad_enabled() or not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.module.load_state_dict(*args, **kwargs)


def _average_before_step(skip: set[int]):
    def hook(optimizer, args, kwargs):
        grads = [p.grad for g in optimizer.param_groups for p in g["params"]
                 if p.grad is not None and id(p) not in skip]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])  # one collective per step, not one per tensor
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
    return hook


def wrap(model) -> None:
    """Make ``model`` average its gradients across ranks (see the module docstring)."""
    if not active():
        return
    wrapped: set[int] = set()
    for name in getattr(model, "DDP_MODULES", ()):
        net = getattr(model, name, None)
        if isinstance(net, nn.Module) and any(p.requires_grad for p in net.parameters()):
            ids = None if next(net.parameters()).device.type == "cpu" else [torch.cuda.current_device()]
            setattr(model, name, SharedModule(net, device_ids=ids))
            wrapped |= {id(p) for p in net.parameters()}
    for value in list(vars(model).values()):
        if isinstance(value, torch.optim.Optimizer):
            value.register_step_pre_hook(_average_before_step(wrapped))


def modules(model) -> list[nn.Module]:
    return [v.module if isinstance(v, SharedModule) else v for v in vars(model).values() if isinstance(v, nn.Module)]


def sync_state(model) -> None:
    """Every rank takes rank 0's parameters and buffers (after early stopping put back a best state)."""
    if not active():
        return
    with torch.no_grad():
        for net in modules(model):
            for t in list(net.parameters()) + list(net.buffers()):
                dist.broadcast(t.data, src=0)


def agree(flag: bool) -> bool:
    """Rank 0's answer, on every rank."""
    if not active():
        return flag
    box = [bool(flag)]
    dist.broadcast_object_list(box, src=0)
    return bool(box[0])


def mean_losses(losses: dict) -> dict:
    """Epoch losses averaged over the ranks (each rank's losses are over its own shard)."""
    if not active() or not losses:
        return losses
    keys = sorted(losses)
    t = torch.tensor([float(losses[k]) for k in keys], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return {k: float(v) / dist.get_world_size() for k, v in zip(keys, t.cpu().tolist())}
