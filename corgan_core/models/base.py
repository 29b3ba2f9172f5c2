"""The one contract every generative model follows, and the output transforms they share.

A model is configured by a frozen dataclass (``Model.Config``); ``fit`` runs the shared training
engine (:mod:`corgan_core.training`); ``sample(n, seed)`` returns exactly ``n`` rows of the data's
kind; ``save``/``load`` round-trip through a checkpoint that ``torch.load(weights_only=True)``
reads. Engine hooks: ``setup`` builds the networks for the training rows, ``phases`` names the
training phases with their epoch caps, ``train_epoch`` runs one epoch of one phase, and
``get_state``/``set_state`` capture everything needed to resume exactly.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from ..errors import ConfigError, DataError


@dataclass(frozen=True)
class Phase:
    """One training phase. ``label`` is what people read (the runner and the dashboard show it);
    ``samples`` says whether the model's samples mean anything during this phase (they do not while
    only an autoencoder is pretrained), so checkpoint quality is measured only where it is True."""

    name: str
    max_epochs: int
    label: str = ""
    samples: bool = True


@dataclass(frozen=True)
class EpochResult:
    losses: dict
    stop: bool = False  # the phase converged (early stopping) and should end now


def option(default, help_text: str, choices: tuple | None = None):
    """A config dataclass field that the CLI and the dashboard turn into an option (help, choices)."""
    meta = {"help": help_text}
    if choices:
        meta["choices"] = tuple(choices)
    return dataclasses.field(default=default, metadata=meta)


def check_choices(config) -> None:
    """Refuse a config value outside its field's ``choices`` with one sentence."""
    for f in dataclasses.fields(config):
        choices = f.metadata.get("choices")
        if choices and getattr(config, f.name) not in choices:
            raise ConfigError(f"{f.name} must be one of {', '.join(map(str, choices))}; got {getattr(config, f.name)!r}.")


def resolve_device(device: str) -> torch.device:
    """``auto`` picks cuda, then mps, then cpu."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device not in ("cpu", "cuda", "mps") and not device.startswith("cuda:"):
        raise ConfigError(f"Unknown device {device!r}; use auto, cpu or cuda.")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("The cuda device was asked for but no CUDA GPU is available here; use --device cpu or auto.")
    return torch.device(device)


def config_from_dict(cls, values: dict | None):
    """Build a config dataclass from a dict, refusing unknown keys with one sentence."""
    values = dict(values or {})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"Unknown option(s) for {cls.__qualname__}: {', '.join(unknown)}.")
    return cls(**values)


class Scaler:
    """Maps data of each kind to [0, 1] for the networks and back to the data's own range."""

    def __init__(self, kind: str, low: np.ndarray | None = None, high: np.ndarray | None = None):
        self.kind, self.low, self.high = kind, low, high

    @classmethod
    def fit(cls, X: np.ndarray, kind: str) -> "Scaler":
        if kind == "binary":
            return cls(kind)
        low = np.zeros(X.shape[1], np.float32) if kind == "count" else X.min(axis=0).astype(np.float32)
        high = X.max(axis=0).astype(np.float32)
        return cls(kind, low, high)

    def transform(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "binary":
            return np.clip(X, 0.0, 1.0).astype(np.float32)
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        return ((X - self.low) / span).astype(np.float32)

    def inverse(self, P: np.ndarray, binary_output: str, rng: np.random.Generator) -> np.ndarray:
        """Probabilities/scaled values in [0, 1] -> rows of the data's kind."""
        if self.kind == "binary":
            if binary_output == "threshold":
                return (P >= 0.5).astype(np.float32)
            return (rng.random(P.shape, dtype=np.float32) < P).astype(np.float32)
        X = self.low + P * (self.high - self.low)
        if self.kind == "count":
            return np.maximum(np.rint(X), 0).astype(np.float32)
        return X.astype(np.float32)

    def state(self) -> dict:
        if self.kind == "binary":
            return {"kind": self.kind}
        return {"kind": self.kind, "low": torch.from_numpy(self.low), "high": torch.from_numpy(self.high)}

    @classmethod
    def from_state(cls, s: dict) -> "Scaler":
        if s["kind"] == "binary":
            return cls("binary")
        return cls(s["kind"], s["low"].numpy(), s["high"].numpy())


def as_dense(X) -> np.ndarray:
    """Training rows as float32 dense (the whole set lives on the device as one tensor)."""
    if hasattr(X, "X"):  # a Dataset
        X = X.X
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float32, copy=False)
    if X.ndim != 2:
        raise DataError(f"Training data must be a 2-D patient x code matrix; got shape {X.shape}.")
    if X.shape[0] < 2:
        raise DataError(f"Training needs at least 2 patients; the data has {X.shape[0]}.")
    if not np.isfinite(X).all():
        raise DataError("Training data contains NaN or infinite values.")
    return X


class GenerativeModel:
    """Base class; subclasses set ``name`` and ``Config`` and implement the engine hooks."""

    name = "base"
    Config: Any = None

    def __init__(self, config=None, **overrides):
        config = config if config is not None else self.Config()
        if isinstance(config, dict):
            config = config_from_dict(self.Config, config)
        self.config = dataclasses.replace(config, **overrides) if overrides else config
        self.meta_: dict = {}

    def validate(self) -> None:
        """Refuse a bad config with one sentence (ConfigError) before any work or run folder exists.

        Subclasses extend it (call ``super().validate()``); ``Run.create`` calls it for every model."""
        check_choices(self.config)

    # ---- engine hooks (subclasses) ----------------------------------------------------------
    def setup(self, X: np.ndarray, kind: str, seed: int, device: str) -> None:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def train_epoch(self, phase: str, epoch: int) -> EpochResult:
        raise NotImplementedError

    def get_state(self) -> dict:
        raise NotImplementedError

    def set_state(self, state: dict) -> None:
        raise NotImplementedError

    def _generate(self, n: int, generator: torch.Generator) -> np.ndarray:
        """Rows in [0, 1] space (probabilities for binary data), float32, on the CPU."""
        raise NotImplementedError

    # ---- public API ----------------------------------------------------------------------------
    def fit(self, X, kind: str | None = None, *, seed: int = 0, device: str = "auto", on_event=None):
        """Train on ``X`` (Dataset, dense or sparse matrix); ``on_event`` sees every engine event."""
        from ..training import train

        if kind is None:
            kind = getattr(X, "kind", "binary")
        if hasattr(X, "codes"):
            self.meta_.setdefault("codes", list(X.codes))
        for event in train(self, X, kind=kind, seed=seed, device=device):
            if on_event is not None:
                on_event(event)
        return self

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Exactly ``n`` synthetic rows (float32) of the training data's kind."""
        if not hasattr(self, "scaler_"):
            raise ConfigError(f"The {self.name} model is not trained yet; call fit first.")
        n = int(n)
        if n < 1:
            raise ConfigError(f"The number of samples must be at least 1; got {n}.")
        gen = torch.Generator().manual_seed(int(seed))
        P = self._generate(n, gen)
        return self.scaler_.inverse(P, getattr(self.config, "binary_output", "bernoulli"),
                                    np.random.default_rng(int(seed) + 1))

    def checkpoint(self, progress: dict | None = None) -> dict:
        return {
            "format": 1, "model": self.name, "config": dataclasses.asdict(self.config),
            "state": self.get_state(), "progress": progress or {}, "meta": self.meta_,
        }

    def save(self, path: str | Path) -> Path:
        """Atomic write of the model (config + weights + vocabulary) to ``path``."""
        from ..training import atomic_torch_save

        return atomic_torch_save(self.checkpoint({"finished": True}), path)

    @staticmethod
    def load(path: str | Path) -> "GenerativeModel":
        """Rebuild any registered model from a checkpoint written by ``save``/the engine."""
        from . import from_checkpoint

        return from_checkpoint(torch.load(path, map_location="cpu", weights_only=True))
