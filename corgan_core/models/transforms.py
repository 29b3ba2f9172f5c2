"""Per-column transforms between the data's own values and the space the networks work in.

Each transform is fitted on the training rows, stored in the model's checkpoint (plain tensors,
so ``torch.load(weights_only=True)`` reads it) and inverted on sampling:

- ``binary``: the values themselves (0/1); the networks output probabilities.
- ``minmax``: each column's [min, max] mapped to [0, 1] (counts start at 0); the networks output
  values in [0, 1] through a sigmoid. Counts come back rounded.
- ``standard``: each column minus its mean, divided by its standard deviation; the networks output
  real values (no sigmoid), so nothing is squashed.
- ``quantile``: each column through its empirical CDF (``knots`` points, piecewise linear) and then
  the standard normal quantile function, so skewed or heavy-tailed columns look Gaussian.

``inverse(transform(X))`` gives ``X`` back (to float precision) for every transform whose knots
are distinct; samples are clipped to the training range of each column, which is treated as public.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.special import ndtr, ndtri

from ..errors import ConfigError

CONTINUOUS = ("standard", "quantile", "minmax")


class Transform:
    """One fitted per-column transform (see the module docstring for ``method``)."""

    def __init__(self, kind: str, method: str, params: dict[str, np.ndarray]):
        self.kind, self.method, self.params = kind, method, params

    @property
    def real_valued(self) -> bool:
        """True when the networks should output unbounded real values (no sigmoid)."""
        return self.method in ("standard", "quantile")

    @classmethod
    def fit(cls, X: np.ndarray, kind: str, continuous: str = "standard", knots: int = 1001) -> "Transform":
        """Fit the transform for ``kind`` data; ``continuous`` picks the method for continuous data."""
        X = np.asarray(X, np.float64)
        low, high = X.min(axis=0), X.max(axis=0)
        if kind == "binary":
            return cls(kind, "binary", {})
        if kind == "count":
            return cls(kind, "minmax", {"low": np.zeros(X.shape[1]), "high": high})
        if continuous not in CONTINUOUS:
            raise ConfigError(f"continuous_transform must be one of {', '.join(CONTINUOUS)}; got {continuous!r}.")
        if continuous == "minmax":
            return cls(kind, "minmax", {"low": low, "high": high})
        if continuous == "standard":
            std = X.std(axis=0)
            return cls(kind, "standard", {"mean": X.mean(axis=0), "std": np.where(std > 0, std, 1.0),
                                          "low": low, "high": high})
        q = np.linspace(0.0, 1.0, max(2, min(knots, len(X))))
        return cls(kind, "quantile", {"knots": np.quantile(X, q, axis=0), "low": low, "high": high})

    # ---- forward and inverse ----------------------------------------------------------------------
    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float64)
        p = self.params
        if self.method == "binary":
            out = np.clip(X, 0.0, 1.0)
        elif self.method == "minmax":
            out = (X - p["low"]) / _span(p)
        elif self.method == "standard":
            out = (X - p["mean"]) / p["std"]
        else:
            out = np.empty_like(X)
            for j in range(X.shape[1]):
                out[:, j] = _cdf_to_normal(X[:, j], p["knots"][:, j])
        return out.astype(np.float32)

    def inverse(self, P: np.ndarray, binary_output: str, rng: np.random.Generator) -> np.ndarray:
        """Network outputs -> rows of the data's kind (binary: probabilities -> 0/1 draws)."""
        p = self.params
        if self.method == "binary":
            if binary_output == "threshold":
                return (P >= 0.5).astype(np.float32)
            return (rng.random(P.shape, dtype=np.float32) < P).astype(np.float32)
        P = np.asarray(P, np.float64)
        if self.method == "minmax":
            X = p["low"] + P * _span(p)
            if self.kind == "count":
                return np.maximum(np.rint(X), 0).astype(np.float32)
        elif self.method == "standard":
            X = p["mean"] + P * p["std"]
        else:
            X = np.empty_like(P)
            for j in range(P.shape[1]):
                X[:, j] = _normal_to_value(P[:, j], p["knots"][:, j])
        return np.clip(X, p["low"], p["high"]).astype(np.float32)

    # ---- checkpoint -------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"kind": self.kind, "method": self.method,
                **{k: torch.from_numpy(np.asarray(v, np.float64)) for k, v in self.params.items()}}

    @classmethod
    def from_state(cls, s: dict) -> "Transform":
        params = {k: v.numpy() for k, v in s.items() if k not in ("kind", "method")}
        if "method" not in s:  # checkpoints written before the transforms existed: [min, max] scaling
            return cls(s["kind"], "binary" if s["kind"] == "binary" else "minmax", params)
        return cls(s["kind"], s["method"], params)


def _span(p: dict) -> np.ndarray:
    return np.where(p["high"] > p["low"], p["high"] - p["low"], 1.0)


_EDGE = 1e-6  # CDF values kept inside (0, 1) so the normal quantile stays finite


def _grid(knots: np.ndarray) -> np.ndarray:
    return np.linspace(_EDGE, 1.0 - _EDGE, len(knots))


def _cdf_to_normal(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    return ndtri(np.interp(x, knots, _grid(knots)))


def _normal_to_value(z: np.ndarray, knots: np.ndarray) -> np.ndarray:
    return np.interp(ndtr(z), _grid(knots), knots)
