"""corGAN's learned output noise for real-valued continuous rows (issue 16; output_noise.py).

The decoder alone is too smooth for EEG rows (a converged autoencoder's reconstructions are told
from the real rows at discriminator AUROC 0.904); the output noise adds a learned, coloured,
row-scaled part. Checked here: it is additive and absent from autoencoder pretraining; binary,
count and min-max rows never get it (their networks, noise draws and samples are unchanged); a
decoder state from before the noise loads and samples without it. (The behaviour on the real Epileptic Seizure rows, smoothness moved toward
the real, is checked in test_continuous_models.py, which trains corGAN there once for both tests.)
"""
from __future__ import annotations

import numpy as np
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from corgan_core.models import make_model
from corgan_core.models.corgan_nets import Decoder, geometry
from corgan_core.training import train


def test_decoder_noise_is_additive_and_off_without_eps():
    torch.manual_seed(0)
    k0, _ = geometry(178)
    dec = Decoder(178, k0, 128, "group", noise_channels=4).eval()
    z, eps = torch.randn(64, 128), torch.randn(64, 178)
    with torch.no_grad():
        plain, noisy = dec(z), dec(z, eps)
        np.testing.assert_allclose((noisy - plain).numpy(), dec.noise(z, eps).numpy(), atol=1e-5)
        added = (noisy - plain).std().item()
    assert 0.02 < added < 0.5, added  # starts small next to the rows' unit SD (gain 0.1 per channel)
    # a state written without the noise (an older checkpoint) loads strictly and turns it off
    old = Decoder(178, k0, 128, "group").state_dict()
    dec.load_state_dict(old)
    assert dec.noise is None
    with torch.no_grad():
        np.testing.assert_array_equal(dec(z, eps).numpy(), dec(z).numpy())


def test_binary_count_and_minmax_rows_get_no_output_noise():
    rng = np.random.default_rng(0)
    B = (rng.random((200, 30)) < 0.2).astype(np.float32)
    C = rng.random((200, 30)).astype(np.float32)
    for X, kind, over in ((B, "binary", {}), (np.rint(C * 5), "count", {}),
                          (C, "continuous", {"continuous_transform": "minmax"}),
                          (C, "continuous", {"output_noise": 0})):
        model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, **over})
        list(train(model, X, kind=kind, seed=0, device="cpu"))
        assert model.decoder_.noise is None and model.noise_dim() == model.config.latent_dim, (kind, over)
    model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0})
    list(train(model, C, kind="continuous", seed=0, device="cpu"))
    assert model.decoder_.noise is not None and model.noise_dim() == model.config.latent_dim + 30
