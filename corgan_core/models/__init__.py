"""Model registry: one explicit mapping from name to class; every entry follows base.GenerativeModel."""
from __future__ import annotations

from ..errors import ConfigError
from .base import GenerativeModel
from .corgan import PRESETS as CORGAN_PRESETS
from .corgan import CorGAN
from .independent import Independent
from .medgan import PRESETS as MEDGAN_PRESETS
from .medgan import MedGAN
from .vae import VAE

REGISTRY: dict[str, type[GenerativeModel]] = {
    "corgan": CorGAN,
    "medgan": MedGAN,
    "vae": VAE,
    "independent": Independent,
}
PRESETS: dict[str, dict[str, dict]] = {"corgan": CORGAN_PRESETS, "medgan": MEDGAN_PRESETS}


def get_model_class(name: str) -> type[GenerativeModel]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"Unknown model {name!r}; choose one of {', '.join(sorted(REGISTRY))}.") from None


def make_model(name: str, config: dict | None = None, preset: str = "default") -> GenerativeModel:
    """A model from its registry name, a named preset and explicit overrides (overrides win)."""
    cls = get_model_class(name)
    presets = PRESETS.get(name, {"default": {}})
    if preset not in presets:
        raise ConfigError(f"Unknown preset {preset!r} for {name}; choose one of {', '.join(presets)}.")
    values = {**presets[preset], **(config or {})}
    return cls(values)


def from_checkpoint(ckpt: dict) -> GenerativeModel:
    """Rebuild a trained model (weights, scaler, vocabulary) from a checkpoint dict."""
    model = get_model_class(ckpt["model"])(ckpt["config"])
    model.restore(ckpt["state"])
    model.meta_ = dict(ckpt.get("meta") or {})
    return model


__all__ = ["REGISTRY", "PRESETS", "GenerativeModel", "get_model_class", "make_model", "from_checkpoint"]
