"""THE YARDSTICK: a plain PyTorch re-statement of the released corGAN training step (not our code).

Written from the spec's account of the released code (``../shared/spec/corgan.md``, "corGAN as
released"; GitHub astorfi/cor-gan, ``wgancnnmimic.py``), so that ``bench_speed.py`` can time our
``corgan:released`` step against it at equal work. It imports nothing from ``corgan_core`` on
purpose. What it keeps from the released code, because that is where its time goes:

* a per-row ``Dataset`` (``np.clip`` and ``torch.from_numpy`` per row) behind a ``DataLoader``
  with ``RandomSampler(replacement=True)``, batch 512, ``drop_last``, no workers;
* one generator step per real batch, all its critic steps (100 for the first 25 generator
  iterations and every 500th, else 5) on that batch;
* every critic step clamps each critic parameter in a Python loop first, then runs the real batch
  and the fake batch through the critic in two separate passes with two ``backward`` calls; the
  fake batch is generated with autograd on (then detached), as released;
* Adam lr 1e-3, betas (0.9, 0.999), weight decay 1e-4; the decoder fine-tuned with the generator
  at lr 1e-4; autoencoder pretraining with the released BCE (summed over codes, batch mean).

Only the equal-work bookkeeping is added (a counter of critic and generator steps).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler

LATENT = 128
ENC = [(1, 4, 5, 2), (4, 8, 5, 2), (8, 16, 5, 3), (16, 32, 5, 3), (32, 64, 5, 3), (64, 128, 8, 1)]
DEC = [(128, 64, 5, 1), (64, 32, 5, 4), (32, 16, 7, 4), (16, 8, 7, 3), (8, 4, 7, 2), (4, 1, 3, 2)]
N_CODES = 1071  # the released geometry is fixed to 1,071 codes


class RowDataset(torch.utils.data.Dataset):
    """The released per-row dataset: one numpy row at a time, clipped to [0, 1]."""

    def __init__(self, data: np.ndarray):
        self.data = data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return torch.from_numpy(np.clip(self.data[idx], 0, 1))


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        enc: list[nn.Module] = []
        for i, (cin, cout, k, s) in enumerate(ENC):
            enc.append(nn.Conv1d(cin, cout, k, s, padding=0))
            if 0 < i < len(ENC) - 1:
                enc.append(nn.BatchNorm1d(cout))
            enc.append(nn.Tanh() if i == len(ENC) - 1 else nn.LeakyReLU(0.2, inplace=True))
        dec: list[nn.Module] = []
        for i, (cin, cout, k, s) in enumerate(DEC):
            dec.append(nn.ConvTranspose1d(cin, cout, k, s, padding=0))
            if 0 < i < len(DEC) - 1:
                dec.append(nn.BatchNorm1d(cout))
            dec.append(nn.Sigmoid() if i == len(DEC) - 1 else nn.ReLU())
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def forward(self, x):
        return torch.squeeze(self.decoder(self.encoder(x.view(-1, 1, x.shape[1]))), dim=1)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1, self.bn1 = nn.Linear(LATENT, LATENT), nn.BatchNorm1d(LATENT, eps=0.001, momentum=0.01)
        self.linear2, self.bn2 = nn.Linear(LATENT, LATENT), nn.BatchNorm1d(LATENT, eps=0.001, momentum=0.01)

    def forward(self, x):
        out1 = torch.relu(self.bn1(self.linear1(x))) + x
        return torch.tanh(self.bn2(self.linear2(out1))) + out1


class Discriminator(nn.Module):
    def __init__(self, n_codes: int = N_CODES):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(n_codes, 256), nn.ReLU(True), nn.Linear(256, 256), nn.ReLU(True),
                                   nn.Linear(256, 256), nn.ReLU(True), nn.Linear(256, 1))

    def forward(self, x):
        return self.model(x)


def weights_init(m):
    """The released init: conv N(0, 0.02), BatchNorm weight N(1, 0.02), Linear Xavier, bias 0.01."""
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)
    elif name == "Linear":
        nn.init.xavier_uniform_(m.weight)
        m.bias.data.fill_(0.01)


def autoencoder_loss(x_output, y_target):
    """The released reconstruction loss: BCE summed over codes, averaged over the batch."""
    eps = 1e-12
    term = y_target * torch.log(x_output + eps) + (1.0 - y_target) * torch.log(1.0 - x_output + eps)
    return torch.mean(-torch.sum(term, 1), 0)


def decode(generator, decoder, z):
    return torch.squeeze(decoder(generator(z).unsqueeze(dim=2)))


class Released:
    """The released training loop's state; ``steps`` counts critic and generator steps."""

    def __init__(self, data: np.ndarray, batch_size: int = 512, seed: int = 0, n_iter_d: int = 5, clamp: float = 0.01):
        torch.manual_seed(seed)
        self.dataset = RowDataset(data.astype(np.float32, copy=False))
        self.loader = DataLoader(self.dataset, batch_size=batch_size, shuffle=False, num_workers=0, drop_last=True,
                                 sampler=RandomSampler(self.dataset, replacement=True))
        self.ae, self.gen, self.disc = Autoencoder(), Generator(), Discriminator(data.shape[1])
        for net in (self.ae, self.gen, self.disc):
            net.apply(weights_init)
        self.decoder = self.ae.decoder
        self.opt_g = torch.optim.Adam([{"params": self.gen.parameters()},
                                       {"params": self.decoder.parameters(), "lr": 1e-4}],
                                      lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)
        self.opt_a = torch.optim.Adam(self.ae.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-4)
        self.one, self.mone = torch.FloatTensor([1]), torch.FloatTensor([1]) * -1  # as released
        self.n_iter_d, self.clamp, self.gen_iterations = n_iter_d, clamp, 0
        self.steps = {"critic": 0, "generator": 0, "autoencoder": 0}

    # ---- the released steps, one by one ---------------------------------------------------------
    def ae_step(self, samples):
        real = samples.type(torch.FloatTensor)
        self.opt_a.zero_grad()
        a_loss = autoencoder_loss(self.ae(real), real)
        a_loss.backward()
        self.opt_a.step()
        self.steps["autoencoder"] += 1
        return a_loss

    def critic_step(self, real):
        for p in self.disc.parameters():
            p.data.clamp_(-self.clamp, self.clamp)
        self.opt_d.zero_grad()
        err_real = torch.mean(self.disc(real), dim=0)
        err_real.backward(self.one)
        z = torch.randn(real.shape[0], LATENT)
        fake = decode(self.gen, self.decoder, z)
        err_fake = torch.mean(self.disc(fake.detach()), dim=0)
        err_fake.backward(self.mone)
        err_d = -(err_real - err_fake)
        self.opt_d.step()
        self.steps["critic"] += 1
        return err_d

    def generator_step(self, batch_size: int):
        for p in self.disc.parameters():
            p.requires_grad = False
        self.opt_g.zero_grad()
        z = torch.randn(batch_size, LATENT)
        err_g = torch.mean(self.disc(decode(self.gen, self.decoder, z)), dim=0)
        err_g.backward(self.one)
        self.opt_g.step()
        self.gen_iterations += 1
        self.steps["generator"] += 1
        return err_g

    # ---- epochs, as the released loops run them ----------------------------------------------
    def pretrain_epoch(self):
        self.ae.train()
        for samples in self.loader:
            self.ae_step(samples)

    def gan_epoch(self):
        self.gen.train(), self.ae.train(), self.disc.train()
        for samples in self.loader:
            real = samples.type(torch.FloatTensor)
            for p in self.disc.parameters():
                p.requires_grad = True
            n_iter_d = 100 if self.gen_iterations < 25 or self.gen_iterations % 500 == 0 else self.n_iter_d
            for _ in range(n_iter_d):
                self.critic_step(real)
            self.generator_step(samples.shape[0])


# ---- released-style sampling, as its own process (bench_speed.py times it end to end) ---------
def save_state(rel: Released, path) -> None:
    """The released checkpoint's parts: the generator's and the autoencoder's state dicts."""
    torch.save({"Generator_state_dict": rel.gen.state_dict(), "Autoencoder_state_dict": rel.ae.state_dict(),
                "n_codes": rel.disc.model[0].in_features}, path)


def sample_main(state_path: str, out_path: str, n: int = 10_000, batch_size: int = 512) -> int:
    """Released generation: load the checkpoint, ``n // batch_size`` batches (19 x 512 = 9,728 of the
    10,000 asked) through generator + decoder into a dense buffer, threshold at 0.5, ``np.save``."""
    ckpt = torch.load(state_path, weights_only=True)
    gen, ae = Generator(), Autoencoder()
    gen.load_state_dict(ckpt["Generator_state_dict"])
    ae.load_state_dict(ckpt["Autoencoder_state_dict"])
    gen.eval(), ae.eval()
    gen_samples = np.zeros((n, int(ckpt["n_codes"])), dtype=np.float32)
    for i in range(n // batch_size):
        z = torch.randn(batch_size, LATENT)
        gen_samples[i * batch_size:(i + 1) * batch_size, :] = decode(gen, ae.decoder, z).cpu().data.numpy()
    gen_samples[gen_samples >= 0.5] = 1.0
    gen_samples[gen_samples < 0.5] = 0.0
    np.save(out_path, gen_samples, allow_pickle=False)
    return 0


if __name__ == "__main__":
    import sys

    if len(sys.argv) in (4, 5) and sys.argv[1] == "sample":
        torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
        raise SystemExit(sample_main(sys.argv[2], sys.argv[3], *(int(a) for a in sys.argv[4:])))
    raise SystemExit("usage: released_yardstick.py sample STATE.pt OUT.npy [N]")
