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

from .critic_features import FeatureCritic, wrap_critic
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
    return nn.BatchNorm1d(channels)


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


def _drop_if_absent(module: nn.Module, name: str, state_dict, prefix: str) -> None:
    """Turn the optional submodule ``name`` off (None) when ``state_dict`` has none of its keys: a
    checkpoint saved without it then loads and behaves as it did."""
    if getattr(module, name) is not None and not any(k.startswith(f"{prefix}{name}.") for k in state_dict):
        setattr(module, name, None)


class Decoder(nn.Module):
    """Code (N, latent) -> logits (N, n_codes). A per-code output bias (the code's log-odds at
    start, when asked) lets the convolutions model deviations from each code's frequency.
    ``noise_channels`` > 0 (real-valued continuous rows only) adds :class:`~.output_noise.OutputNoise`:
    ``forward(z, eps)`` then adds learned coloured noise made from ``eps`` (N, n_codes); without
    ``eps`` (autoencoder pretraining) the output is the deterministic part alone."""

    def __init__(self, n_codes: int, k0: int, latent: int = 128, norm: str = "batch", noise_channels: int = 0):
        super().__init__()
        self.n_codes = n_codes
        layers: list[nn.Module] = [nn.ConvTranspose1d(latent, 64, k0, 1), nn.ReLU()]
        for i, (cin, cout, k, s) in enumerate(DEC_TAIL):
            layers.append(nn.ConvTranspose1d(cin, cout, k, s))
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


class _Critic(nn.Module):
    """Base of the critics: a checkpoint without ``proj.*`` keys (saved before the class projection
    existed, or with ``critic_conditioning=concat``) turns the projection off, so it loads and
    scores as it did. Subclasses set ``self.proj`` (an ``nn.Linear`` or None) in ``__init__``."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        _drop_if_absent(self, "proj", state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class MLPCritic(_Critic):
    """Released critic: n -> 256 -> 256 -> 256 -> 1, ReLU, no sigmoid; optional minibatch averaging.
    With ``n_cond`` the last ``n_cond`` input columns are the row's one-hot class (``projection``:
    how many of them also enter a projection term, see :func:`_project`)."""

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, hidden: int = 256, n_cond: int = 0,
                 projection: int = 0):
        super().__init__()
        self.mba = minibatch_averaging
        n_in = 2 * (n_codes + n_cond) if minibatch_averaging else n_codes + n_cond
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1),
        )
        self.proj = nn.Linear(projection, hidden, bias=False) if projection else None

    def forward(self, x):
        inp = torch.cat([x, x.mean(0, keepdim=True).expand_as(x)], dim=1) if self.mba else x
        return _project(self.net, self.proj, inp, x)


def _project(seq: nn.Sequential, proj: nn.Linear | None, inp: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``seq(inp)``, plus with ``proj`` the projection term <proj(onehot), h> (Miyato & Koyama 2018)
    on the last hidden layer h, the one-hot being the last ``proj.in_features`` columns of ``x``.
    Why: a critic that only reads the class as 2 of 180 input columns let corGAN's rest-class EEG
    rows drift to twice the real amplitude after ~400 epochs; the projection gives the class its own
    direction in the critic's features. Zero-initialised so it starts as the plain critic."""
    if proj is None:
        return seq(inp).squeeze(1)
    h = inp
    for layer in list(seq)[:-1]:
        h = layer(h)
    return (seq[-1](h).squeeze(1) + (proj(x[:, -proj.in_features:]) * h).sum(1))


def _kaiming(module: nn.Module, slope: float = 0.2) -> None:
    """He init for LeakyReLU(``slope``) layers, zero biases: starts a convolutional net with a
    usable gradient (the released N(0, 0.02) left the conv critic's input-gradient at ~3e-4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=slope, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ConvCritic(_Critic):
    """The paper's 1-D convolutional critic over the code axis (ICD-ordered columns make
    neighbours related): strided Conv1d + LeakyReLU, flattened into a two-hidden-layer MLP head, so
    the output depends on every code (each conv feature sees ~160 neighbouring codes; the head
    relates features far apart, e.g. 250 and 401; one hidden layer learned a third as much in a
    critic-only probe). ``hybrid`` also feeds the raw codes to the head (conv + MLP critic). No
    normalisation: BatchNorm breaks the per-record gradient penalty and DP-SGD, and LayerNorm on
    sparse rows (most positions equal to the bias) blew the input-gradient up to ~300; Kaiming init
    starts it at ~0.25 (MLP critic: ~0.7). Minibatch averaging adds the batch mean as a second
    input channel; the row's one-hot class joins the head."""

    LAYERS = [(8, 7, 3), (16, 5, 3), (32, 5, 3), (32, 5, 2)]  # cout, kernel, stride (padding k // 2)

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, n_cond: int = 0, hidden: int = 256,
                 hybrid: bool = False, projection: int = 0):
        super().__init__()
        self.mba, self.n_codes, self.hybrid = minibatch_averaging, n_codes, hybrid
        layers: list[nn.Module] = []
        cin, length = (2 if minibatch_averaging else 1), n_codes
        for cout, k, s in self.LAYERS:
            layers += [nn.Conv1d(cin, cout, k, s, padding=k // 2), nn.LeakyReLU(0.2)]
            cin, length = cout, (length + 2 * (k // 2) - k) // s + 1
        self.features = nn.Sequential(*layers, nn.Flatten())
        n_in = cin * length + n_cond + (n_codes if hybrid else 0)
        self.head = nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                  nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
        self.proj = nn.Linear(projection, hidden, bias=False) if projection else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _kaiming(self)
        if self.proj is not None:
            nn.init.zeros_(self.proj.weight)

    def forward(self, rows):
        x, cond = rows[:, : self.n_codes], rows[:, self.n_codes:]
        h = x.unsqueeze(1)
        if self.mba:
            h = torch.cat([h, x.mean(0, keepdim=True).expand_as(x).unsqueeze(1)], dim=1)
        parts = [self.features(h), cond] + ([x] if self.hybrid else [])
        return _project(self.head, self.proj, torch.cat(parts, 1), rows)


class HybridCritic(ConvCritic):
    """Conv + MLP critic: the conv critic whose head also reads the raw codes."""

    def __init__(self, n_codes: int, minibatch_averaging: bool = False, n_cond: int = 0, projection: int = 0):
        super().__init__(n_codes, minibatch_averaging, n_cond, hybrid=True, projection=projection)


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
    "conv": (ConvGenerator, ConvCritic),  # as the paper describes: both convolutional
    "conv-critic": (Generator, ConvCritic),  # the ablation's middle step: conv critic, released generator
    "conv-hybrid": (ConvGenerator, HybridCritic),  # conv generator, conv + MLP critic
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
