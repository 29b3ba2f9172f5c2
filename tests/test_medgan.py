"""medGAN: the ``faithful`` preset does what the original code does, and the default learns.

Faithful (mp2893/medgan): the generator's BatchNorm is in inference mode while it makes fakes for a
discriminator step, a BatchNorm burn-in runs before sampling, Glorot-uniform init with zero biases,
100 pretraining epochs at batch 100, count data come out as non-negative integers. Default: a short
real training run on the embedded Diabetes 130-US demo beats independent sampling on co-occurrence
and does not collapse.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from conftest import require_data
from corgan_core.data import load, split
from corgan_core.demo import DIABETES_DEMO
from corgan_core.metrics.cooccurrence import cooccurrence
from corgan_core.models import make_model
from corgan_core.models.medgan import PRESETS, MedGAN
from corgan_core.models.medgan_nets import BURN_IN_BATCH
from corgan_core.training import train


def faithful(**over) -> MedGAN:
    return MedGAN({**PRESETS["faithful"], **over})


@pytest.fixture(scope="module")
def mimic():
    return load(str(require_data("mimic3-demo"))).dense()


def test_faithful_preset_settings():
    c = faithful().config
    assert (c.pretrain_epochs, c.pretrain_patience, c.ae_batch_size, c.batch_size) == (100, 0, 100, 1000)
    assert (c.d_step_bn, c.bn_burn_in, c.init, c.disc_input, c.g_ema) == ("inference", 1000, "glorot", "soft", 0.0)
    assert make_model("medgan", preset="faithful").config == c  # the registry and --preset reach it
    assert MedGAN().config.loss == "wgan-gp" and c.loss == "bce"  # the default is not the original


def test_faithful_bn_is_in_inference_mode_for_discriminator_steps(mimic):
    model = faithful(pretrain_epochs=1, epochs=2, batch_size=50)
    seen = []  # (grad enabled, BN training) at every generator BatchNorm call in the GAN phase
    events = train(model, mimic, kind="binary", seed=0, device="cpu")
    assert next(events).type == "phase_start"  # after set-up: the networks exist
    model.generator_.norms[0].register_forward_hook(
        lambda m, i, o: seen.append((torch.is_grad_enabled(), m.training)))
    list(events)
    d_calls = [training for grad, training in seen if not grad]  # fakes for D steps are made without grad
    g_calls = [training for grad, training in seen if grad]
    assert d_calls and g_calls
    assert not any(d_calls) and all(g_calls)
    assert model.config.disc_steps * len(g_calls) == len(d_calls)


def test_faithful_burn_in_runs_before_sampling_on_a_copy(mimic):
    model = faithful(pretrain_epochs=1, epochs=1, batch_size=50, bn_burn_in=7)
    model.fit(mimic, kind="binary", seed=0, device="cpu")
    live = [b.clone() for b in model.generator_.buffers()]
    calls = []
    orig = MedGAN._sampling_nets

    def spy(self, generator):
        gen, ae = orig(self, generator)
        calls.append([bn.num_batches_tracked.item() for bn in gen.norms])
        return gen, ae

    MedGAN._sampling_nets = spy
    try:
        a = model.sample(300, seed=3)
    finally:
        MedGAN._sampling_nets = orig
    tracked = [int(b) for b in live if b.ndim == 0]
    assert calls == [[t + 7 for t in tracked]]  # 7 burn-in batches went through the copy's BatchNorm
    assert all(torch.equal(x, y) for x, y in zip(live, model.generator_.buffers()))  # the model is unchanged
    assert np.array_equal(a, model.sample(300, seed=3))
    assert BURN_IN_BATCH == 100


def test_glorot_init():
    model = faithful()
    X = np.random.default_rng(0).integers(0, 2, (64, 40)).astype(np.float32)
    model.setup(X, "binary", 0, "cpu")
    for net in (model.ae_, model.generator_, model.disc_):
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                fan_out, fan_in = m.weight.shape
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                assert m.weight.abs().max() <= bound
                assert m.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.15)
                assert m.bias is None or not m.bias.any()
    torch_default = MedGAN({"init": "pytorch"})
    torch_default.setup(X, "binary", 0, "cpu")
    assert torch_default.disc_.net[0].bias.any()


def test_faithful_counts_are_non_negative_integers():
    X = load(str(require_data("mimic3-demo")), kind="count").dense()
    assert X.max() > 1
    model = faithful(pretrain_epochs=2, epochs=2, batch_size=50, bn_burn_in=10)
    model.fit(X, kind="count", seed=0, device="cpu")
    S = model.sample(400, seed=0)
    assert S.min() >= 0 and np.array_equal(S, np.rint(S))
    assert S.max() > 0


def test_default_medgan_beats_independent_sampling_on_real_records():
    """3,000 Diabetes 130-US demo patients, ~15 CPU-s: measured co-occurrence R^2 (top 50, 4,000
    held-out patients) 0.79-0.80 over seeds 0 and 1 against 0.64 for independent sampling and
    0.85 for the training rows themselves; codes per patient 3.77-3.82 (real 3.65); ~3,400 distinct
    rows in 4,000."""
    ds = load(str(DIABETES_DEMO))
    sp = split(ds, 0.2, 0)
    X = ds.X[sp.train].toarray()[:3000].astype(np.float32)
    H = ds.X[sp.holdout].toarray()
    model = make_model("medgan", {"pretrain_epochs": 5, "epochs": 20}).fit(X, kind="binary", seed=0, device="cpu")
    S = model.sample(len(H), seed=1)
    independent = make_model("independent").fit(X, kind="binary", seed=0).sample(len(H), seed=1)
    r2 = cooccurrence(H, S, kind="binary", top_k=50).r2
    floor = cooccurrence(H, independent, kind="binary", top_k=50).r2
    assert r2 > floor + 0.08, (r2, floor)
    assert abs(S.sum(1).mean() / X.sum(1).mean() - 1) < 0.1
    assert len(np.unique(S, axis=0)) > 0.7 * len(np.unique(H, axis=0))  # no collapse onto a few rows
