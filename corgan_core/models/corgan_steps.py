"""corGAN's training steps: autoencoder pretraining and the GAN epoch (mixed into :class:`~.corgan.CorGAN`).

Pretraining fits the 1-D convolutional autoencoder on real records with BCE (summed over codes,
averaged over the batch, computed as ``softplus(logits) - x . logits`` so no per-element loss is
kept), batches of ``ae_batch_size`` and, by default, a one-cycle learning-rate schedule over the
``pretrain_epochs`` cap (warm-up to ``lr_ae``, then cosine decay), so the autoencoder converges in
a few epochs; the learning rate is a function of the step index, so a resumed run continues the
same schedule. Each epoch is scored on a fixed subsample of the validation rows (the first
``VAL_ROWS``: the split is already a random permutation) and early stopping keeps the best weights.
Under DP there are no validation rows and the epochs are fixed (see :mod:`.corgan`).

The GAN epoch keeps every loss as a tensor and converts once per epoch (no host sync per step on
a GPU); real and fake rows go through the critic in one forward where the critic treats rows
independently (no minibatch averaging); weight clipping and the weight average use the ``foreach``
kernels (one call for all parameters).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import EpochResult
from .draws import critic_view

VAL_ROWS = 4096  # validation rows scored per pretraining epoch (enough for a steady loss, cheap)


def one_cycle(step: int, total: int, peak: float, warmup: float = 0.15) -> float:
    """Learning rate at ``step`` of ``total``: cosine warm-up from peak/25 to ``peak`` over the first
    ``warmup`` share, then cosine decay to peak/1e4 (PyTorch's OneCycleLR shape, stateless)."""
    f = min(1.0, step / max(1, total))
    low, end = peak / 25.0, peak / 1e4
    if f < warmup:
        return low + (peak - low) * (1 - math.cos(math.pi * f / warmup)) / 2
    g = (f - warmup) / (1 - warmup)
    return end + (peak - end) * (1 + math.cos(math.pi * g)) / 2


class CorGANSteps:
    """Pretraining and GAN steps; expects the attributes :class:`~.corgan.CorGAN` builds."""

    # ---- batches --------------------------------------------------------------------------------
    def _batches(self, bs=None, private=None):
        """Training batches of one epoch (by default the critic's: ``batch_size`` rows, its DP
        stream): Poisson under DP, with replacement for the released schedule, else a permutation
        cut into ``n // bs`` full batches."""
        if bs is None:
            bs, private = self.config.batch_size, self.critic_private_
        n = len(self.data_)
        if private is not None:  # DP: Poisson batches, 1/q per epoch
            for _ in range(self.budget_.steps_per_epoch(private.batch_size)):
                yield self.data_[private.rows(self.device_)]
            return
        bs = min(bs, n)
        if self.config.schedule == "released":
            for _ in range(max(1, n // bs)):
                yield self.data_[self._released_rows(n, bs)]
            return
        perm = torch.randperm(n, device=self.device_)
        for j in range(max(1, n // bs)):
            yield self.data_[perm[j * bs:(j + 1) * bs]]

    def _released_rows(self, n, bs):
        """One released-code batch: ``bs`` row indices drawn with replacement."""
        return torch.randint(n, (bs,), device=self.device_)

    def _ae_batch_size(self) -> int:
        return min(self.config.ae_batch_size, len(self.data_))

    # ---- autoencoder pretraining ----------------------------------------------------------------
    def _ae_loss(self, rows, encoder=None, decoder=None):
        encoder, decoder = encoder or self.encoder_, decoder or self.decoder_
        x = self.features(rows)
        logits = decoder(encoder(F.pad(x, (0, self.padded_ - self.n_codes_))))
        if self.kind_ == "binary":  # BCE with logits = softplus(l) - x*l, the x*l part as one dot product
            return (F.softplus(logits).sum() - torch.dot(x.reshape(-1), logits.reshape(-1))) / len(x)
        return F.mse_loss(self.activate(logits), x, reduction="sum") / len(x)

    def _ae_loss_one(self, params, x):
        """One record's autoencoder loss, for per-record gradients (DP)."""
        from torch.func import functional_call

        def enc(h):
            return functional_call(self.encoder_, _sub(params, "encoder."), (h,))

        def dec(h):
            return functional_call(self.decoder_, _sub(params, "decoder."), (h,))

        return self._ae_loss(x.unsqueeze(0), enc, dec)

    def _ae_steps_per_epoch(self) -> int:
        if self.ae_private_ is not None:
            return self.budget_.steps_per_epoch(self.ae_private_.batch_size)
        return max(1, len(self.data_) // self._ae_batch_size())

    def _pretrain_epoch(self, epoch):
        c = self.config
        self.encoder_.train(), self.decoder_.train()
        per_epoch = self._ae_steps_per_epoch()
        total_steps = per_epoch * max(1, c.pretrain_epochs)
        losses = []
        for j, x in enumerate(self._batches(self._ae_batch_size(), self.ae_private_)):
            if c.ae_schedule == "one-cycle":
                for group in self.opt_ae_.param_groups:
                    group["lr"] = one_cycle(epoch * per_epoch + j, total_steps, c.lr_ae)
            if self.ae_private_ is not None:
                losses.append(torch.tensor(self.ae_private_.step(self._ae_loss_one, x)))
                continue
            loss = self._ae_loss(x)
            self.opt_ae_.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_ae_.step()
            losses.append(loss.detach())
        result = {"ae": _mean(losses)}
        if self.val_ is None:
            return EpochResult(result)
        self.encoder_.eval(), self.decoder_.eval()
        with torch.no_grad():
            val = self._ae_loss(self.val_[:VAL_ROWS]).item()
        return self.early_stop(result, val, {"encoder": self.encoder_, "decoder": self.decoder_})

    # ---- GAN ------------------------------------------------------------------------------------
    def _fake(self, rows, with_probs=False, n=None):
        """Fake rows for the classes of ``rows`` (with their one-hot when conditioned); ``n`` rows
        when unconditioned and ``rows`` is None."""
        m = len(rows) if rows is not None else n
        z = torch.randn(m, self.noise_dim(), device=self.device_)
        p = self.activate(self._decode(self.generator_, self.decoder_, z, self.classes(rows) if rows is not None else None))
        out = critic_view(p, self.config.critic_input, self.config.critic_tau) if self.kind_ == "binary" else p
        if rows is not None:
            out = self.with_class(out, rows)
        return (out, p) if with_probs else out

    def output_noise_channels(self) -> int:
        """Channels of learned output noise the decoder gets: ``output_noise`` for real-valued
        continuous rows (standard or quantile transform), 0 for binary, count and min-max rows."""
        real_valued = self.kind_ == "continuous" and self.scaler_.real_valued
        return int(getattr(self.config, "output_noise", 0)) if real_valued else 0

    def _has_output_noise(self) -> bool:
        return getattr(self.decoder_, "noise", None) is not None

    def noise_dim(self) -> int:
        """The latent code's width, plus one noise value per column when the decoder adds output
        noise (real-valued continuous rows): drawn with the code, so a sampling seed fixes both."""
        return self.config.latent_dim + (self.n_codes_ if self._has_output_noise() else 0)

    def _decode(self, gen, dec, z, y):
        """Decoder output (pre-activation) for noise ``z`` (``noise_dim()`` wide) and classes ``y``."""
        if not self._has_output_noise():
            return dec(gen(z, y))
        latent = self.config.latent_dim
        return dec(gen(z[:, :latent], y), z[:, latent:])

    def _critic_schedule(self):
        c = self.config
        if c.critic_warmup_steps and (self.g_iters_ < 25 or self.g_iters_ % 500 == 0):
            return c.critic_warmup_steps
        return self._auto("critic_steps", c.critic_steps)

    def _gan_epoch(self):
        self.generator_.train(), self.decoder_.train(), self.critic_.train()
        d_losses, g_losses, gps = [], [], []
        self.freq_kl_ = []
        batches = self._batches()
        released = self.config.schedule == "released" and self.budget_ is None
        if released:
            # Released: one generator step per real batch, every critic step of it on that batch;
            # g_iters_ is kept in the checkpoint, so the warm-up rule counts across epochs.
            for real in batches:
                for _ in range(self._critic_schedule()):
                    d_losses.append(self._critic_step(real, gps))
                g_losses.append(self._generator_step())
        while not released:
            done_steps, real = 0, None
            for _ in range(self._critic_schedule()):
                real = next(batches, None)
                if real is None:
                    break
                d_losses.append(self._critic_step(real, gps))
                done_steps += 1
            if done_steps == 0:
                break
            g_losses.append(self._generator_step())
            if real is None:
                break
        losses = {"critic": _mean(d_losses), "generator": _mean(g_losses)}
        if gps:
            losses["gradient_penalty"] = _mean(gps)
        if self.freq_kl_:
            losses["freq_kl"] = _mean(self.freq_kl_)
        return EpochResult(losses)

    def _critic_step(self, real, gps):
        """One critic update on ``real``; returns the Wasserstein loss as a 0-d tensor (``gps`` gets
        the gradient penalty's)."""
        c = self.config
        with torch.no_grad():
            fake = self._fake(real)
        if self.critic_private_ is not None:
            return torch.tensor(self._private_critic_step(real, fake, gps))
        if c.minibatch_averaging:  # the batch mean mixes rows: real and fake need their own passes
            d_loss = self.critic_(fake).mean() - self.critic_(real).mean()
        else:  # rows are independent in the critic: one forward for both halves (the MLP critic
            # reads sparse real records through a sparse first layer)
            pair = getattr(self.critic_, "forward_pair", None) if self.kind_ != "continuous" else None
            out = pair(fake, real) if pair else self.critic_(torch.cat([fake, real]))
            d_loss = out[: len(fake)].mean() - out[len(fake):].mean()
        total = d_loss
        if c.loss == "wgan-gp":
            gp = self._gradient_penalty(real, fake)
            total = d_loss + c.gp_lambda * gp
            gps.append(gp.detach())
        self.opt_d_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d_.step()
        if c.loss == "wgan-clip":
            self._clip_critic()
        return d_loss.detach()

    @torch.no_grad()
    def _clip_critic(self):
        params = list(self.critic_.parameters())
        torch._foreach_clamp_min_(params, -self.config.clip)
        torch._foreach_clamp_max_(params, self.config.clip)

    def _private_critic_step(self, real, fake, gps):
        """DP-SGD critic step: each record's loss pairs it with one fake and one interpolate."""
        from torch.func import functional_call, grad

        c = self.config
        alpha = torch.rand(len(real), device=self.device_)

        def critic_one(params, x):
            return functional_call(self.critic_, params, (x.unsqueeze(0),)).squeeze(0)

        def loss_one(params, r, f, a):
            loss = critic_one(params, f) - critic_one(params, r)
            if c.loss == "wgan-gp":
                g = grad(critic_one, argnums=1)(params, a * r + (1 - a) * f)
                loss = loss + c.gp_lambda * (g.norm(2) - 1) ** 2
            return loss

        loss = self.critic_private_.step(loss_one, real, fake, alpha)
        if c.loss == "wgan-clip":
            self._clip_critic()
        return loss

    def _generator_step(self):
        self.critic_.requires_grad_(False)
        n = min(self.config.batch_size, len(self.data_))
        if self.n_classes_:  # classes drawn with the training shares
            fake, p = self._fake(self.data_[torch.randint(len(self.data_), (n,), device=self.device_)], with_probs=True)
        else:
            fake, p = self._fake(None, with_probs=True, n=n)
        g_loss = -self.critic_(fake).mean()
        total = g_loss
        if self.freq_ is not None:
            f, pbar = self.freq_, p.mean(0).clamp(1e-6, 1 - 1e-6)
            kl = (f * torch.log(f / pbar) + (1 - f) * torch.log((1 - f) / (1 - pbar))).sum()
            total = g_loss + self.config.freq_matching * kl
            self.freq_kl_.append(kl.detach())
        self.opt_g_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g_.step()
        self.critic_.requires_grad_(True)
        if self.ema_ is not None:
            self._update_ema()
        self.g_iters_ += 1
        return g_loss.detach()

    @torch.no_grad()
    def _update_ema(self):
        """Polyak averaging of the generator path (warm-up: the average starts at the weights the
        GAN phase starts from and its decay grows towards g_ema)."""
        t = self.g_iters_
        decay = 0.0 if t == 0 else min(self.config.g_ema, (1 + t) / (10 + t))
        for name, live in (("generator", self.generator_), ("decoder", self.decoder_)):
            avg = self.ema_[name]
            torch._foreach_lerp_(list(avg.parameters()), list(live.parameters()), 1.0 - decay)
            for ba, bl in zip(avg.buffers(), live.buffers()):
                ba.copy_(bl)

    def _gradient_penalty(self, real, fake):
        a = torch.rand(len(real), 1, device=self.device_)
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(self.critic_(x).sum(), x, create_graph=True)
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def _mean(values: list) -> float:
    """Mean of the finite 0-d tensors in ``values`` (one device), as a float (nan when none): one
    host sync per list."""
    if not values:
        return float("nan")
    t = torch.stack(values).float()
    t = t[torch.isfinite(t)]
    return float(t.mean()) if len(t) else float("nan")


def _sub(params: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
