"""corGAN's networks (spec: released code), generalised from 1,071 codes to any width.

The released decoder turns a 128-d code of length 1 into 1,071 columns through six transposed
convolutions. Its first kernel ``k0`` (5 as released) sets the output length: 1,071 + 192 (k0 - 5),
so ``k0`` is chosen as the smallest that covers the data's width. The input is zero-padded to that
length, and the decoder's output cropped back to the real codes; the encoder's last kernel equals
the length left after its strided layers, so it always ends at length 1 as released.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .corgan_critics import ConvCritic, HybridCritic, MLPCritic, _drop_if_absent, _kaiming  # noqa: F401 - re-exported
from .critic_features import FeatureCritic, wrap_critic
from .fast_conv import FastConvTranspose1d
from .fast_norm import FastBatchNorm1d
from .output_noise import OutputNoise

ENC = [(1, 4, 5, 2), (4, 8, 5, 2), (8, 16, 5, 3), (16, 32, 5, 3), (32, 64, 5, 3)]  # cin, cout, k, s
DEC_TAIL = [(64, 32, 5, 4), (32, 16, 7, 4), (16, 8, 7, 3), (8, 4, 7, 2), (4, 1, 3, 2)]


def decoder_length(k0: int) -> int:
    length = k0
    for _, _, k, s in DEC_TAIL:
        length = (length - 1) * s + k
    return length


def geometry(n_codes: int) -> tuple[int, int]:
    """(first decoder kernel, padded length) for ``n_codes`` columns."""
    k0 = max(1, 5 + math.ceil((n_codes - decoder_length(5)) / 192))
    while decoder_length(k0) < n_codes:  # guards the closed form
        k0 += 1
    return k0, decoder_length(k0)


def _enc_last_kernel(length: int) -> int:
    for _, _, k, s in ENC:
        length = (length - k) // s + 1
    return length


def norm1d(channels: int, norm: str) -> nn.Module:
    """BatchNorm as released, or GroupNorm (per record, so DP-SGD can clip per record)."""
    if norm == "group":
        return nn.GroupNorm(min(4, channels), channels)
    return FastBatchNorm1d(channels)


class Encoder(nn.Module):
    def __init__(self, padded: int, latent: int = 128, norm: str = "batch"):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (cin, cout, k, s) in enumerate(ENC):
            layers.append(nn.Conv1d(cin, cout, k, s))
            if i > 0:
                layers.append(norm1d(cout, norm))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Conv1d(64, latent, _enc_last_kernel(padded), 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):  # (N, padded) -> (N, latent)
        return self.net(x.unsqueeze(1)).squeeze(-1)


class Decoder(nn.Module):
    """Code (N, latent) -> logits (N, n_codes). A per-code output bias (the code's log-odds at
    start, when asked) lets the convolutions model deviations from each code's frequency.
    ``noise_channels`` > 0 (real-valued continuous rows only) adds :class:`~.output_noise.OutputNoise`:
    ``forward(z, eps)`` then adds learned coloured noise made from ``eps`` (N, n_codes); without
    ``eps`` (autoencoder pretraining) the output is the deterministic part alone."""

    def __init__(self, n_codes: int, k0: int, latent: int = 128, norm: str = "batch", noise_channels: int = 0):
        super().__init__()
        self.n_codes = n_codes
        layers: list[nn.Module] = [FastConvTranspose1d(latent, 64, k0, 1), nn.ReLU()]
        for i, (cin, cout, k, s) in enumerate(DEC_TAIL):
            layers.append(FastConvTranspose1d(cin, cout, k, s))
            if i < len(DEC_TAIL) - 1:
                layers += [norm1d(cout, norm), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.bias = nn.Parameter(torch.zeros(n_codes))
        self.noise = OutputNoise(latent, noise_channels) if noise_channels else None

    def forward(self, z, eps=None):
        out = self.net(z.unsqueeze(-1)).squeeze(1)[:, : self.n_codes] + self.bias
        return out if self.noise is None or eps is None else out + self.noise(z, eps)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # a checkpoint from before the output noise loads and samples as it did
        _drop_if_absent(self, "noise", state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class ClassEmbedding(nn.Module):
    """Adds a learned vector per class to the noise (class-conditional generation); no-op without classes."""

    def __init__(self, n_classes: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(n_classes, dim) if n_classes else None

    def forward(self, z, y=None):
        return z if self.embed is None or y is None else z + self.embed(y)


class Generator(nn.Module):
    """Released generator: two residual blocks on z in R^latent (BN eps 1e-3, momentum 0.01); with
    ``n_classes`` the class's embedding is added to z first."""

    def __init__(self, latent: int = 128, n_classes: int = 0):
        super().__init__()
        self.cond = ClassEmbedding(n_classes, latent)
        self.l1, self.b1 = nn.Linear(latent, latent), nn.BatchNorm1d(latent, eps=1e-3, momentum=0.01)
        self.l2, self.b2 = nn.Linear(latent, latent), nn.BatchNorm1d(latent, eps=1e-3, momentum=0.01)

    def forward(self, z, y=None):
        z = self.cond(z, y)
        h = torch.relu(self.b1(self.l1(z))) + z
        return torch.tanh(self.b2(self.l2(h))) + h


class ConvGenerator(nn.Module):
    """1-D convolutional generator (the paper's G): the noise z in R^latent is read as ``length``
    positions of latent/length channels, passes two residual blocks of Conv1d (kernel 3) with
    per-record GroupNorm, and comes out as the decoder's latent code (the released generator's
    residual form, tanh(.) + h, with convolutions for its linear layers). With ``n_classes`` the
    class's embedding is added to z first."""

    def __init__(self, latent: int = 128, n_classes: int = 0, hidden: int = 32):
        super().__init__()
        self.cond = ClassEmbedding(n_classes, latent)
        self.length = next(n for n in (16, 8, 4, 2, 1) if latent % n == 0)
        ch = latent // self.length

        def block(last: bool) -> nn.Sequential:
            return nn.Sequential(nn.Conv1d(ch, hidden, 3, padding=1), nn.GroupNorm(1, hidden), nn.LeakyReLU(0.2),
                                 nn.Conv1d(hidden, ch, 3, padding=1), *([] if last else [nn.GroupNorm(1, ch)]))

        self.b1, self.b2 = block(False), block(True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _kaiming(self)
        for m in self.modules():
            if isinstance(m, nn.GroupNorm):
                m.reset_parameters()

    def forward(self, z, y=None):
        z = self.cond(z, y)
        h = z.view(len(z), -1, self.length)
        h = torch.relu(self.b1(h)) + h
        return (torch.tanh(self.b2(h)) + h).flatten(1)


GD_ARCHS = {  # gd_arch -> (generator, critic)
    "mlp": (Generator, MLPCritic),  # as released
    "conv": (ConvGenerator, HybridCritic),  # the paper's conv G; conv critic with an MLP path on the raw codes
    "conv-pure": (ConvGenerator, ConvCritic),  # both purely convolutional (gd_arch=conv until 2026-12-04)
    "conv-critic": (Generator, ConvCritic),  # the ablation's middle step: pure conv critic, released generator
}


def gd_networks(arch: str, n_codes: int, latent: int, n_classes: int = 0, minibatch_averaging: bool = False,
                critic_features: str = "none", projection: bool = False):
    """(generator, critic) for ``gd_arch`` (a key of ``GD_ARCHS``). Contract: ``generator(z, y)``
    with ``y`` class indices or None returns the decoder's latent code; the critic reads rows whose
    last ``n_classes`` columns are the one-hot class. ``critic_features="spectrum"`` wraps the critic
    so that it also reads each row's spectral features (critic_features.py; continuous data only);
    ``projection`` adds the class projection term to the critic (conditioned data only)."""
    gen_cls, critic_cls = GD_ARCHS[arch]
    critic = wrap_critic(critic_features, critic_cls, n_codes, minibatch_averaging, n_classes,
                         n_classes if projection else 0)
    return gen_cls(latent, n_classes), critic


def init_weights(module: nn.Module) -> None:
    """Released init: conv N(0, 0.02), BatchNorm weight N(1, 0.02), Linear Xavier-uniform, bias 0.01.
    Networks with their own ``reset_parameters`` (the convolutional G and D) keep their init."""
    if isinstance(module, FeatureCritic):  # the wrapper has no weights: initialise its critic
        init_weights(module.critic)
        return
    if isinstance(module, (ConvCritic, ConvGenerator)):
        module.reset_parameters()
        return
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.01)
    if getattr(module, "proj", None) is not None:  # the class projection starts at zero: the plain critic
        nn.init.zeros_(module.proj.weight)
    for m in module.modules():  # the output noise keeps its own start (a small, equal gain)
        if isinstance(m, OutputNoise):
            m.reset_parameters()
