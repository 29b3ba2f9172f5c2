"""The binary draws corGAN's critic reads (corgan_core.models.draws).

Both estimators draw exact Bernoulli(p) records in the forward pass; plain straight-through hands
every draw the gradient of p, the Gumbel one the gradient of the binary-concrete relaxation of the
very draw it made (largest near the draw's threshold, scaled by 1/tau).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from corgan_core.errors import ConfigError
from corgan_core.models import make_model
from corgan_core.models.draws import gumbel_straight_through, straight_through

P = torch.tensor([0.002, 0.03, 0.3, 0.5, 0.9])


@pytest.mark.parametrize("draw", [straight_through, lambda p: gumbel_straight_through(p, 0.5)], ids=["st", "gumbel"])
def test_forward_draws_are_binary_with_the_asked_probabilities(draw):
    torch.manual_seed(0)
    n = 200_000
    out = draw(P.expand(n, -1).clone())
    assert set(torch.unique(out).tolist()) <= {0.0, 1.0}
    mean, se = out.mean(0).numpy(), np.sqrt(P.numpy() * (1 - P.numpy()) / n)
    assert (np.abs(mean - P.numpy()) < 5 * se).all(), (mean, P)


@pytest.mark.parametrize("tau", [0.25, 0.5, 1.0])
def test_gumbel_gradient_is_the_relaxation_of_the_draw_made(tau):
    """d out / d p = sigma'(s) / (tau p (1 - p)) with s = (logit p + L) / tau for the draw's own noise L:
    recomputed from the same random stream, and largest where s is near 0 (the draw nearly flipped)."""
    p = P.expand(4000, -1).clone().requires_grad_()
    torch.manual_seed(3)
    out = gumbel_straight_through(p, tau)
    out.sum().backward()
    torch.manual_seed(3)
    u = torch.rand_like(p).clamp_(1e-6, 1 - 1e-6)
    s = (torch.logit(p.detach()) + u.log() - torch.log1p(-u)) / tau
    pd = p.detach()
    expected = torch.sigmoid(s) * (1 - torch.sigmoid(s)) / (tau * pd * (1 - pd))
    torch.testing.assert_close(p.grad, expected, rtol=1e-3, atol=1e-5)
    assert torch.equal(out.detach(), (s > 0).float())  # the draw and its gradient share one noise
    per_logit = p.grad * pd * (1 - pd)  # the gradient with respect to the logit: sigma'(s) / tau
    near, far = s.abs() < 0.5, s.abs() > 3
    assert per_logit[near].mean() > 5 * per_logit[far].mean()
    # plain straight-through: the same gradient (1) for every draw of every probability
    q = P.expand(50, -1).clone().requires_grad_()
    straight_through(q).sum().backward()
    assert torch.equal(q.grad, torch.ones_like(q))


def test_critic_tau_must_be_positive_and_gumbel_trains():
    with pytest.raises(ConfigError, match="critic_tau must be above 0"):
        make_model("corgan", {"critic_input": "gumbel", "critic_tau": 0.0}).validate()
    X = (np.random.default_rng(0).random((120, 9)) < 0.3).astype(np.float32)
    model = make_model("corgan", {"critic_input": "gumbel", "epochs": 2, "pretrain_epochs": 0}).fit(X, seed=0)
    S = model.sample(500, seed=1)
    assert set(np.unique(S)) <= {0.0, 1.0} and abs(S.mean() - X.mean()) < 0.1


def test_default_binary_corgan_feeds_its_critic_gumbel_draws_and_an_older_run_keeps_its_choice(monkeypatch):
    from corgan_core.models import draws

    calls = {"gumbel": 0, "straight": 0}

    def counted(name, fn):
        def wrapper(*args):
            calls[name] += 1
            out = fn(*args)
            assert torch.equal(out.detach(), out.detach().round())  # the critic sees exact 0/1 records
            return out
        return wrapper

    monkeypatch.setattr(draws, "gumbel_straight_through", counted("gumbel", gumbel_straight_through))
    monkeypatch.setattr(draws, "straight_through", counted("straight", straight_through))
    X = (np.random.default_rng(0).random((120, 9)) < 0.3).astype(np.float32)
    make_model("corgan", {"epochs": 1, "pretrain_epochs": 0}).fit(X, seed=0)
    assert calls["gumbel"] > 0 and calls["straight"] == 0
    # a run saved before 2026-12-04 stores critic_input=straight-through and trains on with it
    calls.update(gumbel=0, straight=0)
    make_model("corgan", {"critic_input": "straight-through", "epochs": 1, "pretrain_epochs": 0}).fit(X, seed=0)
    assert calls["straight"] > 0 and calls["gumbel"] == 0
