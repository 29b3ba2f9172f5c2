"""The one contract every generative model follows.

A model is configured by a frozen dataclass (``Model.Config``) whose fields are all declared with
:func:`option` (help text, choices, minimum: the CLI and the dashboard build their options from it).
``fit`` runs the shared training engine (:mod:`corgan_core.training`); ``sample(n, seed)`` returns
exactly ``n`` rows of the data's kind; ``save``/``load`` round-trip through a checkpoint that
``torch.load(weights_only=True)`` reads.

API for the run layer and the dashboard (nothing outside ``models`` knows a phase's name):

- ``model.validate()``: raises :class:`~corgan_core.errors.ConfigError` (one sentence) for a bad
  config, before any data is read or any run folder exists. Every model has it.
- ``model.phases()`` -> list of :class:`Phase`: ``name`` (stored in metrics and checkpoints),
  ``label`` (what people read, e.g. "Autoencoder pretraining", "GAN training"), ``max_epochs``,
  ``samples`` (False while the samples mean nothing, e.g. while only an autoencoder is pretrained).
- ``model.restore(state, device)``: rebuild a trained model from a checkpoint's ``state``.
- ``model.trained_rows_``: after setup/fit, the indices (into the rows given to ``fit``) the model
  trained on; rows held back to stop pretraining early are not in it.

Engine hooks (subclasses): ``setup`` builds the networks for the training rows, ``phases`` names
the phases, ``train_epoch`` runs one epoch of one phase, ``get_state``/``set_state`` capture
everything needed to resume exactly, ``build`` makes the networks without data (for ``restore``).
Neural models share their scaffolding through :class:`corgan_core.models.neural.NeuralModel`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from ..atomic import atomic_torch_save
from ..errors import ConfigError, DataError
from ..training import train
from .transforms import Transform


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


def option(default, help_text: str, choices: tuple | None = None, minimum: float | None = None):
    """A config dataclass field that the CLI and the dashboard turn into an option (help, choices);
    ``minimum`` is the smallest value :meth:`GenerativeModel.validate` accepts."""
    meta: dict = {"help": help_text}
    if choices:
        meta["choices"] = tuple(choices)
    if minimum is not None:
        meta["minimum"] = minimum
    return dataclasses.field(default=default, metadata=meta)


def check_fields(config) -> None:
    """Refuse a config value outside its field's ``choices`` or below its ``minimum`` with one sentence."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{f.name} must be one of {', '.join(map(str, choices))}; got {value!r}.")
        low = f.metadata.get("minimum")
        if low is not None and value < low:
            raise ConfigError(f"{f.name} must be at least {low}; got {value!r}.")


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


def as_rows(X):
    """Training rows as float32, checked: CSR when they come sparse (they are never densified
    whole; :mod:`.rowstore` densifies one batch at a time), a dense array otherwise."""
    if hasattr(X, "X"):  # a Dataset
        X = X.X
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float32)
        values = X.data
    else:
        X = np.asarray(X).astype(np.float32, copy=False)
        values = X
    if X.ndim != 2:
        raise DataError(f"Training data must be a 2-D patient x code matrix; got shape {X.shape}.")
    if X.shape[0] < 2:
        raise DataError(f"Training needs at least 2 patients; the data has {X.shape[0]}.")
    if not np.isfinite(values).all():
        raise DataError("Training data contains NaN or infinite values.")
    return X


def as_dense(X) -> np.ndarray:
    """Training rows as float32 dense (for models that need the whole matrix, e.g. independent)."""
    X = as_rows(X)
    return X.toarray() if sp.issparse(X) else X


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
        check_fields(self.config)

    # ---- engine hooks (subclasses) ----------------------------------------------------------
    def setup(self, X: np.ndarray, kind: str, seed: int, device: str) -> None:
        raise NotImplementedError

    def build(self) -> None:
        """Make the networks for ``n_codes_`` columns of ``kind_`` data (no data read; neural models build
        their optimisers apart, on first use: :mod:`.optimizers`)."""

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def train_epoch(self, phase: str, epoch: int) -> EpochResult:
        raise NotImplementedError

    def get_state(self) -> dict:
        raise NotImplementedError

    def set_state(self, state: dict) -> None:
        raise NotImplementedError

    def _generate(self, n: int, generator: torch.Generator) -> np.ndarray:
        """Rows in the transform's space (probabilities for binary data), float32, on the CPU."""
        raise NotImplementedError

    def _generate_rows(self, n: int, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """``(rows in the transform's space, label column values or None)``."""
        return self._generate(n, generator), None

    def restore(self, state: dict, device: str = "cpu") -> None:
        """Rebuild a trained model from a checkpoint's ``state`` (for sampling; spends no privacy)."""
        self.kind_, self.n_codes_ = state["kind"], int(state["n_codes"])
        self.scaler_ = Transform.from_state(state["scaler"])
        self.device_ = resolve_device(device)
        self.build()
        self.set_state(state)

    # ---- public API ----------------------------------------------------------------------------
    def fit(self, X, kind: str | None = None, *, seed: int = 0, device: str = "auto", on_event=None):
        """Train on ``X`` (Dataset, dense or sparse matrix); ``on_event`` sees every engine event.

        A Dataset whose label is its last column (``Dataset.with_label_column()``) is learned with
        the label as a class the model conditions on (models with a ``conditional`` option)."""
        if kind is None:
            kind = getattr(X, "kind", "binary")
        if hasattr(X, "codes"):
            self.meta_.setdefault("codes", list(X.codes))
            name = getattr(X, "label_name", None)
            if name and list(X.codes)[-1] == name:
                self.meta_.setdefault("label", name)
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
        P, labels = self._generate_rows(n, gen)
        X = self.scaler_.inverse(P, getattr(self.config, "binary_output", "bernoulli"),
                                 np.random.default_rng(int(seed) + 1))
        if labels is None:
            return X
        j = int(self.label_["index"])
        return np.insert(X, j, labels.astype(np.float32), axis=1)

    def sample_sparse(self, n: int, seed: int = 0, chunk: int | None = None) -> sp.csr_matrix:
        """``sample(n, seed)`` as CSR, made ``chunk`` rows at a time, so that a million synthetic
        patients never exist as one dense matrix. For corGAN and the VAE, binary rows equal
        ``sample``'s for the same seed (the noise and the Bernoulli draws come from the same streams
        in the same order) when ``chunk`` is a multiple of the model's generation chunk (``CHUNK``,
        the default); medGAN's BatchNorm burn-in draws noise at every generation call, so its
        chunks are other (equally seeded) rows. Labelled tables go through ``sample``."""
        if not hasattr(self, "scaler_"):
            raise ConfigError(f"The {self.name} model is not trained yet; call fit first.")
        n = int(n)
        if n < 1:
            raise ConfigError(f"The number of samples must be at least 1; got {n}.")
        if getattr(self, "label_", None) is not None:
            return sp.csr_matrix(self.sample(n, seed))
        gen = torch.Generator().manual_seed(int(seed))
        rng = np.random.default_rng(int(seed) + 1)
        chunk = chunk or getattr(self, "CHUNK", 4096)
        parts = []
        for start in range(0, n, int(chunk)):
            P, _ = self._generate_rows(min(int(chunk), n - start), gen)
            parts.append(sp.csr_matrix(self.scaler_.inverse(P, getattr(self.config, "binary_output", "bernoulli"), rng)))
        return sp.vstack(parts, format="csr")

    def sparse_sample_is_sample(self) -> bool:
        """True when ``sample_sparse(n, seed)`` holds exactly ``sample(n, seed)``'s rows, so that a
        caller may take the sparse path (it never holds n dense rows at once)."""
        return False

    def checkpoint(self, progress: dict | None = None) -> dict:
        return {
            "format": 1, "model": self.name, "config": dataclasses.asdict(self.config),
            "state": self.get_state(), "progress": progress or {}, "meta": self.meta_,
        }

    def save(self, path: str | Path) -> Path:
        """Atomic write of the model (config + weights + vocabulary) to ``path``."""
        return atomic_torch_save(self.checkpoint({"finished": True}), path)

    @staticmethod
    def load(path: str | Path) -> "GenerativeModel":
        """Rebuild any registered model from a checkpoint written by ``save``/the engine."""
        from . import from_checkpoint

        return from_checkpoint(torch.load(path, map_location="cpu", weights_only=True))
