"""corGAN's projection critic for labelled data (critic_conditioning=projection, issue 16).

The class projection starts at zero (the critic is then exactly the concat critic), makes the
critic's output depend on the class through its own learned vector, passes the gradient penalty's
double backward, is built only for labelled data, and a short real training on Epileptic Seizure
rows saves and restores with it. The default is now concat (with the 5 critic steps continuous rows
get, see test_corgan_auto_defaults.py); ``auto``, the earlier default, still projects for continuous rows.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from conftest import require_data
from corgan_core.data import load
from corgan_core.models import from_checkpoint, make_model
from corgan_core.models.corgan_nets import gd_networks, init_weights
from corgan_core.training import train


def _rows(n, n_codes=178, n_classes=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_codes, generator=g)
    y = torch.randint(0, n_classes, (n,), generator=g)
    return torch.cat([x, torch.nn.functional.one_hot(y, n_classes).float()], 1)


@pytest.mark.parametrize("arch", ["mlp", "conv", "conv-pure"])
@pytest.mark.parametrize("features", ["none", "spectrum"])
def test_projection_starts_as_the_concat_critic_and_then_reads_the_class(arch, features):
    torch.manual_seed(0)
    _, critic = gd_networks(arch, 178, 128, 2, False, features, projection=True)
    init_weights(critic)
    _, plain = gd_networks(arch, 178, 128, 2, False, features, projection=False)
    state = critic.state_dict()
    proj = [k for k in state if k.endswith("proj.weight")]
    assert len(proj) == 1 and state[proj[0]].shape == (256, 2) and not state[proj[0]].any()
    plain.load_state_dict({k: v for k, v in state.items() if k not in proj})
    x = _rows(16)
    torch.testing.assert_close(critic(x), plain(x))  # zero projection: exactly the concat critic
    with torch.no_grad():
        critic.get_parameter(proj[0]).normal_()
    swapped = x.clone()
    swapped[:, -2:] = x[:, -2:].flip(1)
    delta = (critic(x) - critic(swapped)).abs() - (plain(x) - plain(swapped)).abs()
    assert delta.abs().min() > 0  # the class now also moves the output through the projection
    x.requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    (grad.norm(2, dim=1) ** 2).mean().backward()  # WGAN-GP differentiates the gradient again
    assert critic.get_parameter(proj[0]).grad.abs().sum() > 0


def test_unlabelled_data_builds_no_projection():
    X = np.random.default_rng(0).normal(size=(64, 12)).astype(np.float32)
    model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, "critic_conditioning": "projection"})
    model.fit(X, seed=0, device="cpu")
    assert model.n_classes_ == 0 and getattr(model.critic_, "proj", None) is None


def test_a_short_real_training_with_the_projection_restores(tmp_path):
    f = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    ds = load(f).with_label_column()
    X = ds.dense()[np.random.default_rng(0).permutation(len(ds.dense()))[:600]]  # the file is ordered by class
    model = make_model("corgan", {"epochs": 3, "pretrain_epochs": 1, "critic_conditioning": "projection"})
    model.meta_ = {"codes": list(ds.codes), "label": "y"}
    events = list(train(model, X, kind="continuous", seed=0, device="cpu"))
    assert events[-1].type == "finished" and model.n_classes_ == 2
    assert model.critic_.proj is not None and model.critic_.proj.weight.abs().sum() > 0  # it learned
    S = model.sample(300, seed=1)
    assert S.shape == (300, ds.n_codes) and np.isfinite(S).all()
    assert 0.05 < np.mean(np.rint(S[:, -1]) == 1) < 0.4  # training share of seizure rows: about 0.2
    path = model.save(tmp_path / "m.pt")
    np.testing.assert_array_equal(from_checkpoint(torch.load(path, weights_only=True)).sample(20, seed=2),
                                  model.sample(20, seed=2))


def test_default_is_concat_auto_projects_continuous_rows_and_old_checkpoints_load(tmp_path):
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(80, 10)), rng.random(80) < 0.3].astype(np.float32)
    meta = {"codes": [f"c{i}" for i in range(11)], "label": "c10"}
    cont = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0})
    cont.meta_ = dict(meta)
    list(train(cont, X, kind="continuous", seed=0, device="cpu"))
    assert cont.config.critic_conditioning == "concat" and cont.n_classes_ == 2 and cont.critic_.proj is None
    auto = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, "critic_conditioning": "auto"})
    auto.meta_ = dict(meta)
    list(train(auto, X, kind="continuous", seed=0, device="cpu"))
    assert auto.critic_.proj is not None  # runs saved with the earlier default resume with their projection
    np.testing.assert_array_equal(from_checkpoint(torch.load(auto.save(tmp_path / "auto.pt"), weights_only=True)).sample(20, seed=1),
                                  auto.sample(20, seed=1))
    B = (rng.random((80, 11)) < 0.3).astype(np.float32)
    binary = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, "critic_conditioning": "auto"})
    binary.meta_ = dict(meta)
    list(train(binary, B, kind="binary", seed=0, device="cpu"))
    assert binary.n_classes_ == 2 and binary.critic_.proj is None
    # a checkpoint from before the projection existed (no critic_conditioning in its config, no
    # proj.* keys) restores under the new default and samples exactly as the model that saved it
    saved = torch.load(cont.save(tmp_path / "old.pt"), weights_only=True)
    del saved["config"]["critic_conditioning"]
    assert not any(k.endswith("proj.weight") for k in _keys(saved["state"]))
    restored = from_checkpoint(saved)
    assert restored.config.critic_conditioning == "concat" and restored.critic_.proj is None
    np.testing.assert_array_equal(restored.sample(30, seed=3), cont.sample(30, seed=3))


def _keys(tree, prefix=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _keys(v, f"{prefix}{k}.")
    else:
        yield prefix.rstrip(".")
