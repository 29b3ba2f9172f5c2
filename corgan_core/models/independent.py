"""Independent marginals: every code (column) is drawn on its own, so no correlations at all.

Binary data: each code is a Bernoulli draw with the code's training frequency. Count data: each
column is drawn from its empirical distribution of values (value -> share of rows). Continuous
data: each column is drawn from its empirical quantile function (up to ``quantiles`` points,
interpolated), so values stay within the training range. This is the floor every model must beat
on co-occurrence, and a privacy reference (it keeps no record, only per-column summaries).
It has no DP option: the per-column summaries are exact (disclosed in ``meta_["privacy"]``), or, for
binary data with ``marginals=noisy``, Laplace-noised counts (:mod:`.marginals`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError
from . import marginals as marg
from .base import EpochResult, GenerativeModel, Phase, as_dense, option
from .transforms import Transform


@dataclass(frozen=True)
class IndependentConfig:
    """Independent-marginals settings; every field is a CLI option."""

    quantiles: int = option(1001, "Continuous data: points of each column's empirical quantile function kept.", minimum=2)
    marginals: str = option("exact", marg.HELP_MARGINALS, marg.MARGINALS)
    marginals_epsilon: float = option(1.0, marg.HELP_EPSILON)


class Independent(GenerativeModel):
    """Per-code Bernoulli / per-column empirical marginals (no correlations)."""

    name = "independent"
    Config = IndependentConfig

    def validate(self):
        super().validate()
        marg.check(self.config)

    def setup(self, X, kind, seed, device):
        self.validate()
        X = as_dense(X)
        if self.config.marginals == "noisy" and kind != "binary":
            raise ConfigError(f"marginals=noisy is offered for binary data only; this data is {kind}.")
        self.seed_ = int(seed)
        self.kind_, self.n_codes_ = kind, X.shape[1]
        self.scaler_ = Transform.fit(X, kind, "minmax")
        self.trained_rows_ = np.arange(len(X))
        self.X_ = X  # only until the one "fit" epoch has summarised it
        self.stats_: dict = {}
        reads = ["the per-code frequencies it samples from" if kind == "binary" else "each column's value distribution"]
        self.meta_["privacy"] = {"dp": False, "note": "No DP: per-column marginals of the training rows.",
                                 **marg.disclosure(self.config, reads)}

    def phases(self):
        return [Phase("fit", 1, "Fitting")]

    def train_epoch(self, phase, epoch):
        S = self.scaler_.transform(self.X_)
        if self.kind_ == "binary":
            p = marg.noisy_frequencies(S, self.config.marginals_epsilon, self.seed_) if self.config.marginals == "noisy" else S.mean(0)
            self.stats_ = {"p": torch.from_numpy(p.astype(np.float32))}
        elif self.kind_ == "count":
            values, probs = [], []
            for j in range(S.shape[1]):
                v, cnt = np.unique(S[:, j], return_counts=True)
                values.append(torch.from_numpy(v.astype(np.float32)))
                probs.append(torch.from_numpy((cnt / cnt.sum()).astype(np.float64)))
            self.stats_ = {"values": values, "probs": probs}
        else:
            q = np.linspace(0, 1, min(self.config.quantiles, len(S)))
            self.stats_ = {"quantiles": torch.from_numpy(np.quantile(S, q, axis=0).astype(np.float32))}
        del self.X_
        losses = {"codes": float(self.n_codes_)}
        if self.config.marginals == "noisy":
            losses["marginals_epsilon"] = float(self.config.marginals_epsilon)
        return EpochResult(losses)

    def get_state(self):
        return {"kind": self.kind_, "n_codes": self.n_codes_, "scaler": self.scaler_.state(), "stats": self.stats_}

    def set_state(self, state):
        self.stats_ = state["stats"]

    def _generate(self, n, generator):
        if not self.stats_:
            raise ConfigError("The independent model has not finished fitting; train it for its one epoch first.")
        if self.kind_ == "binary":
            return np.broadcast_to(self.stats_["p"].numpy(), (n, self.n_codes_)).astype(np.float32)
        u = torch.rand(n, self.n_codes_, generator=generator, dtype=torch.float64).numpy()
        out = np.empty((n, self.n_codes_), np.float32)
        if self.kind_ == "count":
            for j in range(self.n_codes_):
                cdf = np.cumsum(self.stats_["probs"][j].numpy())
                idx = np.minimum(np.searchsorted(cdf, u[:, j], side="right"), len(cdf) - 1)
                out[:, j] = self.stats_["values"][j].numpy()[idx]
            return out
        Q = self.stats_["quantiles"].numpy()
        grid = np.linspace(0, 1, len(Q))
        for j in range(self.n_codes_):
            out[:, j] = np.interp(u[:, j], grid, Q[:, j])
        return out
