"""The VAE baseline: n_codes -> 256 -> 128-d latent (mu, log-variance) -> 256 -> n_codes, BCE + KL.

The decoder's output bias starts at the logit of each code's frequency (spec, "Measured here":
that reached co-occurrence R^2 0.97 on Diabetes 130-US within minutes); binary records are
Bernoulli draws from the decoder's probabilities. Count data are scaled to [0, 1] (per-column
range) and modelled with the same Bernoulli-likelihood BCE, which for a column of range ``m`` is the
Binomial(m, p) likelihood scaled by 1/m; a count sample is a Binomial(m, p) draw from the decoder's
probability (not its rounded mean, which turned every non-zero into 1). Continuous data are standardised
(or quantile-transformed) and modelled with a Gaussian likelihood (a learned standard deviation
per column); a sample is the decoder's mean plus that noise. For a labelled table the VAE is
conditional (the one-hot class joins the encoder's input and the decoder's code).

Differential privacy (``dp_epsilon`` or ``dp_noise_multiplier``): DP-SGD on the WHOLE VAE (every
step reads real records), accounted by Opacus. With DP on, the output bias starts from a
data-independent prior instead of the codes' frequencies. Not covered: the data's shape, and for
count/continuous data each column's range (min/max), which are treated as public.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import dp
from .base import EpochResult, Phase, option
from .neural import NeuralModel, NeuralOptions
from .optimizers import adam

DP_COVERS = "the whole VAE (encoder and decoder)"
_DP = dp.dp_fields(DP_COVERS)


@dataclass(frozen=True)
class VAEConfig(NeuralOptions):
    """VAE settings; every field is a CLI option and a dashboard form field."""

    epochs: int = option(300, "Training epochs (one epoch passes every training row once).", minimum=0)
    batch_size: int = option(512, "Rows per batch (capped at the number of training rows).", minimum=2)
    hidden: int = option(256, "Width of the encoder's and the decoder's hidden layer.", minimum=1)
    latent_dim: int = option(128, "Size of the latent code.", minimum=1)
    lr: float = option(1e-3, "Adam learning rate.")
    weight_decay: float = option(0.0, "Adam weight decay.")
    kl_weight: float = option(1.0, "Weight of the KL term (1 = the standard VAE bound).")
    output_bias: str = option("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero.", ("frequency", "zero"))
    binary_output: str = option("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5.", ("bernoulli", "threshold"))
    dp_epsilon: float = option(0.0, _DP["dp_epsilon"])
    dp_noise_multiplier: float = option(0.0, _DP["dp_noise_multiplier"])
    dp_max_grad_norm: float = option(1.0, _DP["dp_max_grad_norm"])
    dp_delta: float = option(0.0, _DP["dp_delta"])
    dp_accountant: str = option("rdp", _DP["dp_accountant"], dp.ACCOUNTANTS)


class VAENet(nn.Module):
    """Encoder [x, one-hot] -> (mu, log-variance); decoder [z, one-hot] -> the data's space.
    ``gaussian``: real-valued outputs with a learned per-column log standard deviation."""

    def __init__(self, n_codes: int, hidden: int, latent: int, n_cond: int = 0, gaussian: bool = False):
        super().__init__()
        self.n_codes, self.gaussian = n_codes, gaussian
        self.enc = nn.Linear(n_codes + n_cond, hidden)
        self.mu, self.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.dec1, self.dec2 = nn.Linear(latent + n_cond, hidden), nn.Linear(hidden, n_codes)
        self.log_std = nn.Parameter(torch.zeros(n_codes)) if gaussian else None

    def decode(self, z, cond):
        return self.dec2(torch.relu(self.dec1(torch.cat([z, cond], 1))))

    def loss(self, rows, eps, kl_weight: float = 1.0):
        """Mean over the batch of the reconstruction loss (summed over codes) + KL; ``rows`` are
        ``[x, one-hot]``, ``eps`` is the reparameterisation noise."""
        x, cond = rows[:, : self.n_codes], rows[:, self.n_codes:]
        h = torch.relu(self.enc(rows))
        mu, logvar = self.mu(h), self.logvar(h).clamp(-20, 20)
        z = mu + eps * torch.exp(0.5 * logvar)
        out = self.decode(z, cond)
        if self.gaussian:
            log_std = self.log_std.clamp(-7, 3)
            rec = (0.5 * ((x - out) / log_std.exp()) ** 2 + log_std).sum()
        else:
            rec = F.binary_cross_entropy_with_logits(out, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (rec + kl_weight * kl) / len(x)

    def forward(self, rows, eps, kl_weight: float = 1.0):
        return self.loss(rows, eps, kl_weight)


class VAE(NeuralModel):
    """Variational autoencoder baseline (spec: "Baselines")."""

    name = "vae"
    Config = VAEConfig
    DP_COVERS = DP_COVERS
    CHUNK = 8192
    DDP_MODULES = ("net_",)  # trained through forward() only, so DDP can average it (distributed.py)

    def build(self):
        c = self.config
        self.net_ = VAENet(self.n_codes_, c.hidden, c.latent_dim, self.n_classes_,
                           gaussian=self.scaler_.real_valued).to(self.device_)
        self.private_ = None

    def make_optimizers(self):
        return {"net": adam(self.net_.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)}

    def output_bias_param(self):
        return self.net_.dec2.bias

    def dp_plan(self, n):
        bs = min(self.config.batch_size, n)
        return [(bs, dp.planned_steps(self.config.epochs, n, bs))]

    def make_private(self):
        bs = min(self.config.batch_size, len(self.data_))
        self.private_ = dp.PrivateUpdate(self.net_, self.opt_net_, self.budget_, bs)

    def phases(self):
        return [Phase("train", self.config.epochs, "Training")]

    def _loss_one(self, params, x, eps):
        from torch.func import functional_call

        return functional_call(self.net_, params, (x.unsqueeze(0), eps.unsqueeze(0), self.config.kl_weight))

    def run_epoch(self, phase, epoch):
        c = self.config
        self.net_.train()
        n = len(self.data_)
        total, count = 0.0, 0
        if self.private_ is not None:
            for _ in range(self.budget_.steps_per_epoch(self.private_.batch_size)):
                x = self.data_[self.private_.rows(self.device_)]
                eps = torch.randn(len(x), c.latent_dim, device=self.device_)
                loss = self.private_.step(self._loss_one, x, eps)
                if np.isfinite(loss):
                    total, count = total + loss, count + 1
            return EpochResult({"loss": total / max(count, 1)})
        bs = min(c.batch_size, n)
        perm = torch.randperm(n, device=self.device_)
        for i in range(max(1, n // bs)):
            x = self.data_[perm[i * bs:(i + 1) * bs]]
            loss = self.net_(x, torch.randn(len(x), c.latent_dim, device=self.device_), c.kl_weight)  # forward = loss
            self.opt_net_.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_net_.step()
            total, count = total + loss.item(), count + 1
        return EpochResult({"loss": total / count})

    def model_state(self):
        return {"net": self.net_.state_dict()}

    def load_model_state(self, state):
        self.net_.load_state_dict(state["net"])

    def _generate_rows(self, n, generator):
        P, labels = super()._generate_rows(n, generator)
        if self.kind_ != "count":
            return P, labels
        trials = np.maximum(np.rint(self.scaler_.params["high"]), 0).astype(np.int64)
        rng = np.random.default_rng(int(torch.randint(2**31 - 1, (1,), generator=generator)))
        k = rng.binomial(trials, np.clip(P, 0.0, 1.0).astype(np.float64))
        # back to the transform's [0, 1] scale, which the inverse maps to the count k exactly
        return (k / np.maximum(trials, 1)).astype(np.float32), labels

    def noise_dim(self):
        return self.config.latent_dim + (self.n_codes_ if self.net_.gaussian else 0)

    def decode_noise(self, z, y):
        self.net_.eval()
        z, noise = z[:, : self.config.latent_dim], z[:, self.config.latent_dim:]
        cond = torch.zeros(len(z), self.n_classes_, device=z.device)
        if y is not None:
            cond[torch.arange(len(z)), y] = 1.0
        out = self.net_.decode(z, cond)
        if self.net_.gaussian:
            return out + noise * self.net_.log_std.clamp(-7, 3).exp()
        return torch.sigmoid(out)
