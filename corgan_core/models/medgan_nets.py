"""medGAN's networks (mp2893/medgan's shapes), its TensorFlow-style initialisation and a weight average.

Kept apart from :mod:`.medgan` so the model file holds the training logic only.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .corgan_nets import ClassEmbedding


class MedGANGenerator(nn.Module):
    """3 residual layers of ``dim``: BatchNorm (decay 0.99), ReLU, the last tanh."""

    def __init__(self, dim: int = 128, layers: int = 3, n_classes: int = 0):
        super().__init__()
        self.cond = ClassEmbedding(n_classes, dim)
        self.linears = nn.ModuleList(nn.Linear(dim, dim, bias=False) for _ in range(layers))
        # TF's decay 0.99 is PyTorch's momentum 0.01; epsilon as in tf.contrib.layers.batch_norm
        self.norms = nn.ModuleList(nn.BatchNorm1d(dim, eps=1e-3, momentum=0.01) for _ in range(layers))

    def forward(self, z, y=None):
        h = self.cond(z, y)
        for i, (lin, bn) in enumerate(zip(self.linears, self.norms)):
            act = torch.tanh if i == len(self.linears) - 1 else torch.relu
            h = act(bn(lin(h))) + h
        return h


class MedGANDiscriminator(nn.Module):
    """n (2n with minibatch averaging) -> 256 -> 128 -> 1 logit (the sigmoid is in the BCE)."""

    def __init__(self, n_codes: int, minibatch_averaging: bool = True, n_cond: int = 0):
        super().__init__()
        self.mba = minibatch_averaging
        n_in = n_codes + n_cond  # the last n_cond columns: the row's one-hot class
        self.net = nn.Sequential(nn.Linear(2 * n_in if minibatch_averaging else n_in, 256), nn.ReLU(),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1))

    def forward(self, x):
        if self.mba:
            x = torch.cat([x, x.mean(0, keepdim=True).expand_as(x)], dim=1)
        return self.net(x).squeeze(1)


class MedGANAutoencoder(nn.Module):
    """Linear autoencoder n -> ``dim`` (tanh) -> n (pre-activation; the model applies the output)."""

    def __init__(self, n_codes: int, dim: int = 128):
        super().__init__()
        self.enc, self.dec = nn.Linear(n_codes, dim), nn.Linear(dim, n_codes)

    def encode(self, x):
        return torch.tanh(self.enc(x))

    def decode_raw(self, h):
        return self.dec(h)

    def forward(self, x):
        return self.decode_raw(self.encode(x))


def glorot_init(*nets: nn.Module) -> None:
    """TensorFlow's ``tf.get_variable`` default, which medGAN's code relies on: Glorot-uniform
    weights and zero biases for every linear layer (BatchNorm keeps scale 1, shift 0)."""
    for net in nets:
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's penalty: mean (||grad critic(x)|| - 1)^2 at random points between real and fake rows."""
    t = torch.rand(len(real), 1, device=real.device)
    mix = torch.lerp(fake, real, t).requires_grad_(True)
    g = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)[0]
    return (g.norm(2, dim=1) - 1).pow(2).mean()


def record_disc_loss(disc: nn.Module, loss: str, gp_lambda: float, params, r, f, t):
    """One record's discriminator loss, for per-record gradients (DP): the record against one fake,
    and for WGAN-GP the penalty at one point ``t`` of the way from the fake to it."""
    from torch.func import functional_call, grad

    def critic(ps, x):
        return functional_call(disc, ps, (x.unsqueeze(0),)).squeeze(0)

    if loss == "bce":  # -log D(real) - log(1 - D(fake))
        return F.softplus(-critic(params, r)) + F.softplus(critic(params, f))
    gp = (grad(critic, argnums=1)(params, torch.lerp(f, r, t)).norm(2) - 1) ** 2
    return critic(params, f) - critic(params, r) + gp_lambda * gp


def bernoulli_kl(f: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Sum over codes of KL(Bernoulli(f) || Bernoulli(q)): real frequencies ``f``, fake batch means ``q``."""
    q = q.clamp(1e-6, 1 - 1e-6)
    return (f * (f / q).log() + (1 - f) * ((1 - f) / (1 - q)).log()).sum()


BURN_IN_BATCH = 100  # rows per burn-in batch (medGAN's generate step: batchSize=100)


@torch.no_grad()
def bn_burn_in(gen: nn.Module, batches: int, dim: int, shares, generator: torch.Generator, device) -> nn.Module:
    """medGAN's generate step: a copy of ``gen`` whose BatchNorm running statistics were updated on
    ``batches`` batches of its own noise (classes drawn with ``shares`` when conditioned), in
    training mode; the original is left as it was."""
    gen = copy.deepcopy(gen).train()
    for _ in range(batches):
        z = torch.randn(BURN_IN_BATCH, dim, generator=generator).to(device)
        y = None if shares is None else torch.multinomial(shares, BURN_IN_BATCH, replacement=True,
                                                          generator=generator).to(device)
        gen(z, y)
    return gen


class WeightAverage(nn.Module):
    """An exponential moving average of some modules' parameters (buffers copied as they are).

    The average starts at the weights it is created from; its decay warms up as (1 + t) / (10 + t)
    towards ``decay``, so early steps are not dominated by the starting point."""

    def __init__(self, modules: dict[str, nn.Module], decay: float):
        super().__init__()
        self.avg = nn.ModuleDict({k: copy.deepcopy(m) for k, m in modules.items()}).requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, modules: dict[str, nn.Module], step: int) -> None:
        """Move the average towards ``modules``' current weights (``step`` counts updates from 0)."""
        keep = 0.0 if step == 0 else min(self.decay, (1 + step) / (10 + step))
        for name, live in modules.items():
            mine = self.avg[name]
            for a, w in zip(mine.parameters(), live.parameters()):
                a.mul_(keep).add_(w, alpha=1.0 - keep)
            for a, w in zip(mine.buffers(), live.buffers()):
                a.copy_(w)

    def __getitem__(self, name: str) -> nn.Module:
        return self.avg[name]
