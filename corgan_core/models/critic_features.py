"""Per-row spectral features for corGAN's critic on continuous, signal-like rows (issue 16).

A gradient-boosting discriminator told synthetic Epileptic Seizure rows from real ones on per-row
frequency features alone (log band powers: AUROC 0.988; roughness, the SD of first differences over
the row's SD: 0.948) about as well as on the raw columns, while the value distributions did not
separate. An MLP critic can in principle compute such features, but in practice did not learn them in
a 10-minute budget, so :class:`FeatureCritic` hands them to it: for every row the critic reads, it
appends the log mean power of the row's rFFT in ``bands`` bands and log statistics of its first
differences. They are computed inside the critic module, for real and fake rows alike, so the
generator's gradient and WGAN-GP's gradient penalty (taken on the critic's input) pass through them.
Binary and count data never use them (``gd_networks`` is given ``"none"`` there).

Measured (benchmarks/results/critic_features.json, 240 CPU-s, one thread): it did not help. The
discriminator AUROC went from 0.904 to 0.965 (TSTR and correlation MAD about unchanged), and a critic
step costs 1.6x; so the option is off by default.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError

CRITIC_FEATURES = ("none", "spectrum")
EPS = 1e-6  # keeps the logs and the roughness ratio finite for constant rows
POWER_FLOOR = 0.05  # log(power + floor): bounds the log's slope on near-empty bands (1 / 1e-6 made the
# critic's input-gradient, which WGAN-GP holds near 1, dominated by quiet bands; measured: worse at 1e-6)


def band_matrix(n_codes: int, bands: int) -> torch.Tensor:
    """(rfft bins, bands) averaging matrix: the DC bin alone, then log-spaced bands (the EEG rows'
    structure sits in the low frequencies; the high bins are mostly noise and share wide bands)."""
    n_bins = n_codes // 2 + 1
    edges = np.unique(np.round(np.geomspace(1, n_bins, max(bands, 2))).astype(int))
    edges = np.concatenate([[0], edges[edges < n_bins], [n_bins]])
    M = torch.zeros(n_bins, len(edges) - 1)
    for j, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        M[lo:hi, j] = 1.0 / (hi - lo)
    return M


class SpectrumFeatures(nn.Module):
    """Row (N, n_codes) -> (N, n_features): log band powers of the rFFT, log row SD, log SD and log
    mean absolute value of the first differences, and log roughness (difference SD / row SD).
    No parameters; differentiable twice (the gradient penalty differentiates the critic's gradient)."""

    def __init__(self, n_codes: int, bands: int = 24):
        super().__init__()
        if n_codes < 4:
            raise ConfigError(f"critic_features=spectrum needs rows of at least 4 columns; got {n_codes}.")
        self.register_buffer("bands", band_matrix(n_codes, bands), persistent=False)
        self.n_features = self.bands.shape[1] + 4

    def forward(self, x):
        power = torch.fft.rfft(x, dim=1, norm="ortho")
        power = power.real ** 2 + power.imag ** 2
        log_bands = torch.log(power @ self.bands + POWER_FLOOR)
        d = x[:, 1:] - x[:, :-1]
        sd = torch.sqrt(x.var(1, unbiased=False) + EPS)
        d_sd = torch.sqrt(d.var(1, unbiased=False) + EPS)
        stats = torch.stack([torch.log(sd), torch.log(d_sd), torch.log(d.abs().mean(1) + EPS),
                             torch.log(d_sd / sd)], 1)
        return torch.cat([log_bands, stats], 1)


class FeatureCritic(nn.Module):
    """``critic(concat(codes, features(codes), one-hot class))``: the inner critic is built with the
    features as extra conditioning columns (the conv critic feeds them to its MLP head, not its
    convolutions), so the class-conditioning contract holds: the last ``n_classes`` input columns are
    the one-hot class, and the features are computed on the code columns only."""

    def __init__(self, critic_cls, n_codes: int, minibatch_averaging: bool = False, n_classes: int = 0,
                 bands: int = 24, projection: int = 0):
        super().__init__()
        self.n_codes = n_codes
        self.features = SpectrumFeatures(n_codes, bands)
        self.critic = critic_cls(n_codes, minibatch_averaging, n_cond=self.features.n_features + n_classes,
                                 projection=projection)

    def forward(self, x):
        codes, cond = x[:, : self.n_codes], x[:, self.n_codes:]
        return self.critic(torch.cat([codes, self.features(codes), cond], 1))


def wrap_critic(kind: str, critic_cls, n_codes: int, minibatch_averaging: bool, n_classes: int, projection: int = 0):
    """The critic for ``critic_features`` = ``kind`` (one of ``CRITIC_FEATURES``)."""
    if kind not in CRITIC_FEATURES:
        raise ConfigError(f"critic_features must be one of {', '.join(CRITIC_FEATURES)}; got {kind!r}.")
    if kind == "none":
        return critic_cls(n_codes, minibatch_averaging, n_cond=n_classes, projection=projection)
    return FeatureCritic(critic_cls, n_codes, minibatch_averaging, n_classes, projection=projection)
