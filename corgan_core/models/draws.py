"""Binary draws a critic can read and a generator can learn through (straight-through estimators)."""
from __future__ import annotations

import torch


def straight_through(p: torch.Tensor) -> torch.Tensor:
    """Bernoulli draws of ``p`` in the forward pass, the gradient of ``p`` in the backward pass."""
    hard = torch.bernoulli(p.detach())
    return hard + (p - p.detach())  # exactly the draw in the forward pass (no rounding)


def gumbel_straight_through(p: torch.Tensor, tau: float) -> torch.Tensor:
    """Bernoulli draws of ``p`` in the forward pass (logistic noise L: draw = logit(p) + L > 0), the
    gradient of the binary-concrete relaxation sigmoid((logit(p) + L) / tau) in the backward pass
    (Jang et al. 2017; Maddison et al. 2017). Why: plain straight-through hands every draw the same
    gradient dp, whatever it drew; this one is largest for the draws near their threshold."""
    u = torch.rand_like(p).clamp_(1e-6, 1 - 1e-6)
    s = (torch.logit(p, eps=1e-6) + torch.log(u) - torch.log1p(-u)) / tau
    soft = torch.sigmoid(s)
    return (s > 0).to(p.dtype) + (soft - soft.detach())


def critic_view(p: torch.Tensor, how: str, tau: float = 1.0) -> torch.Tensor:
    """What a critic reads of fake binary records with probabilities ``p``: ``straight-through``
    or ``gumbel`` draws, or ``soft`` (``p`` itself, as the released corGAN and medGAN did)."""
    if how == "straight-through":
        return straight_through(p)
    if how == "gumbel":
        return gumbel_straight_through(p, tau)
    return p
