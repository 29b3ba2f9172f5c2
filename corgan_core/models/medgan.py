"""medGAN (Choi et al. 2017, GitHub mp2893/medgan): a pretrained autoencoder, and a GAN whose
generator output goes through the (fine-tuned) decoder.

The networks are the original's: a linear autoencoder (n_codes -> 128 tanh -> n_codes; sigmoid
output for binary data, ReLU for counts, which come out rounded to non-negative integers), a
generator of 3 residual layers of 128 (BatchNorm, ReLU, the last tanh) on z in R^128, and a
discriminator n -> 256 -> 128 -> 1 (optionally with minibatch averaging: each record next to the
batch mean). L2 0.001 on every network (Adam weight decay), Glorot-uniform init.

``PRESETS["faithful"]`` is the original code's configuration: BCE loss (non-saturating generator
loss), the decoder's soft probabilities as the discriminator's input, minibatch averaging, 2 D steps
per G step at batch 1000, lr 1e-3, BatchNorm in inference mode while making the fakes of a D step,
100 pretraining epochs at batch 100, 1000 BatchNorm burn-in batches before generating, threshold
at 0.5. On Diabetes 130-US its discriminator wins within the first epochs (BENCHMARKS.md).

The default keeps the architecture and the pretrained autoencoder but trains the GAN the way that
learned in the benchmark: a WGAN-GP critic (no minibatch averaging) fed straight-through Bernoulli
draws of the fake records (a soft record is told from a binary one by its values alone), lr 5e-4,
Adam beta1 0.5, batch 256, BatchNorm in training mode for the D steps' fakes too (the running
statistics lag the generator), an exponential moving average of the generator and decoder weights
for sampling, the burn-in before sampling, and a light frequency-matching penalty on the generator.

Differential privacy (``dp_epsilon`` or ``dp_noise_multiplier``): DP-SGD on the parts that read real
records, the autoencoder pretraining and the discriminator, with one Opacus accountant. The
generator and the decoder's fine-tuning only see the discriminator, so they are post-processing.
With DP on, minibatch averaging is refused (it mixes records), pretraining runs its fixed number of
epochs (no validation rows), and the output bias starts from a data-independent prior. Not
covered: the data's shape and, for count/continuous data, each column's range (treated as public).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from . import dp
from .base import Phase, option
from .medgan_nets import MedGANAutoencoder, MedGANDiscriminator, MedGANGenerator, WeightAverage, bn_burn_in, glorot_init
from .medgan_steps import MedGANSteps
from .neural import NeuralModel, NeuralOptions
from .optimizers import adam

DP_COVERS = ("the autoencoder pretraining and the discriminator (the generator and the decoder's "
             "fine-tuning only see the discriminator, so they are post-processing)")
_DP = dp.dp_fields(DP_COVERS)


@dataclass(frozen=True)
class MedGANConfig(NeuralOptions):
    """medGAN settings; every field is a CLI option. ``PRESETS["faithful"]`` is the original code;
    the defaults are the configuration that learned on Diabetes 130-US (module docstring)."""

    epochs: int = option(1000, "GAN epochs (cap; one epoch = n / batch_size generator steps).", minimum=0)
    pretrain_epochs: int = option(100, "Autoencoder pretraining epochs (cap; stops once the validation loss stops improving).", minimum=0)
    pretrain_patience: int = option(5, "Stop pretraining after this many epochs without validation improvement (0 = never stop early).")
    val_fraction: float = option(0.1, "Share of training rows held back to stop autoencoder pretraining.")
    batch_size: int = option(256, "GAN rows per batch (1000 in medGAN) (capped at the number of training rows).", minimum=2)
    ae_batch_size: int = option(100, "Autoencoder pretraining rows per batch.", minimum=2)
    latent_dim: int = option(128, "Size of the noise vector, the generator's layers and the autoencoder's code.", minimum=1)
    disc_steps: int = option(2, "Discriminator steps per generator step.", minimum=1)
    lr: float = option(5e-4, "Adam learning rate of the autoencoder, the generator and (unless lr_d is set) the discriminator (1e-3 in medGAN).")
    lr_d: float = option(0.0, "Discriminator learning rate (0 = lr).", minimum=0)
    adam_beta1: float = option(0.5, "Adam beta1 of the generator and the discriminator (0.9 as in medGAN; 0.5 is usual for WGAN-GP).")
    loss: str = option("wgan-gp", "GAN loss: bce (as in medGAN: sigmoid discriminator, non-saturating generator loss) or wgan-gp (Wasserstein critic with a gradient penalty).", ("bce", "wgan-gp"))
    gp_lambda: float = option(10.0, "Gradient penalty weight (loss=wgan-gp).", minimum=0)
    freq_matching: float = option(0.3, "Weight of a generator penalty: KL divergence between the training codes' frequencies and the fake batch's mean probabilities (binary data; keeps codes per patient on target; 0 = off, as in medGAN; off under DP unless marginals=noisy).", minimum=0)
    l2: float = option(1e-3, "L2 regularisation (Adam weight decay) of every network.")
    minibatch_averaging: bool = option(False, "The discriminator sees each record next to the batch mean (as in medGAN).")
    disc_input: str = option("straight-through", "What the discriminator sees of a fake binary record: the decoder's soft probabilities (as in medGAN) or straight-through Bernoulli draws.", ("soft", "straight-through"))
    binary_output: str = option("bernoulli", "Binary samples: bernoulli draws from the decoder's probabilities, or threshold at 0.5 (as in medGAN).", ("bernoulli", "threshold"))
    output_bias: str = option("frequency", "Start the decoder's per-code output bias at each code's log-odds (frequency) or at zero (as in medGAN).", ("frequency", "zero"))
    d_step_bn: str = option("training", "The generator's BatchNorm while it makes fakes for a discriminator step: inference (running statistics, as in medGAN) or training (batch statistics).", ("inference", "training"))
    bn_burn_in: int = option(1000, "Before sampling, run this many batches of 100 noise vectors through a copy of the generator in training mode, so its BatchNorm statistics are those of the final generator (1000, as in medGAN's generate step; 0 = off).", minimum=0)
    init: str = option("glorot", "Weight initialisation: glorot (uniform weights, zero biases: TensorFlow's default, which medGAN's code relies on) or pytorch (PyTorch's default).", ("glorot", "pytorch"))
    g_ema: float = option(0.999, "Sample from an exponential moving average of the generator and decoder weights with this decay per generator step (e.g. 0.999; 0 = off: the last weights, as in medGAN).")
    dp_epsilon: float = option(0.0, _DP["dp_epsilon"])
    dp_noise_multiplier: float = option(0.0, _DP["dp_noise_multiplier"])
    dp_max_grad_norm: float = option(1.0, _DP["dp_max_grad_norm"])
    dp_delta: float = option(0.0, _DP["dp_delta"])
    dp_accountant: str = option("rdp", _DP["dp_accountant"], dp.ACCOUNTANTS)


PRESETS = {
    "default": {},
    # mp2893/medgan as released, spelled out in full so that changes to the defaults never move it:
    # soft discriminator input, BN in inference mode for D steps, 1000 burn-in batches before
    # generating, 100 pretraining epochs at batch 100 (no early stopping), Glorot init, zero output
    # bias, threshold at 0.5, last weights. Counts: ReLU output, rounded (always so here).
    "faithful": dict(
        epochs=1000, pretrain_epochs=100, pretrain_patience=0, batch_size=1000, ae_batch_size=100, latent_dim=128,
        disc_steps=2, lr=1e-3, l2=1e-3, minibatch_averaging=True, disc_input="soft", binary_output="threshold",
        output_bias="zero", d_step_bn="inference", bn_burn_in=1000, init="glorot", g_ema=0.0, conditional=False,
        loss="bce", lr_d=0.0, adam_beta1=0.9, freq_matching=0.0,
    ),
}


class MedGAN(MedGANSteps, NeuralModel):
    """medGAN baseline (spec: "Baselines"); ``PRESETS["faithful"]`` is the original code."""

    name = "medgan"
    Config = MedGANConfig
    DP_COVERS = DP_COVERS

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.config.g_ema < 1.0:
            raise ConfigError(f"g_ema must be in [0, 1); got {self.config.g_ema}.")

    def build(self):
        c = self.config
        self.ae_ = MedGANAutoencoder(self.n_codes_, c.latent_dim).to(self.device_)
        self.generator_ = MedGANGenerator(c.latent_dim, n_classes=self.n_classes_).to(self.device_)
        self.disc_ = MedGANDiscriminator(self.n_codes_, c.minibatch_averaging, self.n_classes_).to(self.device_)
        if c.init == "glorot":
            glorot_init(self.ae_, self.generator_, self.disc_)
        self.g_iters_ = 0
        self.ema_ = WeightAverage(self._g_path(), c.g_ema) if c.g_ema > 0 else None
        self.sampler_ = None
        self.ae_private_ = self.d_private_ = None

    def make_optimizers(self):
        c, betas = self.config, (self.config.adam_beta1, 0.999)
        return {"ae": adam(self.ae_.parameters(), lr=c.lr, weight_decay=c.l2),
                "g": adam(list(self.generator_.parameters()) + list(self.ae_.dec.parameters()),
                          lr=c.lr, betas=betas, weight_decay=c.l2),
                "d": adam(self.disc_.parameters(), lr=c.lr_d or c.lr, betas=betas, weight_decay=c.l2)}

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
        self.freq_ = None
        if self._fits_freq():
            f = self.features(self.data_).mean(0) if self.noisy_freq_ is None else torch.from_numpy(self.noisy_freq_)
            self.freq_ = f.float().clamp(1e-6, 1 - 1e-6).to(self.device_)
        self.meta_["privacy"] = self.privacy_info()

    def _fits_freq(self) -> bool:
        """The frequency-matching penalty is on: binary data, and exact marginals only without DP."""
        noisy = getattr(self, "noisy_freq_", None) is not None
        return self.config.freq_matching > 0 and self.kind_ == "binary" and (not self.private or noisy)

    def marginal_reads(self):
        return super().marginal_reads() + (["the frequency-matching penalty"] if self._fits_freq() else [])

    def phases(self):
        return [Phase("pretrain", self.config.pretrain_epochs, "Autoencoder pretraining", samples=False),
                Phase("gan", self.config.epochs, "GAN training")]

    # ---- pieces ---------------------------------------------------------------------------------
    def activate(self, raw):
        """ReLU for counts (as in medGAN), otherwise the shared output (sigmoid or real values)."""
        return torch.relu(raw) if self.kind_ == "count" else super().activate(raw)

    # ---- state and sampling ---------------------------------------------------------------------
    def model_state(self):
        return {"nets": {"ae": self.ae_.state_dict(), "generator": self.generator_.state_dict(),
                         "disc": self.disc_.state_dict()},
                "g_iters": self.g_iters_, "ema": self.ema_.state_dict() if self.ema_ is not None else None}

    def load_model_state(self, state):
        self.ae_.load_state_dict(state["nets"]["ae"])
        self.generator_.load_state_dict(state["nets"]["generator"])
        self.disc_.load_state_dict(state["nets"]["disc"])
        self.g_iters_ = int(state.get("g_iters", 0))
        if self.ema_ is not None and state.get("ema") is not None:
            self.ema_.load_state_dict(state["ema"])

    def _sampling_nets(self, generator: torch.Generator):
        """(generator, autoencoder) to sample from, in inference mode: the weight average once the
        GAN has stepped, and with ``bn_burn_in``, a copy of the generator whose BatchNorm statistics
        were re-estimated on its own batches (so sampling leaves the model unchanged)."""
        path = self.ema_ if self.ema_ is not None and self.g_iters_ > 0 else self._g_path()
        gen, ae = path["generator"], path["ae"]
        if self.config.bn_burn_in:
            shares = None if not self.n_classes_ else torch.as_tensor(self.label_["shares"], dtype=torch.float64)
            gen = bn_burn_in(gen, self.config.bn_burn_in, self.noise_dim(), shares, generator, self.device_)
        return gen.eval(), ae.eval()

    def sparse_sample_is_sample(self):
        return False  # the BatchNorm burn-in draws noise at every generation call (base.sample_sparse)

    @torch.no_grad()
    def _generate_rows(self, n, generator):
        self.sampler_ = self._sampling_nets(generator)
        try:
            return super()._generate_rows(n, generator)
        finally:
            self.sampler_ = None

    def decode_noise(self, z, y):
        gen, ae = self.sampler_ if self.sampler_ is not None else self._sampling_nets(torch.Generator())
        out = self.activate(ae.decode_raw(gen(z, y)))
        return out if self.scaler_.real_valued else out.clamp(0, 1)
