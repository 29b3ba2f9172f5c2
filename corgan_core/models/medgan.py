"""medGAN (Choi et al. 2017), as in the original TensorFlow code (GitHub mp2893/medgan).

A linear autoencoder (n_codes -> 128 tanh -> n_codes; sigmoid output for binary/continuous data,
ReLU for counts) is pretrained, then a generator of 3 residual layers of 128 (BatchNorm, ReLU, the
last tanh) on z in R^128 feeds the decoder, which is fine-tuned with it. The discriminator
(minibatch averaging: it sees each record next to the batch mean) is n -> 256 -> 128 -> 1 with a
sigmoid, trained with BCE, 2 steps per generator step; the generator's loss is non-saturating;
L2 0.001 on every network (Adam weight decay). Count data come out as non-negative integer counts
(the original returned values in [0, 1]); binary records are Bernoulli draws by default (set
binary_output=threshold for the original rounding at 0.5).

Differential privacy (``dp_epsilon`` or ``dp_noise_multiplier``): DP-SGD on the parts that read real
records, the autoencoder pretraining and the discriminator, with one Opacus accountant. The
generator and the decoder's fine-tuning only see the discriminator, so they are post-processing.
With DP on, minibatch averaging is refused (it mixes records), pretraining runs its fixed number of
epochs (no validation rows), and the output bias starts from a data-independent prior. Not
covered: the data's shape and, for count/continuous data, each column's range (treated as public).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import dp
from .base import EpochResult, Phase, option
from .corgan_nets import ClassEmbedding
from .neural import NeuralModel, NeuralOptions, straight_through

DP_COVERS = ("the autoencoder pretraining and the discriminator (the generator and the decoder's "
             "fine-tuning only see the discriminator, so they are post-processing)")
_DP = dp.dp_fields(DP_COVERS)


@dataclass(frozen=True)
class MedGANConfig(NeuralOptions):
    """medGAN settings (defaults as in the original code); every field is a CLI option."""

    epochs: int = option(1000, "GAN epochs (cap; one epoch = n / batch_size generator steps).", minimum=0)
    pretrain_epochs: int = option(100, "Autoencoder pretraining epochs (cap; stops once the validation loss stops improving).", minimum=0)
    pretrain_patience: int = option(5, "Stop pretraining after this many epochs without validation improvement (0 = never stop early).")
    val_fraction: float = option(0.1, "Share of training rows held back to stop autoencoder pretraining.")
    batch_size: int = option(1000, "GAN rows per batch (capped at the number of training rows).", minimum=2)
    ae_batch_size: int = option(100, "Autoencoder pretraining rows per batch.", minimum=2)
    latent_dim: int = option(128, "Size of the noise vector, the generator's layers and the autoencoder's code.", minimum=1)
    disc_steps: int = option(2, "Discriminator steps per generator step.", minimum=1)
    lr: float = option(1e-3, "Adam learning rate (all networks).")
    l2: float = option(1e-3, "L2 regularisation (Adam weight decay) of every network.")
    minibatch_averaging: bool = option(True, "The discriminator sees each record next to the batch mean (as in medGAN).")
    disc_input: str = option("soft", "What the discriminator sees of a fake binary record: the decoder's soft probabilities (as in medGAN) or straight-through Bernoulli draws.", ("soft", "straight-through"))
    binary_output: str = option("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5 (as in medGAN).", ("bernoulli", "threshold"))
    output_bias: str = option("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero (as in medGAN).", ("frequency", "zero"))
    dp_epsilon: float = option(0.0, _DP["dp_epsilon"])
    dp_noise_multiplier: float = option(0.0, _DP["dp_noise_multiplier"])
    dp_max_grad_norm: float = option(1.0, _DP["dp_max_grad_norm"])
    dp_delta: float = option(0.0, _DP["dp_delta"])
    dp_accountant: str = option("rdp", _DP["dp_accountant"], dp.ACCOUNTANTS)


class MedGANGenerator(nn.Module):
    """3 residual layers of ``dim``: BatchNorm (decay 0.99), ReLU, the last tanh."""

    def __init__(self, dim: int = 128, layers: int = 3, n_classes: int = 0):
        super().__init__()
        self.cond = ClassEmbedding(n_classes, dim)
        self.linears = nn.ModuleList(nn.Linear(dim, dim, bias=False) for _ in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(dim, eps=1e-3, momentum=0.01) for _ in range(layers))

    def forward(self, z, y=None):
        h = self.cond(z, y)
        for i, (lin, bn) in enumerate(zip(self.linears, self.norms)):
            act = torch.tanh if i == len(self.linears) - 1 else torch.relu
            h = act(bn(lin(h))) + h
        return h


class MedGANDiscriminator(nn.Module):
    def __init__(self, n_codes: int, minibatch_averaging: bool = True, n_cond: int = 0):
        super().__init__()
        self.mba = minibatch_averaging
        n_in = n_codes + n_cond  # the last n_cond columns: the row's one-hot class
        self.net = nn.Sequential(nn.Linear(2 * n_in if minibatch_averaging else n_in, 256), nn.ReLU(),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1))

    def forward(self, x):  # logits (the sigmoid is in the BCE)
        if self.mba:
            x = torch.cat([x, x.mean(0, keepdim=True).expand_as(x)], dim=1)
        return self.net(x).squeeze(1)


class MedGANAutoencoder(nn.Module):
    def __init__(self, n_codes: int, dim: int = 128):
        super().__init__()
        self.enc, self.dec = nn.Linear(n_codes, dim), nn.Linear(dim, n_codes)

    def encode(self, x):
        return torch.tanh(self.enc(x))

    def decode_raw(self, h):  # pre-activation
        return self.dec(h)

    def forward(self, x):
        return self.decode_raw(self.encode(x))


class MedGAN(NeuralModel):
    """medGAN baseline (spec: "Baselines")."""

    name = "medgan"
    Config = MedGANConfig
    DP_COVERS = DP_COVERS

    def build(self):
        c = self.config
        self.ae_ = MedGANAutoencoder(self.n_codes_, c.latent_dim).to(self.device_)
        self.generator_ = MedGANGenerator(c.latent_dim, n_classes=self.n_classes_).to(self.device_)
        self.disc_ = MedGANDiscriminator(self.n_codes_, c.minibatch_averaging, self.n_classes_).to(self.device_)
        self.opt_ae_ = torch.optim.Adam(self.ae_.parameters(), lr=c.lr, weight_decay=c.l2)
        self.opt_g_ = torch.optim.Adam(list(self.generator_.parameters()) + list(self.ae_.dec.parameters()),
                                       lr=c.lr, weight_decay=c.l2)
        self.opt_d_ = torch.optim.Adam(self.disc_.parameters(), lr=c.lr, weight_decay=c.l2)
        self.ae_private_ = self.d_private_ = None

    def output_bias_param(self):
        return None if self.kind_ == "count" else self.ae_.dec.bias

    def dp_plan(self, n):
        c = self.config
        self.bs_, self.ae_bs_ = min(c.batch_size, n), min(c.ae_batch_size, n)
        d_steps = dp.planned_steps(c.epochs, n, self.bs_) * c.disc_steps
        return [(self.ae_bs_, dp.planned_steps(c.pretrain_epochs, n, self.ae_bs_)), (self.bs_, d_steps)]

    def make_private(self):
        self.ae_private_ = dp.PrivateUpdate(self.ae_, self.opt_ae_, self.budget_, self.ae_bs_)
        self.d_private_ = dp.PrivateUpdate(self.disc_, self.opt_d_, self.budget_, self.bs_)

    def setup(self, X, kind, seed, device):
        super().setup(X, kind, seed, device)
        n, c = len(self.data_), self.config
        self.bs_, self.ae_bs_ = min(c.batch_size, n), min(c.ae_batch_size, n)

    def phases(self):
        return [Phase("pretrain", self.config.pretrain_epochs, "Autoencoder pretraining", samples=False),
                Phase("gan", self.config.epochs, "GAN training")]

    # ---- pieces ---------------------------------------------------------------------------------
    def activate(self, raw):
        """ReLU for counts (as in medGAN), otherwise the shared output (sigmoid or real values)."""
        return torch.relu(raw) if self.kind_ == "count" else super().activate(raw)

    def _ae_loss(self, rows, ae=None):
        x = self.features(rows)
        raw = (ae or self.ae_)(x)
        if self.kind_ == "binary":
            return F.binary_cross_entropy_with_logits(raw, x, reduction="sum") / len(x)
        return F.mse_loss(self.activate(raw), x, reduction="sum") / len(x)

    def _fake(self, rows):
        z = torch.randn(len(rows), self.config.latent_dim, device=self.device_)
        p = self.activate(self.ae_.decode_raw(self.generator_(z, self.classes(rows))))
        if self.kind_ == "binary" and self.config.disc_input == "straight-through":
            p = straight_through(p)
        return self.with_class(p, rows)

    def _batches(self, bs, private):
        n = len(self.data_)
        if private is not None:
            while True:
                yield self.data_[private.rows(self.device_)]
        while True:
            perm = torch.randperm(n, device=self.device_)
            for j in range(max(1, n // bs)):
                yield self.data_[perm[j * bs:(j + 1) * bs]]

    def run_epoch(self, phase, epoch):
        return self._pretrain_epoch() if phase == "pretrain" else self._gan_epoch()

    def _pretrain_epoch(self):
        from torch.func import functional_call

        self.ae_.train()
        n = len(self.data_)
        steps = self.budget_.steps_per_epoch(self.ae_bs_) if self.budget_ else max(1, n // self.ae_bs_)
        batches = self._batches(self.ae_bs_, self.ae_private_)
        total, count = 0.0, 0
        for _ in range(steps):
            x = next(batches)
            if self.ae_private_ is not None:
                loss = self.ae_private_.step(
                    lambda params, r: self._ae_loss(r.unsqueeze(0), lambda h: functional_call(self.ae_, params, (h,))), x)
            else:
                loss = self._ae_loss(x)
                self.opt_ae_.zero_grad(set_to_none=True)
                loss.backward()
                self.opt_ae_.step()
                loss = loss.item()
            if np.isfinite(loss):
                total, count = total + loss, count + 1
        losses = {"ae": total / max(count, 1)}
        if self.val_ is None:
            return EpochResult(losses)
        self.ae_.eval()
        with torch.no_grad():
            val = self._ae_loss(self.val_).item()
        return self.early_stop(losses, val, {"ae": self.ae_})

    def _gan_epoch(self):
        c = self.config
        self.generator_.train(), self.ae_.train(), self.disc_.train()
        n = len(self.data_)
        steps = self.budget_.steps_per_epoch(self.bs_) if self.budget_ else max(1, n // self.bs_)
        batches = self._batches(self.bs_, self.d_private_)
        d_losses, g_losses = [], []
        for _ in range(steps):
            real = None
            for _ in range(c.disc_steps):
                real = next(batches)
                d_losses.append(self._disc_step(real))
            g_losses.append(self._gen_step(real))
        d_losses = [d for d in d_losses if np.isfinite(d)]
        return EpochResult({"discriminator": float(np.mean(d_losses)) if d_losses else float("nan"),
                            "generator": float(np.mean(g_losses))})

    def _disc_step(self, real):
        with torch.no_grad():
            fake = self._fake(real)
        if self.d_private_ is not None:
            from torch.func import functional_call

            def loss_one(params, r, f):
                logits = functional_call(self.disc_, params, (torch.stack([r, f]),))
                return F.softplus(-logits[0]) + F.softplus(logits[1])  # -log D(real) - log(1 - D(fake))

            return self.d_private_.step(loss_one, real, fake)
        if len(real) == 0:
            return float("nan")
        loss = F.softplus(-self.disc_(real)).mean() + F.softplus(self.disc_(fake)).mean()
        self.opt_d_.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d_.step()
        return loss.item()

    def _gen_step(self, real):
        for p in self.disc_.parameters():
            p.requires_grad_(False)
        # conditioned: the classes of random training rows (the training shares)
        rows = self.data_[torch.randint(len(self.data_), (self.bs_,), device=self.device_)] if self.n_classes_ \
            else self.data_[: self.bs_]
        loss = F.softplus(-self.disc_(self._fake(rows))).mean()  # non-saturating: -log D(G(z))
        self.opt_g_.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g_.step()
        for p in self.disc_.parameters():
            p.requires_grad_(True)
        return loss.item()

    # ---- state and sampling ---------------------------------------------------------------------
    def model_state(self):
        return {"nets": {"ae": self.ae_.state_dict(), "generator": self.generator_.state_dict(),
                         "disc": self.disc_.state_dict()},
                "optims": {"ae": self.opt_ae_.state_dict(), "g": self.opt_g_.state_dict(), "d": self.opt_d_.state_dict()}}

    def load_model_state(self, state):
        self.ae_.load_state_dict(state["nets"]["ae"])
        self.generator_.load_state_dict(state["nets"]["generator"])
        self.disc_.load_state_dict(state["nets"]["disc"])
        for k, o in (("ae", self.opt_ae_), ("g", self.opt_g_), ("d", self.opt_d_)):
            if k in state.get("optims", {}):
                o.load_state_dict(state["optims"][k])

    def decode_noise(self, z, y):
        self.generator_.eval(), self.ae_.eval()
        out = self.activate(self.ae_.decode_raw(self.generator_(z, y)))
        return out if self.scaler_.real_valued else out.clamp(0, 1)
