"""medGAN's training steps: autoencoder pretraining and the GAN epoch (mixed into :class:`~.medgan.MedGAN`).

Pretraining fits the linear autoencoder on real records (BCE for binary rows, squared error
otherwise), through Opacus-style per-record DP steps when the model is private, and stops on the
validation loss. A GAN epoch makes ``disc_steps`` discriminator steps on fresh batches per
generator step; the discriminator's fakes are made with the generator's BatchNorm in the mode
``d_step_bn`` names (medGAN used inference mode).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import EpochResult
from .draws import critic_view
from .medgan_nets import bernoulli_kl, gradient_penalty, record_disc_loss


class MedGANSteps:
    """The pieces and steps of a medGAN epoch; the networks, optimisers and data come from :class:`~.medgan.MedGAN`."""

    def _ae_loss(self, rows, ae=None):
        x = self.features(rows)
        raw = (ae or self.ae_)(x)
        if self.kind_ == "binary":
            return F.binary_cross_entropy_with_logits(raw, x, reduction="sum") / len(x)
        return F.mse_loss(self.activate(raw), x, reduction="sum") / len(x)

    def _g_path(self) -> dict:
        """The networks a sample goes through (the encoder never changes after pretraining)."""
        return {"generator": self.generator_, "ae": self.ae_}

    def _fake(self, rows, with_probs=False):
        z = torch.randn(len(rows), self.config.latent_dim, device=self.device_)
        p = self.activate(self.ae_.decode_raw(self.generator_(z, self.classes(rows))))
        out = critic_view(p, self.config.disc_input) if self.kind_ == "binary" else p
        out = self.with_class(out, rows)
        return (out, p) if with_probs else out

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
        # medGAN feeds bn_train=False for D steps: the fakes use the running statistics
        self.generator_.train(self.config.d_step_bn == "training")
        with torch.no_grad():
            fake = self._fake(real)
        self.generator_.train()
        if self.d_private_ is not None:
            return self.d_private_.step(self._private_loss_one, real, fake, torch.rand(len(real), device=self.device_))
        if len(real) == 0:
            return float("nan")
        if self.config.loss == "wgan-gp":
            loss = self.disc_(fake).mean() - self.disc_(real).mean()
            total = loss + self.config.gp_lambda * gradient_penalty(self.disc_, real, fake)
        else:
            loss = total = F.softplus(-self.disc_(real)).mean() + F.softplus(self.disc_(fake)).mean()
        self.opt_d_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d_.step()
        return loss.item()

    def _private_loss_one(self, params, r, f, t):
        return record_disc_loss(self.disc_, self.config.loss, self.config.gp_lambda, params, r, f, t)

    def _gen_step(self, real):
        for p in self.disc_.parameters():
            p.requires_grad_(False)
        # conditioned: the classes of random training rows (the training shares)
        rows = self.data_[torch.randint(len(self.data_), (self.bs_,), device=self.device_)] if self.n_classes_ \
            else self.data_[: self.bs_]
        fake, p = self._fake(rows, with_probs=True)
        logits = self.disc_(fake)
        # non-saturating -log D(G(z)) (medGAN), or the Wasserstein generator loss
        loss = -logits.mean() if self.config.loss == "wgan-gp" else F.softplus(-logits).mean()
        total = loss
        if self.freq_ is not None:  # keeps codes per patient on target (as in corGAN's default)
            total = loss + self.config.freq_matching * bernoulli_kl(self.freq_, p.mean(0))
        self.opt_g_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g_.step()
        for p in self.disc_.parameters():
            p.requires_grad_(True)
        if self.ema_ is not None:
            self.ema_.update(self._g_path(), self.g_iters_)
        self.g_iters_ += 1
        return loss.item()
