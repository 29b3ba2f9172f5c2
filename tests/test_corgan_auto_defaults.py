"""corGAN's per-kind auto defaults (``AUTO_BY_KIND``): 0 for ``critic_steps`` or a GAN learning
rate means the value measured for the data's kind; a value the user types is kept.
"""
from __future__ import annotations

import numpy as np
import pytest

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from step_log import count_epoch
from corgan_core.models import make_model
from corgan_core.training import train


@pytest.mark.parametrize("kind, critic_steps, expected", [("continuous", 0, 5), ("binary", 0, 2), ("continuous", 3, 3)])
def test_critic_steps_auto_is_five_for_continuous_rows_and_two_otherwise(kind, critic_steps, expected):
    """critic_steps=0 (the default) makes 5 critic steps per generator step on continuous rows (2
    let Epileptic Seizure's class amplitudes drift late in training) and 2 on binary rows; a value
    typed by the user is kept. Counted over one real GAN epoch."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12)).astype(np.float32) if kind == "continuous" else (rng.random((600, 12)) < 0.3).astype(np.float32)
    model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, "batch_size": 50, "critic_steps": critic_steps})
    assert model.config.critic_steps == critic_steps
    model.setup(X, kind, 0, "cpu")
    log, _ = count_epoch(model, 0)
    runs = "".join(k for k, _ in log).split("g")[:-1]
    # the epoch's last generator step may follow fewer critic steps: the critic batches ran out
    assert len(runs) >= 3 and all(r == "d" * expected for r in runs[:-1]) and 0 < len(runs[-1]) <= expected, runs


@pytest.mark.parametrize("kind, set_lr, expected", [("binary", 0.0, 2.5e-4), ("count", 0.0, 2.5e-4),
                                                     ("continuous", 0.0, 5e-4), ("binary", 1e-3, 1e-3)])
def test_gan_learning_rates_auto_follow_the_kind_and_a_set_rate_is_kept(kind, set_lr, expected):
    """lr_g, lr_d and lr_decoder default to 0 = auto: 2.5e-4 on binary and count rows (it lifted
    Diabetes 130-US's co-occurrence plateau), 5e-4 on continuous rows (issue 16's measured rate);
    the optimisers the training steps use carry exactly that rate, and a typed rate is kept."""
    rng = np.random.default_rng(0)
    X = {"binary": (rng.random((60, 12)) < 0.3), "count": rng.poisson(1.0, (60, 12)),
         "continuous": rng.normal(size=(60, 12))}[kind].astype(np.float32)
    model = make_model("corgan", {"epochs": 1, "pretrain_epochs": 0, "lr_g": set_lr, "lr_d": set_lr, "lr_decoder": set_lr})
    list(train(model, X, kind=kind, seed=0, device="cpu"))
    g_groups = [group["lr"] for group in model.opt_g_.param_groups]
    assert g_groups == [expected, expected] and model.opt_d_.param_groups[0]["lr"] == expected
