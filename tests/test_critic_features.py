"""corGAN's critic features for continuous rows (critic_features=spectrum, issue 16).

The features are differentiable (the generator's gradient and the gradient penalty reach the
row), keep the class-conditioning contract, tell real EEG rows from column-shuffled ones, are never
used on binary data, and a short real training on Epileptic Seizure rows runs with them on.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from conftest import require_data
from corgan_core.data import load
from corgan_core.errors import ConfigError
from corgan_core.models import from_checkpoint, make_model
from corgan_core.models.corgan_nets import MLPCritic, gd_networks, init_weights
from corgan_core.models.critic_features import FeatureCritic, SpectrumFeatures
from corgan_core.training import train


@pytest.fixture(scope="module")
def seizure():
    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f).with_label_column()
    X = ds.dense()
    rows = np.random.default_rng(0).permutation(len(X))[:600]  # the file is ordered by class
    return ds, X[rows]


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("n_classes", [0, 2])
def test_features_are_differentiable_twice_and_read_only_the_codes(arch, n_classes):
    torch.manual_seed(0)
    _, critic = gd_networks(arch, 178, 128, n_classes, False, "spectrum")
    init_weights(critic)
    assert isinstance(critic, FeatureCritic)
    x = torch.randn(6, 178 + n_classes, requires_grad=True)
    out = critic(x)
    assert out.shape == (6,)
    grad, = torch.autograd.grad(out.sum(), x, create_graph=True)
    assert grad[:, :178].abs().sum() > 0  # the gradient reaches every row's codes
    (grad.norm(2, dim=1) ** 2).mean().backward()  # WGAN-GP differentiates the gradient again
    weights = [p for n, p in critic.named_parameters() if n.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    # the features are computed on the codes only: the class columns reach the critic as they are
    feats = critic.features(x[:, :178])
    assert feats.shape == (6, critic.features.n_features)
    if n_classes:
        captured = {}
        critic.critic.register_forward_pre_hook(lambda m, a: captured.setdefault("x", a[0]))
        critic(x)
        np.testing.assert_array_equal(captured["x"][:, -n_classes:].detach(), x[:, -n_classes:].detach())
        np.testing.assert_allclose(captured["x"][:, 178:-n_classes].detach(), feats.detach(), rtol=1e-6)


def test_features_tell_real_eeg_rows_from_shuffled_ones(seizure):
    """Real EEG rows are smooth (neighbouring samples correlated): their roughness is far below that
    of the same values with the columns shuffled, and their power sits in the low bands."""
    _, X = seizure
    rows = torch.from_numpy(X[:, :-1]).float()
    rows = (rows - rows.mean(0)) / rows.std(0)
    shuffled = rows[:, torch.randperm(rows.shape[1], generator=torch.Generator().manual_seed(0))]
    f = SpectrumFeatures(rows.shape[1])
    real, fake = f(rows), f(shuffled)
    rough_real, rough_fake = real[:, -1].exp().median(), fake[:, -1].exp().median()
    assert rough_real < 0.6 < 1.2 < rough_fake, (rough_real, rough_fake)  # white noise: sqrt(2)
    assert real[:, 1].mean() > real[:, -5].mean() + 2  # lowest AC band vs highest band, log power


def test_binary_data_and_the_default_never_use_the_features():
    X = (np.random.default_rng(0).random((64, 30)) < 0.2).astype(np.float32)
    model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 1, "critic_features": "spectrum"})
    model.fit(X, seed=0, device="cpu")
    assert model.kind_ == "binary" and isinstance(model.critic_, MLPCritic)
    assert make_model("corgan").config.critic_features == "none"
    with pytest.raises(ConfigError):
        SpectrumFeatures(3)


def test_a_short_real_training_runs_with_the_features(seizure, tmp_path):
    ds, X = seizure
    model = make_model("corgan", {"epochs": 3, "pretrain_epochs": 1, "critic_features": "spectrum"})
    model.meta_ = {"codes": list(ds.codes), "label": "y"}
    events = list(train(model, X, kind="continuous", seed=0, device="cpu"))
    assert events[-1].type == "finished"
    assert isinstance(model.critic_, FeatureCritic) and model.n_classes_ == 2
    S = model.sample(200, seed=1)
    assert S.shape == (200, ds.n_codes) and np.isfinite(S).all()
    path = model.save(tmp_path / "m.pt")
    np.testing.assert_array_equal(from_checkpoint(torch.load(path, weights_only=True)).sample(20, seed=2),
                                  model.sample(20, seed=2))
