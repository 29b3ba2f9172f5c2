"""corGAN (Torfi & Fox 2020): conv autoencoder + GAN whose generator output goes through the decoder.

``CorGANConfig()`` is the default that learns on real sparse records: the 1-D convolutional
autoencoder is pretrained on real records until its validation loss stops improving (one-cycle
learning rate, batch 512; about 2 CPU minutes on Diabetes 130-US), then the generator trains
through the decoder, which is fine-tuned with it. The steps live in :mod:`.corgan_steps`.
``PRESETS["released"]`` is
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

import torch

from ..errors import ConfigError
from . import dp
from .base import Phase
from .base import option
from .corgan_nets import Decoder, Encoder, gd_networks, geometry, init_weights
from .corgan_steps import CorGANSteps
from .neural import NeuralModel, NeuralOptions
from .optimizers import adam

DP_COVERS = ("the autoencoder pretraining and the critic (the generator and the decoder's "
             "fine-tuning only see the critic, so they are post-processing)")
_DP = dp.dp_fields(DP_COVERS)
# Options whose 0 means auto, and their values for (continuous rows, binary and count rows): the
# measurements behind them are in the options' help (below) and BENCHMARKS.md.
AUTO_BY_KIND = {"critic_steps": (5, 2), "lr": (5e-4, 2.5e-4)}
_AUTO_LR = ("2.5e-4 for binary and count rows (Diabetes 130-US at 600 CPU-s, 3 seeds: co-occurrence R^2 "
            "0.9739 +- 0.0008 against 0.9725 +- 0.0026 at 5e-4), 5e-4 for continuous rows (the rate Epileptic "
            "Seizure's targets were met with)")


@dataclass(frozen=True)
class CorGANConfig(NeuralOptions):
    """corGAN settings; every field is a CLI option and a dashboard form field.

    The defaults (BENCHMARKS.md, "Models"): the GroupNorm autoencoder (PyTorch-default conv init,
    decoder bias starting at the codes' log-odds) pretrained for up to 6 epochs at batch 512 with a
    one-cycle learning rate peaking at 3e-3, stopping on validation loss; then WGAN-GP, MLP critic
    fed Bernoulli draws with a binary-concrete (Gumbel, tau 1) gradient, lr 2.5e-4 and 2 critic steps (5e-4 and 5 for continuous rows), batch 256, an exponential moving
    average of the generator path for sampling, and a light frequency-matching penalty on the
    generator. ``PRESETS["released"]`` is the released code.
    """

    epochs: int = option(40, "GAN epochs (cap; one epoch passes every training row through the critic once; 40 epochs of the 57k-patient Diabetes 130-US set take about 10 minutes on one CPU core).", minimum=0)
    pretrain_epochs: int = option(6, "Autoencoder pretraining epochs (cap: it stops earlier once the validation loss stops improving; the one-cycle schedule spans the cap; 0 = none: the decoder starts from the codes' frequencies). Six epochs of the 57k-patient Diabetes 130-US set take about 2 minutes on one CPU core.", minimum=0)
    pretrain_patience: int = option(2, "Stop pretraining after this many epochs without validation improvement (0 = never stop early).")
    batch_size: int = option(256, "Rows per batch (capped at the number of training rows).", minimum=2)
    loss: str = option("wgan-gp", "wgan-gp (gradient penalty, steadier) or wgan-clip (weight clipping, as released).", ("wgan-gp", "wgan-clip"))
    gd_arch: str = option("mlp", "Generator/critic architecture: mlp (as released: MLP generator and critic), conv (the paper's 1-D convolutional generator; a 1-D convolutional critic whose MLP head reads its conv features and the raw codes: co-occurrence R^2 0.970-0.974 on Diabetes in 10 CPU-minutes, against 0.976 for mlp; conv-hybrid is its former name), conv-pure (convolutional generator and a purely convolutional critic: 0.93-0.944; gd_arch=conv meant this until 2026-12-04) or conv-critic (pure conv critic, MLP generator); the generator path always ends in the convolutional decoder.", ("mlp", "conv", "conv-pure", "conv-critic"))
    critic_input: str = option("gumbel", "Binary data: what the critic sees of a fake record: Bernoulli draws, exactly binary like real records, whose gradient is that of their binary-concrete relaxation at temperature critic_tau (gumbel, the default from 2026-12-04), the same draws with the gradient of the probabilities (straight-through, the default before) or soft probabilities (as released).", ("gumbel", "straight-through", "soft"))
    critic_tau: float = option(1.0, "Temperature of the relaxation behind critic_input=gumbel's gradient (lower: closer to the hard draws, noisier gradients; 1.0 beat 0.5 on Diabetes, BENCHMARKS.md).")
    binary_output: str = option("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5 (as released; collapses on sparse data).", ("bernoulli", "threshold"))
    output_bias: str = option("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero (as released).", ("frequency", "zero"))
    minibatch_averaging: bool = option(False, "Append the batch mean to every row the critic sees.")
    critic_conditioning: str = option("concat", "Labelled data only: how the critic reads the row's class: concat (its one-hot joins the critic's input), projection (also a learned class vector times the critic's last hidden layer, Miyato & Koyama 2018: with 2 critic steps on Epileptic Seizure it stopped the rest class's rows drifting to twice their real amplitude, discriminator AUROC 0.67 at 600 CPU-s against 0.80; with the 5 critic steps continuous rows now get, concat does as well, 0.71, and projection learned the classes inverted for the first ~250 epochs on 3,000 rows) or auto (projection for continuous rows, concat otherwise: the default from commit 3fa1ee7 until critic_steps became 5 for continuous rows, kept so that runs saved with it resume as they were).", ("auto", "concat", "projection"))
    critic_features: str = option("none", "Continuous data only (ignored for binary/count): spectrum also feeds the critic each row's log rFFT band powers and first-difference roughness, computed inside the critic for real and fake rows (for signal-like rows such as EEG; on Epileptic Seizure it made the discriminator AUROC worse, 0.965 vs 0.904); none = the row alone.", ("none", "spectrum"))
    output_noise: int = option(4, "Continuous data with real-valued outputs only (standard/quantile transform; ignored for binary, count and minmax): channels of learned coloured noise the decoder adds to each generated row (fresh noise through learned filters, scaled per row from the code; the decoder alone is too smooth for signal-like rows: on Epileptic Seizure the discriminator AUROC fell from 0.950 without it to 0.73 at 90 CPU-s); 0 = off.", minimum=0)
    ae_norm: str = option("group", "Normalisation in the autoencoder: batch (BatchNorm, as released) or group (GroupNorm: the same in training and sampling; always used with DP).", ("batch", "group"))
    lr_ae: float = option(3e-3, "Autoencoder learning rate (the peak of the one-cycle schedule).")
    ae_batch_size: int = option(512, "Rows per autoencoder pretraining batch (capped at the number of training rows).", minimum=2)
    ae_init: str = option("pytorch", "Initialisation of the autoencoder's convolutions: pytorch (PyTorch's default, scaled to each layer's fan-in: the autoencoder learns from the first steps) or released (N(0, 0.02) weights, as released: its reconstruction stayed at the codes' frequencies for whole epochs).", ("pytorch", "released"))
    ae_schedule: str = option("one-cycle", "Autoencoder learning rate over pretraining: one-cycle (warm-up to lr_ae, then cosine decay to zero at the pretrain_epochs cap) or constant (lr_ae throughout, as released).", ("one-cycle", "constant"))
    lr_g: float = option(0.0, "Generator learning rate (0 = auto: " + _AUTO_LR + ").", minimum=0)
    lr_d: float = option(0.0, "Critic learning rate (0 = auto, as lr_g).", minimum=0)
    lr_decoder: float = option(0.0, "Learning rate of the decoder while it is fine-tuned with the generator (1e-4 as released; 0 = auto, as lr_g).", minimum=0)
    adam_beta1: float = option(0.5, "Adam beta1 for the generator and critic.")
    weight_decay: float = option(1e-4, "Adam weight decay (all networks).")
    critic_steps: int = option(0, "Critic steps per generator step (5 as released); 0 = auto: 5 for continuous rows (on Epileptic Seizure, 2 let the classes' amplitudes drift from the real ones late in training: discriminator AUROC 0.83 at 600 CPU-s on one split, against 0.73 with 5), 2 for binary and count rows (more generator steps per minute on Diabetes 130-US).", minimum=0)
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

    def __post_init__(self):
        if self.gd_arch == "conv-hybrid":  # conv's name before 2026-12-04: saved runs and scripts keep working
            object.__setattr__(self, "gd_arch", "conv")


PRESETS = {
    "default": {},
    # The released code's configuration, spelled out in full so that changes to the defaults never
    # move it (spec: "corGAN as released"; it produced only degenerate samples on real sparse data).
    "released": dict(
        schedule="released", decoder_bias=False, epochs=100, pretrain_epochs=1, pretrain_patience=0, batch_size=512,
        ae_batch_size=512, ae_schedule="constant", ae_init="released", loss="wgan-clip", gd_arch="mlp",
        critic_input="soft", binary_output="threshold", output_bias="zero", minibatch_averaging=False,
        ae_norm="batch", lr_ae=1e-3, lr_g=1e-3, lr_d=1e-3, lr_decoder=1e-4, adam_beta1=0.9, weight_decay=1e-4,
        critic_steps=5, critic_warmup_steps=100, clip=0.01, latent_dim=128, g_ema=0.0, freq_matching=0.0,
        continuous_transform="minmax", conditional=False, output_noise=0,
    ),
}


class CorGAN(CorGANSteps, NeuralModel):
    """corGAN with the released architecture, any number of codes, binary/count/continuous data."""

    name = "corgan"
    Config = CorGANConfig
    DP_COVERS = DP_COVERS
    DDP_MODULES = ("encoder_", "decoder_", "generator_")  # the critic's gradient penalty needs all_reduce (distributed.py)

    def validate(self) -> None:
        super().validate()
        c = self.config
        if not 0.0 <= c.g_ema < 1.0 or c.freq_matching < 0:
            raise ConfigError(f"g_ema must be in [0, 1) and freq_matching at least 0; got {c.g_ema} and {c.freq_matching}.")
        if c.critic_tau <= 0:
            raise ConfigError(f"critic_tau must be above 0; got {c.critic_tau}.")
        if not c.decoder_bias and c.output_bias == "frequency":
            raise ConfigError("output_bias=frequency needs the decoder's output bias; set decoder_bias to true or output_bias to zero.")

    # ---- networks -------------------------------------------------------------------------------
    def build(self):
        c = self.config
        k0, self.padded_ = geometry(self.n_codes_)
        norm = "group" if self.private else c.ae_norm
        self.encoder_ = Encoder(self.padded_, c.latent_dim, norm)
        self.decoder_ = Decoder(self.n_codes_, k0, c.latent_dim, norm, self.output_noise_channels())
        self.generator_, self.critic_ = gd_networks(c.gd_arch, self.n_codes_, c.latent_dim, self.n_classes_, c.minibatch_averaging,
                                                    c.critic_features if self.kind_ == "continuous" else "none",
                                                    projection=self._projection())
        for net in self.nets():
            init_weights(net)
            net.to(self.device_)
        if c.ae_init == "pytorch":  # the released N(0, 0.02) start leaves the autoencoder stuck at the frequencies
            for m in list(self.encoder_.modules()) + list(self.decoder_.modules()):
                if isinstance(m, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
                    m.reset_parameters()
        if not c.decoder_bias:  # stays at zero: the released decoder ends in its last transposed conv
            self.decoder_.bias.requires_grad_(False)
        self.g_iters_ = 0
        self.ema_ = None
        if c.g_ema > 0:  # averaged copies of the generator path, for sampling
            self.ema_ = torch.nn.ModuleDict({"generator": copy.deepcopy(self.generator_),
                                             "decoder": copy.deepcopy(self.decoder_)}).requires_grad_(False)
        self.freq_ = None
        self.ae_private_ = self.critic_private_ = None

    def make_optimizers(self):
        c, wd = self.config, self.config.weight_decay
        return {
            "ae": adam(list(self.encoder_.parameters()) + list(self.decoder_.parameters()), lr=c.lr_ae, weight_decay=wd),
            "g": adam([
                {"params": self.generator_.parameters(), "lr": self._auto("lr", c.lr_g)},
                {"params": self.decoder_.parameters(), "lr": self._auto("lr", c.lr_decoder)},
            ], betas=(c.adam_beta1, 0.999), weight_decay=wd),
            "d": adam(self.critic_.parameters(), lr=self._auto("lr", c.lr_d), betas=(c.adam_beta1, 0.999), weight_decay=wd),
        }

    def _auto(self, name, value):
        """``value`` as set, or where it is 0 (auto) ``AUTO_BY_KIND[name]`` for the data's kind."""
        continuous, other = AUTO_BY_KIND[name]
        return value or (continuous if self.kind_ == "continuous" else other)

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
        bs, ae_bs = min(c.batch_size, n), min(c.ae_batch_size, n)
        return [(ae_bs, dp.planned_steps(c.pretrain_epochs, n, ae_bs)), (bs, dp.planned_steps(c.epochs, n, bs))]

    def make_private(self):
        bs = min(self.config.batch_size, len(self.data_))
        self.ae_ = torch.nn.ModuleDict({"encoder": self.encoder_, "decoder": self.decoder_})
        self.ae_private_ = dp.PrivateUpdate(self.ae_, self.opt_ae_, self.budget_, self._ae_batch_size())
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

    def _projection(self) -> bool:
        c = self.config.critic_conditioning
        return c == "projection" or (c == "auto" and self.kind_ == "continuous")

    def nets(self):
        return [self.encoder_, self.decoder_, self.generator_, self.critic_]

    def phases(self):
        return [Phase("pretrain", self.config.pretrain_epochs, "Autoencoder pretraining", samples=False),
                Phase("gan", self.config.epochs, "GAN training")]

    def run_epoch(self, phase, epoch):
        return self._pretrain_epoch(epoch) if phase == "pretrain" else self._gan_epoch()

    # ---- state and sampling -------------------------------------------------------------------
    def model_state(self):
        return {
            "nets": {k: v.state_dict() for k, v in zip(("encoder", "decoder", "generator", "critic"), self.nets())},
            "g_iters": self.g_iters_, "ema": self.ema_.state_dict() if self.ema_ is not None else None,
        }

    def load_model_state(self, state):
        for k, net in zip(("encoder", "decoder", "generator", "critic"), self.nets()):
            net.load_state_dict(state["nets"][k])
        self.g_iters_ = int(state.get("g_iters", 0))
        if self.ema_ is not None and state.get("ema") is not None:
            self.ema_.load_state_dict(state["ema"])

    def decode_noise(self, z, y):
        gen, dec = self.generator_, self.decoder_
        if self.ema_ is not None and self.g_iters_ > 0:
            gen, dec = self.ema_["generator"], self.ema_["decoder"]
        gen.eval(), dec.eval()
        return self.activate(self._decode(gen, dec, z, y))

