"""corGAN (Torfi & Fox 2020): conv autoencoder + GAN whose generator output goes through the decoder.

``CorGANConfig()`` is the default that learns on real sparse records; ``PRESETS["released"]`` is
the released code's configuration, kept for comparison (spec, "Measured here"), with the released
schedule (``schedule="released"``): one generator step per real batch of ``batch_size`` rows drawn
with replacement (drop_last), all its critic steps (100 for the first 25 generator iterations and
every 500th, counted across epochs and resumes, else 5) on that same batch, and no extra per-code
output bias on the decoder (``decoder_bias=False``).

Real marginals: without DP the decoder's output bias starts at the codes' exact log-odds and the
frequency-matching penalty fits their exact frequencies; ``meta_["privacy"]["marginals"]`` says so,
and ``marginals="noisy"`` uses Laplace-noised counts instead (:mod:`.marginals`), also under DP,
where their epsilon is added to DP-SGD's.

Differential privacy (``dp_epsilon`` or ``dp_noise_multiplier``): DP-SGD (see :mod:`.dp`) on the
two parts of training that read real records, the autoencoder pretraining (encoder + decoder) and
the critic; one Opacus accountant composes both. The generator, and the decoder while it is
fine-tuned with the generator, only ever see the critic's output, so they are post-processing and
covered by the same (epsilon, delta). To keep that true, with DP on: the encoder/decoder use
GroupNorm instead of BatchNorm, minibatch averaging is refused, pretraining runs its fixed number
of epochs (no validation rows: early stopping would read real data outside DP-SGD), the decoder's
output bias starts from a data-independent prior instead of the codes' frequencies, and the
frequency-matching penalty is off (``meta_["privacy"]["off_under_dp"]`` lists what was turned
off). Not covered: the data's shape and, for count/continuous data, each column's range (min/max,
used to scale the values), which are treated as public.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from . import dp
from .base import EpochResult, Phase
from .base import option
from .corgan_nets import Decoder, Encoder, gd_networks, geometry, init_weights
from .neural import NeuralModel, NeuralOptions, straight_through

DP_COVERS = ("the autoencoder pretraining and the critic (the generator and the decoder's "
             "fine-tuning only see the critic, so they are post-processing)")
_DP = dp.dp_fields(DP_COVERS)


@dataclass(frozen=True)
class CorGANConfig(NeuralOptions):
    """corGAN settings; every field is a CLI option and a dashboard form field.

    The defaults are the configuration that met the issue's quality bar on Diabetes 130-US within
    10 CPU minutes (BENCHMARKS.md, "Models"): WGAN-GP, MLP critic fed straight-through Bernoulli
    draws, no autoencoder pretraining (decoder bias = the codes' log-odds, GroupNorm), lr 5e-4, 2
    critic steps, batch 256, an exponential moving average of the generator path for sampling, and
    a light frequency-matching penalty on the generator. ``PRESETS["released"]`` is the released code.
    """

    epochs: int = option(40, "GAN epochs (cap; one epoch passes every training row through the critic once; 40 epochs of the 57k-patient Diabetes 130-US set take about 10 minutes on one CPU core).", minimum=0)
    pretrain_epochs: int = option(0, "Autoencoder pretraining epochs (cap: it stops earlier once the validation loss stops improving; 0 = none: the decoder starts from the codes' frequencies, which learned faster than a pretrained autoencoder in the benchmark).", minimum=0)
    pretrain_patience: int = option(5, "Stop pretraining after this many epochs without validation improvement (0 = never stop early).")
    batch_size: int = option(256, "Rows per batch (capped at the number of training rows).", minimum=2)
    loss: str = option("wgan-gp", "wgan-gp (gradient penalty, steadier) or wgan-clip (weight clipping, as released).", ("wgan-gp", "wgan-clip"))
    gd_arch: str = option("mlp", "Generator/critic architecture: mlp (as released: MLP critic) or conv (as the paper describes: 1-D convolutional critic over the code axis; the generator path always ends in the convolutional decoder).", ("mlp", "conv"))
    critic_input: str = option("straight-through", "What the critic sees of a fake record: straight-through Bernoulli draws (near-binary, like real records) or soft probabilities (as released).", ("straight-through", "soft"))
    binary_output: str = option("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5 (as released; collapses on sparse data).", ("bernoulli", "threshold"))
    output_bias: str = option("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero (as released).", ("frequency", "zero"))
    minibatch_averaging: bool = option(False, "Append the batch mean to every row the critic sees.")
    ae_norm: str = option("group", "Normalisation in the autoencoder: batch (BatchNorm, as released) or group (GroupNorm: the same in training and sampling; always used with DP).", ("batch", "group"))
    lr_ae: float = option(1e-3, "Autoencoder learning rate.")
    lr_g: float = option(5e-4, "Generator learning rate.")
    lr_d: float = option(5e-4, "Critic learning rate.")
    lr_decoder: float = option(5e-4, "Learning rate of the decoder while it is fine-tuned with the generator (1e-4 as released).")
    adam_beta1: float = option(0.5, "Adam beta1 for the generator and critic.")
    weight_decay: float = option(1e-4, "Adam weight decay (all networks).")
    critic_steps: int = option(2, "Critic steps per generator step (5 as released).", minimum=1)
    critic_warmup_steps: int = option(0, "Critic steps per generator step during warm-up and every 500th generator step (100 as released; 0 = off).")
    gp_lambda: float = option(10.0, "Gradient penalty weight (wgan-gp).")
    g_ema: float = option(0.999, "Sample from an exponential moving average of the generator and decoder weights with this decay per generator step (e.g. 0.999; 0 = off: the last weights).")
    freq_matching: float = option(0.3, "Weight of a generator penalty: KL divergence between the training codes' frequencies and the fake batch's mean probabilities (keeps codes per patient on target; 0 = off; ignored with DP, as the frequencies are not private).")
    clip: float = option(0.01, "Critic weight clipping bound (wgan-clip).")
    latent_dim: int = option(128, "Size of the noise vector and of the autoencoder's code.", minimum=1)
    schedule: str = option("critic-batches", "GAN schedule: critic-batches (every critic step draws a fresh batch without replacement; an epoch is one pass of critic batches) or released (one generator step per real batch drawn with replacement, drop_last, all its critic steps on that batch; an epoch makes rows/batch_size generator steps; under DP the critic draws Poisson batches either way).", ("critic-batches", "released"))
    decoder_bias: bool = option(True, "Give the decoder a trainable per-code output bias (the released decoder has none).")
    val_fraction: float = option(0.1, "Share of training rows held back to stop autoencoder pretraining.")
    dp_epsilon: float = option(0.0, _DP["dp_epsilon"])
    dp_noise_multiplier: float = option(0.0, _DP["dp_noise_multiplier"])
    dp_max_grad_norm: float = option(1.0, _DP["dp_max_grad_norm"])
    dp_delta: float = option(0.0, _DP["dp_delta"])
    dp_accountant: str = option("rdp", _DP["dp_accountant"], dp.ACCOUNTANTS)


PRESETS = {
    "default": {},
    # The released code's configuration, spelled out in full so that changes to the defaults never
    # move it (spec: "corGAN as released"; it produced only degenerate samples on real sparse data).
    "released": dict(
        schedule="released", decoder_bias=False, epochs=100, pretrain_epochs=1, pretrain_patience=0, batch_size=512, loss="wgan-clip", gd_arch="mlp",
        critic_input="soft", binary_output="threshold", output_bias="zero", minibatch_averaging=False,
        ae_norm="batch", lr_ae=1e-3, lr_g=1e-3, lr_d=1e-3, lr_decoder=1e-4, adam_beta1=0.9, weight_decay=1e-4,
        critic_steps=5, critic_warmup_steps=100, clip=0.01, latent_dim=128, g_ema=0.0, freq_matching=0.0,
        continuous_transform="minmax", conditional=False,
    ),
}


class CorGAN(NeuralModel):
    """corGAN with the released architecture, any number of codes, binary/count/continuous data."""

    name = "corgan"
    Config = CorGANConfig
    DP_COVERS = DP_COVERS

    def validate(self) -> None:
        super().validate()
        c = self.config
        if not 0.0 <= c.g_ema < 1.0 or c.freq_matching < 0:
            raise ConfigError(f"g_ema must be in [0, 1) and freq_matching at least 0; got {c.g_ema} and {c.freq_matching}.")
        if not c.decoder_bias and c.output_bias == "frequency":
            raise ConfigError("output_bias=frequency needs the decoder's output bias; set decoder_bias to true or output_bias to zero.")

    # ---- networks -------------------------------------------------------------------------------
    def build(self):
        c = self.config
        k0, self.padded_ = geometry(self.n_codes_)
        norm = "group" if self.private else c.ae_norm
        self.encoder_ = Encoder(self.padded_, c.latent_dim, norm)
        self.decoder_ = Decoder(self.n_codes_, k0, c.latent_dim, norm)
        self.generator_, self.critic_ = gd_networks(c.gd_arch, self.n_codes_, c.latent_dim, self.n_classes_, c.minibatch_averaging)
        for net in self.nets():
            init_weights(net)
            net.to(self.device_)
        if not c.decoder_bias:  # stays at zero: the released decoder ends in its last transposed conv
            self.decoder_.bias.requires_grad_(False)
        wd = c.weight_decay
        self.opt_ae_ = torch.optim.Adam(list(self.encoder_.parameters()) + list(self.decoder_.parameters()), lr=c.lr_ae, weight_decay=wd)
        self.opt_g_ = torch.optim.Adam([
            {"params": self.generator_.parameters(), "lr": c.lr_g},
            {"params": self.decoder_.parameters(), "lr": c.lr_decoder},
        ], betas=(c.adam_beta1, 0.999), weight_decay=wd)
        self.opt_d_ = torch.optim.Adam(self.critic_.parameters(), lr=c.lr_d, betas=(c.adam_beta1, 0.999), weight_decay=wd)
        self.g_iters_ = 0
        self.ema_ = None
        if c.g_ema > 0:  # averaged copies of the generator path, for sampling
            self.ema_ = torch.nn.ModuleDict({"generator": copy.deepcopy(self.generator_),
                                             "decoder": copy.deepcopy(self.decoder_)}).requires_grad_(False)
        self.freq_ = None
        self.ae_private_ = self.critic_private_ = None

    def setup(self, X, kind, seed, device):
        super().setup(X, kind, seed, device)
        if self._fits_freq():
            if self.noisy_freq_ is not None:
                S = torch.from_numpy(self.noisy_freq_).to(self.device_)
            else:
                S = self.features(self.data_).mean(0)
            self.freq_ = S.clamp(1e-6, 1 - 1e-6).float()
        self.meta_["privacy"] = self.privacy_info()

    def _fits_freq(self) -> bool:
        """The frequency-matching penalty is on: off under DP unless the marginals are noisy."""
        noisy = getattr(self, "noisy_freq_", None) is not None
        return self.config.freq_matching > 0 and not self.scaler_.real_valued and (not self.private or noisy)

    def marginal_reads(self):
        return super().marginal_reads() + (["the frequency-matching penalty"] if self._fits_freq() else [])

    def output_bias_param(self):
        return self.decoder_.bias

    def dp_plan(self, n):
        c = self.config
        bs = min(c.batch_size, n)
        return [(bs, dp.planned_steps(c.pretrain_epochs + c.epochs, n, bs))]

    def make_private(self):
        bs = min(self.config.batch_size, len(self.data_))
        self.ae_ = torch.nn.ModuleDict({"encoder": self.encoder_, "decoder": self.decoder_})
        self.ae_private_ = dp.PrivateUpdate(self.ae_, self.opt_ae_, self.budget_, bs)
        self.critic_private_ = dp.PrivateUpdate(self.critic_, self.opt_d_, self.budget_, bs)

    def privacy_info(self) -> dict:
        info = super().privacy_info()
        if self.budget_ is not None:
            info["off_under_dp"] = [name for name, on in (
                ("freq_matching", self.config.freq_matching > 0 and not self._fits_freq()),
                ("output_bias=frequency (a data-independent prior instead)",
                 self.config.output_bias == "frequency" and self.noisy_freq_ is None),
                ("pretraining early stopping on validation rows", self.config.pretrain_patience > 0 and self.config.pretrain_epochs > 0),
            ) if on]
        return info

    def nets(self):
        return [self.encoder_, self.decoder_, self.generator_, self.critic_]

    def phases(self):
        return [Phase("pretrain", self.config.pretrain_epochs, "Autoencoder pretraining", samples=False),
                Phase("gan", self.config.epochs, "GAN training")]

    def _batches(self):
        n = len(self.data_)
        if self.budget_ is not None:  # DP: Poisson batches, 1/q per epoch
            for _ in range(self.budget_.steps_per_epoch(self.critic_private_.batch_size)):
                yield self.data_[self.critic_private_.rows(self.device_)]
            return
        bs = min(self.config.batch_size, n)
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

    def _ae_loss(self, rows, encoder=None, decoder=None):
        encoder, decoder = encoder or self.encoder_, decoder or self.decoder_
        x = self.features(rows)
        logits = decoder(encoder(F.pad(x, (0, self.padded_ - self.n_codes_))))
        if self.kind_ == "binary":
            return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        return F.mse_loss(self.activate(logits), x, reduction="sum") / len(x)

    def _ae_loss_one(self, params, x):
        """One record's autoencoder loss, for per-record gradients (DP)."""
        from torch.func import functional_call

        def enc(h):
            return functional_call(self.encoder_, _sub(params, "encoder."), (h,))

        def dec(h):
            return functional_call(self.decoder_, _sub(params, "decoder."), (h,))

        return self._ae_loss(x.unsqueeze(0), enc, dec)

    def run_epoch(self, phase, epoch):
        return self._pretrain_epoch() if phase == "pretrain" else self._gan_epoch()

    def _pretrain_epoch(self):
        self.encoder_.train(), self.decoder_.train()
        total, count = 0.0, 0
        for x in self._batches():
            if self.ae_private_ is not None:
                loss = self.ae_private_.step(self._ae_loss_one, x)
                if np.isfinite(loss):
                    total, count = total + loss, count + 1
                continue
            loss = self._ae_loss(x)
            self.opt_ae_.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_ae_.step()
            total, count = total + loss.item(), count + 1
        losses = {"ae": total / max(count, 1)}
        if self.val_ is None:
            return EpochResult(losses)
        self.encoder_.eval(), self.decoder_.eval()
        with torch.no_grad():
            val = self._ae_loss(self.val_).item()
        return self.early_stop(losses, val, {"encoder": self.encoder_, "decoder": self.decoder_})

    def _fake(self, rows, with_probs=False):
        """Fake rows for the classes of ``rows`` (with their one-hot when conditioned)."""
        z = torch.randn(len(rows), self.config.latent_dim, device=self.device_)
        p = self.activate(self.decoder_(self.generator_(z, self.classes(rows))))
        out = p
        if self.kind_ == "binary" and self.config.critic_input == "straight-through":
            out = straight_through(p)
        out = self.with_class(out, rows)
        return (out, p) if with_probs else out

    def _critic_schedule(self):
        c = self.config
        if c.critic_warmup_steps and (self.g_iters_ < 25 or self.g_iters_ % 500 == 0):
            return c.critic_warmup_steps
        return c.critic_steps

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
        d_losses = [d for d in d_losses if np.isfinite(d)]
        losses = {"critic": float(np.mean(d_losses)) if d_losses else float("nan"),
                  "generator": float(np.mean(g_losses)) if g_losses else float("nan")}
        if gps:
            losses["gradient_penalty"] = float(np.mean(gps))
        if self.freq_kl_:
            losses["freq_kl"] = float(np.mean(self.freq_kl_))
        return EpochResult(losses)

    def _critic_step(self, real, gps):
        c = self.config
        with torch.no_grad():
            fake = self._fake(real)
        if self.critic_private_ is not None:
            return self._private_critic_step(real, fake, gps)
        d_loss = self.critic_(fake).mean() - self.critic_(real).mean()
        total = d_loss
        if c.loss == "wgan-gp":
            gp = self._gradient_penalty(real, fake)
            total = d_loss + c.gp_lambda * gp
            gps.append(gp.item())
        self.opt_d_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_d_.step()
        if c.loss == "wgan-clip":
            for p in self.critic_.parameters():
                p.data.clamp_(-c.clip, c.clip)
        return d_loss.item()

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
            for p in self.critic_.parameters():
                p.data.clamp_(-c.clip, c.clip)
        return loss

    def _generator_step(self):
        for p in self.critic_.parameters():
            p.requires_grad_(False)
        n = min(self.config.batch_size, len(self.data_))
        rows = self.data_[torch.randint(len(self.data_), (n,), device=self.device_)] if self.n_classes_ else self.data_[:n]
        fake, p = self._fake(rows, with_probs=True)
        g_loss = -self.critic_(fake).mean()
        total = g_loss
        if self.freq_ is not None:
            f, pbar = self.freq_, p.mean(0).clamp(1e-6, 1 - 1e-6)
            kl = (f * torch.log(f / pbar) + (1 - f) * torch.log((1 - f) / (1 - pbar))).sum()
            total = g_loss + self.config.freq_matching * kl
            self.freq_kl_.append(kl.item())
        self.opt_g_.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g_.step()
        for p in self.critic_.parameters():
            p.requires_grad_(True)
        if self.ema_ is not None:
            self._update_ema()
        self.g_iters_ += 1
        return g_loss.item()

    @torch.no_grad()
    def _update_ema(self):
        """Polyak averaging of the generator path (warm-up: the average starts at the weights the
        GAN phase starts from and its decay grows towards g_ema)."""
        t = self.g_iters_
        decay = 0.0 if t == 0 else min(self.config.g_ema, (1 + t) / (10 + t))
        for name, live in (("generator", self.generator_), ("decoder", self.decoder_)):
            avg = self.ema_[name]
            for pa, pl in zip(avg.parameters(), live.parameters()):
                pa.lerp_(pl, 1.0 - decay)
            for ba, bl in zip(avg.buffers(), live.buffers()):
                ba.copy_(bl)

    def _gradient_penalty(self, real, fake):
        a = torch.rand(len(real), 1, device=self.device_)
        x = (a * real + (1 - a) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(self.critic_(x).sum(), x, create_graph=True)
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

    # ---- state and sampling -------------------------------------------------------------------
    def model_state(self):
        return {
            "nets": {k: v.state_dict() for k, v in zip(("encoder", "decoder", "generator", "critic"), self.nets())},
            "optims": {k: o.state_dict() for k, o in (("ae", self.opt_ae_), ("g", self.opt_g_), ("d", self.opt_d_))},
            "g_iters": self.g_iters_, "ema": self.ema_.state_dict() if self.ema_ is not None else None,
        }

    def load_model_state(self, state):
        for k, net in zip(("encoder", "decoder", "generator", "critic"), self.nets()):
            net.load_state_dict(state["nets"][k])
        for k, o in (("ae", self.opt_ae_), ("g", self.opt_g_), ("d", self.opt_d_)):
            if k in state.get("optims", {}):
                o.load_state_dict(state["optims"][k])
        self.g_iters_ = int(state.get("g_iters", 0))
        if self.ema_ is not None and state.get("ema") is not None:
            self.ema_.load_state_dict(state["ema"])

    def decode_noise(self, z, y):
        gen, dec = self.generator_, self.decoder_
        if self.ema_ is not None and self.g_iters_ > 0:
            gen, dec = self.ema_["generator"], self.ema_["decoder"]
        gen.eval(), dec.eval()
        return self.activate(dec(gen(z, y)))


def _sub(params: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
