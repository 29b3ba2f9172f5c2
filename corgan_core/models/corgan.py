"""corGAN (Torfi & Fox 2020): conv autoencoder + GAN whose generator output goes through the decoder.

``CorGANConfig()`` is the default that learns on real sparse records; ``PRESETS["released"]`` is
the released code's configuration, kept for comparison (spec, "Measured here").

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
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConfigError
from . import dp
from .base import EpochResult, GenerativeModel, Phase, Scaler, as_dense, resolve_device
from .corgan_nets import ConvCritic, Decoder, Encoder, Generator, MLPCritic, geometry, init_weights

DP_COVERS = ("the autoencoder pretraining and the critic (the generator and the decoder's "
             "fine-tuning only see the critic, so they are post-processing)")
_DP = dp.dp_fields(DP_COVERS)


def _f(default, help_text, choices=None):
    meta = {"help": help_text}
    if choices:
        meta["choices"] = choices
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class CorGANConfig:
    """corGAN settings; every field is a CLI option and a dashboard form field.

    The defaults are the configuration that met the issue's quality bar on Diabetes 130-US within
    10 CPU minutes (BENCHMARKS.md, "Models"): WGAN-GP, MLP critic fed straight-through Bernoulli
    draws, no autoencoder pretraining (decoder bias = the codes' log-odds, GroupNorm), lr 5e-4, 2
    critic steps, batch 256, an exponential moving average of the generator path for sampling, and
    a light frequency-matching penalty on the generator. ``PRESETS["released"]`` is the released code.
    """

    epochs: int = _f(40, "GAN epochs (cap; one epoch passes every training row through the critic once; 40 epochs of the 57k-patient Diabetes 130-US set take about 10 minutes on one CPU core).")
    pretrain_epochs: int = _f(0, "Autoencoder pretraining epochs (cap: it stops earlier once the validation loss stops improving; 0 = none: the decoder starts from the codes' frequencies, which learned faster than a pretrained autoencoder in the benchmark).")
    pretrain_patience: int = _f(5, "Stop pretraining after this many epochs without validation improvement (0 = never stop early).")
    batch_size: int = _f(256, "Rows per batch (capped at the number of training rows).")
    loss: str = _f("wgan-gp", "wgan-gp (gradient penalty, steadier) or wgan-clip (weight clipping, as released).", ("wgan-gp", "wgan-clip"))
    gd_arch: str = _f("mlp", "Generator/critic architecture: mlp (as released: MLP critic) or conv (as the paper describes: 1-D convolutional critic over the code axis; the generator path always ends in the convolutional decoder).", ("mlp", "conv"))
    critic_input: str = _f("straight-through", "What the critic sees of a fake record: straight-through Bernoulli draws (near-binary, like real records) or soft probabilities (as released).", ("straight-through", "soft"))
    binary_output: str = _f("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5 (as released; collapses on sparse data).", ("bernoulli", "threshold"))
    output_bias: str = _f("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero (as released).", ("frequency", "zero"))
    minibatch_averaging: bool = _f(False, "Append the batch mean to every row the critic sees.")
    ae_norm: str = _f("group", "Normalisation in the autoencoder: batch (BatchNorm, as released) or group (GroupNorm: the same in training and sampling; always used with DP).", ("batch", "group"))
    lr_ae: float = _f(1e-3, "Autoencoder learning rate.")
    lr_g: float = _f(5e-4, "Generator learning rate.")
    lr_d: float = _f(5e-4, "Critic learning rate.")
    lr_decoder: float = _f(5e-4, "Learning rate of the decoder while it is fine-tuned with the generator (1e-4 as released).")
    adam_beta1: float = _f(0.5, "Adam beta1 for the generator and critic.")
    weight_decay: float = _f(1e-4, "Adam weight decay (all networks).")
    critic_steps: int = _f(2, "Critic steps per generator step (5 as released).")
    critic_warmup_steps: int = _f(0, "Critic steps per generator step during warm-up and every 500th generator step (100 as released; 0 = off).")
    gp_lambda: float = _f(10.0, "Gradient penalty weight (wgan-gp).")
    g_ema: float = _f(0.999, "Sample from an exponential moving average of the generator and decoder weights with this decay per generator step (e.g. 0.999; 0 = off: the last weights).")
    freq_matching: float = _f(0.3, "Weight of a generator penalty: KL divergence between the training codes' frequencies and the fake batch's mean probabilities (keeps codes per patient on target; 0 = off; ignored with DP, as the frequencies are not private).")
    clip: float = _f(0.01, "Critic weight clipping bound (wgan-clip).")
    latent_dim: int = _f(128, "Size of the noise vector and of the autoencoder's code.")
    val_fraction: float = _f(0.1, "Share of training rows held back to stop autoencoder pretraining.")
    dp_epsilon: float = _f(0.0, _DP["dp_epsilon"])
    dp_noise_multiplier: float = _f(0.0, _DP["dp_noise_multiplier"])
    dp_max_grad_norm: float = _f(1.0, _DP["dp_max_grad_norm"])
    dp_delta: float = _f(0.0, _DP["dp_delta"])
    dp_accountant: str = _f("rdp", _DP["dp_accountant"], dp.ACCOUNTANTS)


PRESETS = {
    "default": {},
    # The released code's configuration, spelled out in full so that changes to the defaults never
    # move it (spec: "corGAN as released"; it produced only degenerate samples on real sparse data).
    "released": dict(
        epochs=100, pretrain_epochs=1, pretrain_patience=0, batch_size=512, loss="wgan-clip", gd_arch="mlp",
        critic_input="soft", binary_output="threshold", output_bias="zero", minibatch_averaging=False,
        ae_norm="batch", lr_ae=1e-3, lr_g=1e-3, lr_d=1e-3, lr_decoder=1e-4, adam_beta1=0.9, weight_decay=1e-4,
        critic_steps=5, critic_warmup_steps=100, clip=0.01, latent_dim=128, g_ema=0.0, freq_matching=0.0,
    ),
}


class CorGAN(GenerativeModel):
    """corGAN with the released architecture, any number of codes, binary/count/continuous data."""

    name = "corgan"
    Config = CorGANConfig

    def validate(self) -> None:
        c = self.config
        for fname in ("loss", "gd_arch", "critic_input", "binary_output", "output_bias", "ae_norm"):
            choices = CorGANConfig.__dataclass_fields__[fname].metadata["choices"]
            if getattr(c, fname) not in choices:
                raise ConfigError(f"{fname} must be one of {', '.join(choices)}; got {getattr(c, fname)!r}.")
        if c.batch_size < 2 or c.epochs < 0 or c.pretrain_epochs < 0 or c.critic_steps < 1:
            raise ConfigError("batch_size must be at least 2, epochs and pretrain_epochs at least 0, critic_steps at least 1.")
        if not 0.0 <= c.g_ema < 1.0 or c.freq_matching < 0:
            raise ConfigError(f"g_ema must be in [0, 1) and freq_matching at least 0; got {c.g_ema} and {c.freq_matching}.")
        dp.check_dp_config(c)
        if dp.dp_enabled(c) and c.minibatch_averaging:
            raise ConfigError("Minibatch averaging mixes records, so DP-SGD cannot bound one record's "
                              "influence; set minibatch_averaging to false when DP is on.")

    @property
    def private(self) -> bool:
        return dp.dp_enabled(self.config)

    # ---- engine hooks ---------------------------------------------------------------------------
    def setup(self, X, kind, seed, device):
        self.validate()
        c = self.config
        X = as_dense(X)
        self.kind_, self.n_codes_ = kind, X.shape[1]
        self.device_ = resolve_device(device)
        self.scaler_ = Scaler.fit(X, kind)
        k0, self.padded_ = geometry(self.n_codes_)
        torch.manual_seed(seed)
        norm = "group" if self.private else c.ae_norm
        self.encoder_ = Encoder(self.padded_, c.latent_dim, norm)
        self.decoder_ = Decoder(self.n_codes_, k0, c.latent_dim, norm)
        self.generator_ = Generator(c.latent_dim)
        critic_cls = ConvCritic if c.gd_arch == "conv" else MLPCritic
        self.critic_ = critic_cls(self.n_codes_, c.minibatch_averaging)
        for net in self.nets():
            init_weights(net)
            net.to(self.device_)
        S = self.scaler_.transform(X)
        if c.output_bias == "frequency":
            if self.private:  # a data-independent prior: the frequencies are not public
                p = np.full(S.shape[1], 1.0 / S.shape[1] if kind == "binary" else 0.5)
            else:
                p = S.mean(axis=0)
            p = np.clip(p, 1e-4, 1 - 1e-4)
            self.decoder_.bias.data = torch.from_numpy(np.log(p / (1 - p))).float().to(self.device_)
        rng = np.random.default_rng(seed)
        # validation rows only serve pretraining's early stopping; without pretraining the GAN gets every row
        use_val = c.pretrain_epochs > 0 and c.pretrain_patience > 0 and len(S) >= 20 and not self.private
        n_val = int(round(len(S) * c.val_fraction)) if use_val else 0
        perm = rng.permutation(len(S))
        self.data_ = torch.from_numpy(S[perm[n_val:]]).to(self.device_)
        self.freq_ = None
        if c.freq_matching > 0 and not self.private:
            self.freq_ = torch.from_numpy(np.clip(S.mean(0), 1e-6, 1 - 1e-6)).float().to(self.device_)
        self.val_ = torch.from_numpy(S[perm[:n_val]]).to(self.device_) if n_val else None
        wd = c.weight_decay
        self.opt_ae_ = torch.optim.Adam(list(self.encoder_.parameters()) + list(self.decoder_.parameters()), lr=c.lr_ae, weight_decay=wd)
        self.opt_g_ = torch.optim.Adam([
            {"params": self.generator_.parameters(), "lr": c.lr_g},
            {"params": self.decoder_.parameters(), "lr": c.lr_decoder},
        ], betas=(c.adam_beta1, 0.999), weight_decay=wd)
        self.opt_d_ = torch.optim.Adam(self.critic_.parameters(), lr=c.lr_d, betas=(c.adam_beta1, 0.999), weight_decay=wd)
        self.g_iters_ = 0
        self.best_val_, self.bad_epochs_, self.best_ae_ = float("inf"), 0, None
        self.ema_ = None
        if c.g_ema > 0:  # averaged copies of the generator path, for sampling
            self.ema_ = torch.nn.ModuleDict({"generator": copy.deepcopy(self.generator_),
                                             "decoder": copy.deepcopy(self.decoder_)}).requires_grad_(False)
        self.budget_ = self.ae_private_ = self.critic_private_ = None
        if self.private and not getattr(self, "_restoring", False):
            n, bs = len(self.data_), min(c.batch_size, len(self.data_))
            self.budget_ = dp.PrivacyBudget(c, n, [(bs, dp.planned_steps(c.pretrain_epochs + c.epochs, n, bs))])
            self.ae_ = torch.nn.ModuleDict({"encoder": self.encoder_, "decoder": self.decoder_})
            self.ae_private_ = dp.PrivateUpdate(self.ae_, self.opt_ae_, self.budget_, bs)
            self.critic_private_ = dp.PrivateUpdate(self.critic_, self.opt_d_, self.budget_, bs)
        self.meta_["privacy"] = self.privacy_info()

    def privacy_info(self) -> dict:
        """What the DP guarantee covers and the epsilon spent so far (kept in the checkpoint's meta)."""
        if self.budget_ is None:
            return dp.NO_DP
        info = self.budget_.info(DP_COVERS)
        info["off_under_dp"] = [name for name, on in (
            ("freq_matching", self.config.freq_matching > 0),
            ("output_bias=frequency (a data-independent prior instead)", self.config.output_bias == "frequency"),
            ("pretraining early stopping on validation rows", self.config.pretrain_patience > 0 and self.config.pretrain_epochs > 0),
        ) if on]
        return info

    def nets(self):
        return [self.encoder_, self.decoder_, self.generator_, self.critic_]

    def phases(self):
        return [Phase("pretrain", self.config.pretrain_epochs, "Autoencoder pretraining", samples=False),
                Phase("gan", self.config.epochs, "GAN training")]

    def _batches(self, n_batches=None):
        n = len(self.data_)
        if self.budget_ is not None:  # DP: Poisson batches, 1/q per epoch
            for _ in range(self.budget_.steps_per_epoch(self.critic_private_.batch_size)):
                yield self.data_[self.critic_private_.rows(self.device_)]
            return
        bs = min(self.config.batch_size, n)
        perm = torch.randperm(n, device=self.device_)
        count = max(1, n // bs)
        for i in range(count if n_batches is None else n_batches):
            j = i % count
            yield self.data_[perm[j * bs:(j + 1) * bs]]

    def _ae_loss(self, x, encoder=None, decoder=None):
        encoder, decoder = encoder or self.encoder_, decoder or self.decoder_
        logits = decoder(encoder(F.pad(x, (0, self.padded_ - self.n_codes_))))
        if self.kind_ == "binary":
            return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        return F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / len(x)

    def _ae_loss_one(self, params, x):
        """One record's autoencoder loss, for per-record gradients (DP)."""
        from torch.func import functional_call

        def enc(h):
            return functional_call(self.encoder_, _sub(params, "encoder."), (h,))

        def dec(h):
            return functional_call(self.decoder_, _sub(params, "decoder."), (h,))

        return self._ae_loss(x.unsqueeze(0), enc, dec)

    def train_epoch(self, phase, epoch):
        result = self._pretrain_epoch() if phase == "pretrain" else self._gan_epoch()
        if self.budget_ is not None:
            result.losses["epsilon"] = self.budget_.epsilon()
            self.meta_["privacy"] = self.privacy_info()
        return result

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
        losses["ae_val"] = val
        if not np.isfinite(self.best_val_) or val < self.best_val_ - 1e-3 * abs(self.best_val_):
            self.best_val_, self.bad_epochs_ = val, 0
            self.best_ae_ = {k: copy.deepcopy(v.state_dict()) for k, v in (("encoder", self.encoder_), ("decoder", self.decoder_))}
        else:
            self.bad_epochs_ += 1
        stop = self.bad_epochs_ >= self.config.pretrain_patience
        if stop and self.best_ae_ is not None:  # keep the best autoencoder, not the last
            self.encoder_.load_state_dict(self.best_ae_["encoder"])
            self.decoder_.load_state_dict(self.best_ae_["decoder"])
        return EpochResult(losses, stop=stop)

    def _fake(self, n, with_probs=False):
        z = torch.randn(n, self.config.latent_dim, device=self.device_)
        p = torch.sigmoid(self.decoder_(self.generator_(z)))
        out = p
        if self.kind_ == "binary" and self.config.critic_input == "straight-through":
            hard = torch.bernoulli(p.detach())
            out = hard + p - p.detach()
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
        while True:
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
            fake = self._fake(len(real))
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
        fake, p = self._fake(min(self.config.batch_size, len(self.data_)), with_probs=True)
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
    def get_state(self):
        return {
            "kind": self.kind_, "n_codes": self.n_codes_, "scaler": self.scaler_.state(),
            "nets": {k: v.state_dict() for k, v in zip(("encoder", "decoder", "generator", "critic"), self.nets())},
            "optims": {k: o.state_dict() for k, o in (("ae", self.opt_ae_), ("g", self.opt_g_), ("d", self.opt_d_))},
            "g_iters": self.g_iters_, "best_val": self.best_val_, "bad_epochs": self.bad_epochs_,
            "best_ae": self.best_ae_, "privacy": self.budget_.state() if self.budget_ is not None else None,
            "ema": self.ema_.state_dict() if self.ema_ is not None else None,
        }

    def set_state(self, state):
        for k, net in zip(("encoder", "decoder", "generator", "critic"), self.nets()):
            net.load_state_dict(state["nets"][k])
        for k, o in (("ae", self.opt_ae_), ("g", self.opt_g_), ("d", self.opt_d_)):
            if k in state.get("optims", {}):
                o.load_state_dict(state["optims"][k])
        self.g_iters_ = int(state.get("g_iters", 0))
        if self.ema_ is not None and state.get("ema") is not None:
            self.ema_.load_state_dict(state["ema"])
        self.best_val_ = float(state.get("best_val", float("inf")))
        self.bad_epochs_ = int(state.get("bad_epochs", 0))
        self.best_ae_ = state.get("best_ae")
        if self.budget_ is not None:
            self.budget_.load(state.get("privacy"))
            self.meta_["privacy"] = self.privacy_info()

    def restore(self, state, device="cpu"):
        """Rebuild networks from a checkpoint's state (for sampling or resuming)."""
        n, kind = int(state["n_codes"]), state["kind"]
        X = np.zeros((2, n), np.float32)
        self._restoring = True  # no privacy accounting for a model that only samples
        try:
            self.setup(X, kind, 0, device)
        finally:
            self._restoring = False
        self.scaler_ = Scaler.from_state(state["scaler"])
        self.set_state(state)

    @torch.no_grad()
    def _generate(self, n, generator):
        gen, dec = self.generator_, self.decoder_
        if self.ema_ is not None and self.g_iters_ > 0:
            gen, dec = self.ema_["generator"], self.ema_["decoder"]
        gen.eval(), dec.eval()
        out = []
        for start in range(0, n, 4096):
            m = min(4096, n - start)
            z = torch.randn(m, self.config.latent_dim, generator=generator).to(self.device_)
            out.append(torch.sigmoid(dec(gen(z))).cpu().numpy())
        return np.concatenate(out).astype(np.float32)


def _sub(params: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
