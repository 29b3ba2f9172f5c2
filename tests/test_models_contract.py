"""One contract, tested once over every registered model and variant (tiny data, a few epochs).

fit through the shared engine (events, checkpoints, exact resume), ``sample(n, seed)`` returns
exactly n rows of the data's kind, save/load round trip, same seed = same samples, any width,
batch larger than the data, one-row data refused with one sentence, DP accounting.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from torch_threads import one_thread  # noqa: F401 - autouse fixture
from conftest import assert_one_sentence
from corgan_core.errors import ConfigError, DataError
from corgan_core.models import PRESETS, REGISTRY, from_checkpoint, make_model
from corgan_core.models.base import GenerativeModel
from corgan_core.training import train

# Opacus' PRV accountant warns (harmlessly) when every row is in every batch (sample rate 1).
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")

# (id, registry name, preset, config overrides): every model and every corgan variant, DP included.
FAST = {
    "corgan": dict(epochs=2, pretrain_epochs=1),
    "medgan": dict(epochs=2, pretrain_epochs=1),
    "vae": dict(epochs=3),
    "independent": {},
}
VARIANTS = [
    ("corgan", "corgan", "default", {}),
    ("corgan-released", "corgan", "released", {}),
    ("corgan-conv", "corgan", "default", dict(gd_arch="conv")),
    ("corgan-wgan-clip", "corgan", "default", dict(loss="wgan-clip")),
    ("corgan-mba-gp", "corgan", "default", dict(minibatch_averaging=True, loss="wgan-gp")),
    ("corgan-conv-mba", "corgan", "default", dict(gd_arch="conv", minibatch_averaging=True)),
    ("corgan-ema-freq-bn", "corgan", "default", dict(g_ema=0.99, freq_matching=1.0, ae_norm="batch", pretrain_epochs=1)),
    ("corgan-soft-threshold", "corgan", "default", dict(critic_input="soft", binary_output="threshold", ae_norm="group")),
    ("corgan-straight-through", "corgan", "default", dict(critic_input="straight-through")),
    ("medgan", "medgan", "default", {}),
    ("vae", "vae", "default", {}),
    ("independent", "independent", "default", {}),
    ("corgan-dp", "corgan", "default", dict(dp_epsilon=10.0)),
    ("corgan-conv-dp-clip", "corgan", "default", dict(gd_arch="conv", loss="wgan-clip", dp_noise_multiplier=1.0)),
    ("medgan-dp", "medgan", "default", dict(dp_epsilon=10.0, minibatch_averaging=False)),
    ("vae-dp", "vae", "default", dict(dp_epsilon=10.0)),
    ("vae-dp-prv", "vae", "default", dict(dp_noise_multiplier=1.0, dp_accountant="prv")),
]
IDS = [v[0] for v in VARIANTS]
BASE = [v for v in VARIANTS if v[0] in ("corgan", "medgan", "vae", "independent")]




def build(name, preset="default", **overrides) -> GenerativeModel:
    return make_model(name, {**FAST[name], **overrides}, preset)


def data(kind="binary", rows=24, width=7, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "binary":
        X = (rng.random((rows, width)) < 0.3).astype(np.float32)
        X[:, 0] = 1.0  # one code everyone has
        return X
    if kind == "count":
        return rng.poisson(0.8, (rows, width)).astype(np.float32)
    return (rng.normal(2.0, 3.0, (rows, width))).astype(np.float32)


def fit(model, X, kind="binary", seed=0, **kw):
    events = list(train(model, X, kind=kind, seed=seed, device="cpu", **kw))
    assert events[-1].type == "finished", events[-1]
    return events


def check_kind(S, X, kind, n):
    assert S.shape == (n, X.shape[1]) and S.dtype == np.float32
    assert np.isfinite(S).all()
    if kind == "binary":
        assert set(np.unique(S)) <= {0.0, 1.0}
    elif kind == "count":
        assert (S >= 0).all() and (S == np.rint(S)).all()
    else:
        assert (S >= X.min(0) - 1e-4).all() and (S <= X.max(0) + 1e-4).all()


@pytest.mark.parametrize("vid,name,preset,over", VARIANTS, ids=IDS)
def test_fit_events_checkpoint_resume_is_exact(vid, name, preset, over, tmp_path):
    """Events flow, checkpoints load with weights_only, and a resumed run equals an uninterrupted one."""
    X = data()
    ckpt = tmp_path / "run.pt"
    model = build(name, preset, **over)
    snapshot = {}
    events = []
    for ev in train(model, X, seed=3, device="cpu", checkpoint_path=ckpt):
        events.append(ev)
        if ev.type == "checkpoint" and not snapshot and ev.epoch == 1 and ev.phase == model.phases()[-1].name:
            snapshot.update(torch.load(ckpt, map_location="cpu", weights_only=True))
    types = [e.type for e in events]
    assert types[0] == "phase_start" and types[-1] == "finished" and "epoch_end" in types
    assert all(e.seconds >= 0 for e in events)
    losses = [e.losses for e in events if e.type == "epoch_end"]
    assert all(np.isfinite(v) or np.isnan(v) for d in losses for v in d.values())
    full = model.sample(40, seed=5)

    # resume from the snapshot taken mid-training (first epoch of the last phase): the resumed
    # run replays the remaining epochs exactly (so training is deterministic for a seed, too)
    assert snapshot, "no mid-training checkpoint was written"
    resumed = build(name, preset, **over)
    fit(resumed, X, seed=3, resume=snapshot)
    np.testing.assert_array_equal(resumed.sample(40, seed=5), full)

    # the final checkpoint restores the trained model
    final = from_checkpoint(torch.load(ckpt, map_location="cpu", weights_only=True))
    np.testing.assert_array_equal(final.sample(40, seed=5), full)

    if "dp_epsilon" in over or "dp_noise_multiplier" in over:
        eps = [d["epsilon"] for d in losses]
        assert all(b >= a for a, b in zip(eps, eps[1:])) and eps[-1] > 0
        if "dp_epsilon" in over:
            assert eps[-1] <= over["dp_epsilon"] * 1.01
        info = model.meta_["privacy"]
        assert info["dp"] and info["epsilon"] == pytest.approx(eps[-1]) and info["covers"]
    else:
        assert not model.meta_["privacy"]["dp"]


# every variant on binary data; the other kinds on each model's base configuration (and DP)
KIND_CASES = [(kind, *v) for v in VARIANTS for kind in ("binary", "count", "continuous")
              if kind == "binary" or v[0] in ("corgan", "medgan", "vae", "independent", "vae-dp", "corgan-dp")]


@pytest.mark.parametrize("kind,vid,name,preset,over", KIND_CASES, ids=[f"{c[1]}-{c[0]}" for c in KIND_CASES])
def test_samples_are_of_the_data_kind(kind, vid, name, preset, over, tmp_path):
    X = data(kind)
    model = build(name, preset, **over)
    fit(model, X, kind=kind)
    S = model.sample(17, seed=0)
    check_kind(S, X, kind, 17)
    np.testing.assert_array_equal(model.sample(17, seed=0), S)  # same seed, same rows
    if kind != "count" and getattr(model.config, "binary_output", "") != "threshold":
        # (a barely trained model can round every count, or threshold every code, the same way)
        assert not np.array_equal(model.sample(200, seed=1), model.sample(200, seed=2))
    # save/load round trip
    path = model.save(tmp_path / "m.pt")
    loaded = GenerativeModel.load(path)
    assert loaded.name == model.name and loaded.config == model.config
    np.testing.assert_array_equal(loaded.sample(17, seed=0), S)
    check_kind(loaded.sample(1, seed=9), X, kind, 1)


WIDTHS = [(name, w) for _, name, _, _ in BASE for w in (7, 2000)] + [("corgan", w) for w in (275, 881, 1071)]


@pytest.mark.parametrize("name,width", WIDTHS, ids=[f"{n}-{w}" for n, w in WIDTHS])
def test_any_width(name, width):
    X = data(width=width, rows=12)
    model = build(name, **({"epochs": 1, "pretrain_epochs": 1} if name in ("corgan", "medgan") else {}))
    fit(model, X)
    check_kind(model.sample(9, seed=0), X, "binary", 9)


@pytest.mark.parametrize("vid,name,preset,over", [v for v in VARIANTS if v[1] != "independent"],
                         ids=[v[0] for v in VARIANTS if v[1] != "independent"])
def test_batch_larger_than_the_data(vid, name, preset, over):
    X = data(rows=5)
    model = build(name, preset, batch_size=4096, **over)
    fit(model, X)
    check_kind(model.sample(3, seed=0), X, "binary", 3)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_one_row_is_refused_with_a_sentence(name):
    model = build(name)
    with pytest.raises(DataError) as err:
        fit(model, data(rows=1))
    assert_one_sentence(str(err.value))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_sampling_before_fit_and_bad_n_are_refused(name):
    with pytest.raises(ConfigError) as err:
        build(name).sample(3)
    assert_one_sentence(str(err.value))
    model = build(name)
    fit(model, data())
    with pytest.raises(ConfigError) as err:
        model.sample(0)
    assert_one_sentence(str(err.value))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_config_fields_are_cli_options(name):
    """The CLI builds --options from every Config field: plain types, help text, valid choices."""
    cls = REGISTRY[name]
    for f in dataclasses.fields(cls.Config):
        assert f.type in (int, float, bool, str, "int", "float", "bool", "str"), (name, f.name, f.type)
        assert f.metadata.get("help"), (name, f.name)
        if "choices" in f.metadata:
            assert f.default in f.metadata["choices"], (name, f.name)
    for preset in PRESETS.get(name, {}).values():
        cls.Config(**preset)  # every preset names real fields


@pytest.mark.parametrize("name,over,fragment", [
    ("corgan", dict(gd_arch="transformer"), "gd_arch"),
    ("corgan", dict(g_ema=1.0), "g_ema"),
    ("corgan", dict(dp_epsilon=1.0, minibatch_averaging=True), "minibatch averaging"),
    ("medgan", dict(dp_epsilon=1.0, minibatch_averaging=True), "minibatch averaging"),
    ("vae", dict(dp_accountant="gdp"), "dp_accountant"),
    ("vae", dict(dp_epsilon=1.0, dp_delta=1.5), "dp_delta"),
    ("corgan", dict(dp_noise_multiplier=1.0, dp_max_grad_norm=0.0), "dp_max_grad_norm"),
])
def test_bad_configs_are_refused_with_a_sentence(name, over, fragment):
    with pytest.raises(ConfigError) as err:
        fit(build(name, **over), data())
    assert fragment in str(err.value).lower()
    assert_one_sentence(str(err.value))


def test_corgan_dp_uses_groupnorm_and_no_frequency_prior():
    """With DP on, nothing outside DP-SGD reads the records: no BatchNorm, no frequency-based bias."""
    model = build("corgan", dp_epsilon=5.0)
    fit(model, data())
    norms = {type(m).__name__ for net in (model.encoder_, model.decoder_) for m in net.modules()}
    assert "BatchNorm1d" not in norms and "GroupNorm" in norms
    assert model.val_ is None


# ---- the contract the run layer relies on ------------------------------------------------------
BAD_SIZE = {"corgan": {"batch_size": 1}, "medgan": {"batch_size": 1}, "vae": {"batch_size": 1},
            "independent": {"quantiles": 1}}


def test_every_registered_model_has_a_bad_size_case():
    assert set(BAD_SIZE) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_validate_refuses_a_bad_config_before_any_data(name):
    """``Run.create`` calls validate() for every model: a bad value fails there, in one sentence."""
    model = make_model(name, BAD_SIZE[name])
    with pytest.raises(ConfigError) as err:
        model.validate()
    field = next(iter(BAD_SIZE[name]))
    assert field in str(err.value)
    assert_one_sentence(str(err.value))
    make_model(name).validate()  # the defaults are valid


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_phases_carry_labels_for_people(name):
    phases = build(name).phases()
    assert phases and all(p.label and p.label != p.name for p in phases)
    assert phases[-1].samples  # the last phase always trains what sampling uses


def test_trained_rows_exclude_the_rows_that_stop_pretraining():
    X = data(rows=60)
    with_pre = build("corgan", epochs=1, pretrain_epochs=2, pretrain_patience=1)
    fit(with_pre, X)
    rows = with_pre.trained_rows_
    assert len(rows) == 60 - round(60 * with_pre.config.val_fraction) == len(with_pre.data_)
    assert len(set(rows.tolist())) == len(rows) and rows.min() >= 0 and rows.max() < 60
    # the rows the model trained on are exactly the trained_rows_ of the input, in some order
    trained = np.sort(with_pre.data_.numpy(), axis=0)
    np.testing.assert_array_equal(trained, np.sort(X[rows], axis=0))
    for name in ("corgan", "vae", "independent"):  # no pretraining: every row is a member
        model = build(name, **({"pretrain_epochs": 0} if name == "corgan" else {}))
        fit(model, X)
        np.testing.assert_array_equal(model.trained_rows_, np.arange(60))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_restore_is_the_base_contract(name):
    """from_checkpoint rebuilds through GenerativeModel.restore (no per-model dummy set-up)."""
    model = build(name)
    fit(model, data("continuous"), kind="continuous")
    ckpt = model.checkpoint()
    restored = from_checkpoint(ckpt)
    assert type(restored).restore is GenerativeModel.restore or type(restored).restore.__qualname__.startswith("NeuralModel")
    np.testing.assert_array_equal(restored.sample(11, seed=4), model.sample(11, seed=4))
