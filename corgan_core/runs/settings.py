"""Run-level settings (shared by every model) and the quick-demo overrides. Imports no torch.

The pages read these defaults to fill their forms, so this module must stay light: anything that
needs torch (the device list) imports it inside the function.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..data import DEFAULT_HOLDOUT

# The quick demo: measured on the Diabetes demo (16,000 training patients), one pretraining epoch
# and 30 GAN epochs take about 90 s of two laptop cores; the time limit leaves room for the GAN.
QUICK_EPOCHS = {"epochs": 30, "pretrain_epochs": 3}  # 3 one-cycle epochs get the autoencoder most of the way
QUICK_TIME_BUDGET_S = 100.0
# With a time limit, a main-phase epoch cap left at its default is raised to this, so that the limit
# ends training: the defaults (e.g. corGAN's 40 epochs) end in under a minute on a small table such as
# Epileptic Seizure's 9,200 training rows, long before any budget a user would give.
BUDGET_EPOCH_CAP = 100_000


def runs_dir() -> Path:
    """Where runs live: ``$CORGAN_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("CORGAN_RUNS_DIR", "runs"))


def _opt(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class TrainSettings:
    """Run-level settings shared by every model (the model's own options live in its Config)."""

    seed: int = _opt(0, "Seed for the split, the model's initialisation, every batch and the samples.")
    device: str = _opt("auto", "auto (the GPU when there is one), cpu, cuda or cuda:N.")
    holdout: float = _opt(DEFAULT_HOLDOUT, "Share of patients held out of training, for evaluation (0 to below 1).")
    time_budget_s: float = _opt(0.0, "Wall-time limit of training in seconds (0 = none); spans resumes.")
    checkpoint_interval_s: float = _opt(2.0, "Least seconds between checkpoints (0 = after every epoch); the end "
                                             "of each phase always writes one. A killed run resumes from the last.")
    epochs_follow_budget: bool = _opt(True, "With a time limit, an epoch cap left at the model's default is raised "
                                            "so that the limit, not the cap, ends training (recorded in config.json).")
    label_in_model: bool = _opt(True, "A labelled table's label is learned as its last column (for TSTR).")
    evaluate: bool = _opt(True, "Compute the full evaluation report when training ends, so the Fidelity and "
                                "Privacy pages open at once.")


def quick_overrides(config_cls) -> dict:
    """Short epoch caps for a demo, for whichever of the model's fields exist."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {k: v for k, v in QUICK_EPOCHS.items() if k in names}


def budget_caps(model: str, preset: str, model_config: dict, settings: TrainSettings) -> dict:
    """The epoch caps to raise so that the time limit ends training: ``{option: (old, new)}``.

    Only the main phase's cap (``epochs``; pretraining stops on its own validation loss), only when
    the run has a time limit and the cap is still the preset's default (a cap the user chose, such as
    the quick demo's, is kept), and never under differential privacy (its epsilon is accounted for
    the planned epochs).
    """
    if not settings.time_budget_s or not settings.epochs_follow_budget or "epochs" not in model_config:
        return {}
    if model_config.get("dp_epsilon") or model_config.get("dp_noise_multiplier"):
        return {}
    from ..models import make_model  # torch: only when a run is about to train

    default = make_model(model, None, preset).config.epochs
    if model_config["epochs"] != default or default >= BUDGET_EPOCH_CAP:
        return {}
    return {"epochs": (int(default), BUDGET_EPOCH_CAP)}


def available_devices() -> list[tuple[str, str]]:
    """``(value, label)`` pairs: auto, then each CUDA GPU by name, then the CPU."""
    try:
        import torch

        gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
        names = [torch.cuda.get_device_name(i) for i in range(len(gpus))]
    except Exception:  # noqa: BLE001 - no GPU stack is just "CPU only"
        gpus, names = [], []
    out = [("auto", f"auto ({'GPU: ' + names[0] if names else 'CPU: no GPU found'})")]
    out += [(g, f"{g} ({n})") for g, n in zip(gpus, names)]
    out.append(("cpu", "cpu"))
    return out
