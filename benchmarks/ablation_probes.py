"""The ablation's probes that train no whole model: a critic alone against independent draws
(how much of the code pairs it sees) and the CPU cost of one GAN step per architecture."""
from __future__ import annotations

import time

import numpy as np

ARCHS = ("mlp", "conv-critic", "conv-pure", "conv")


def critic_wasserstein(critic, real: np.ndarray, steps: int = 150, seed: int = 0, lr: float = 5e-4) -> float:
    """Train ``critic`` (WGAN-GP, lambda 10, Adam(lr, 0.5, 0.999), batch 256) to tell ``real`` rows
    from independent Bernoulli draws with the same code frequencies, so only the pairs differ;
    returns its Wasserstein estimate (mean critic(real) - critic(fake)) on 8 fresh batches."""
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.from_numpy((np.asarray(real) > 0).astype(np.float32))
    freq = X.mean(0)
    opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))

    def batch():
        return X[torch.randint(len(X), (256,), generator=g)], (torch.rand(256, X.shape[1], generator=g) < freq).float()

    for _ in range(steps):
        r, f = batch()
        a = torch.rand(256, 1, generator=g)
        x = (a * r + (1 - a) * f).requires_grad_(True)
        grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        loss = critic(f).mean() - critic(r).mean() + 10 * ((grad.norm(dim=1) - 1) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(np.mean([float(critic(r).mean() - critic(f).mean()) for r, f in (batch() for _ in range(8))]))


def critic_probe(X, arch: str, seed: int, steps: int) -> dict:
    """The critic of ``arch`` alone (see :func:`critic_wasserstein`), with its CPU seconds."""
    import torch

    from corgan_core.models.corgan_nets import gd_networks, init_weights

    torch.manual_seed(seed)
    critic = gd_networks(arch, X.shape[1], 128)[1]
    init_weights(critic)
    c0 = time.process_time()
    w = critic_wasserstein(critic, X, steps, seed)
    return {"critic_w": round(w, 4), "critic_steps": steps, "cpu_s": round(time.process_time() - c0, 1)}


def step_times(X, steps: int, seed: int = 0) -> dict:
    """CPU seconds of one GAN step (critic steps + generator step) per architecture, on ``X``."""
    import torch

    from corgan_core.models import make_model

    out = {}
    for arch in ARCHS:
        model = make_model("corgan", {"gd_arch": arch, "pretrain_epochs": 0})
        model.setup(X, "binary", seed, "cpu")
        torch.manual_seed(seed)
        bs, gps = min(model.config.batch_size, len(model.data_)), []

        def step():
            for _ in range(model.config.critic_steps):
                model._critic_step(model.data_[torch.randint(len(model.data_), (bs,))], gps)
            model._generator_step()

        model.freq_kl_ = []
        for _ in range(3):  # warm-up (allocator, first-call overheads)
            step()
        c0 = time.process_time()
        for _ in range(steps):
            step()
        out[arch] = round((time.process_time() - c0) / steps * 1000, 2)
    for arch in ARCHS[1:]:
        out[f"ratio_{arch}_to_mlp"] = round(out[arch] / out["mlp"], 2)
    return out
