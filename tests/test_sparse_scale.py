"""Sparse all the way: CSR code matrices are trained without ever being densified whole.

Real data (MIMIC-III demo, the embedded Diabetes 130-US sample) checks that the RowStore gives the
models exactly the rows a dense tensor gives, that sparse and dense input train the same model,
that the binary/count transforms stay sparse and equal the dense ones, and that ``sample_sparse``
equals ``sample``; the benchmark's generator checks that a 100,000 x 10,000 matrix trains from a
store of a few MB (dense it would be 4 GB).
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import REPO_ROOT, require_data
from corgan_core.data import DataOptions, load
from corgan_core.models import make_model
from corgan_core.models.rowstore import RowStore, fit_transform
from corgan_core.models.transforms import Transform
from torch_threads import one_thread  # noqa: F401

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from bench_scale import generate  # noqa: E402

DEMO = REPO_ROOT / "corgan_core" / "demo" / "diabetes-130-us-sample.npz"


@pytest.fixture(scope="module")
def mimic():
    return load(str(require_data("mimic3-demo")))


def test_rowstore_gives_the_dense_rows(mimic):
    X = load(str(DEMO)).X
    assert sp.issparse(X)
    store, dense = RowStore(X), torch.from_numpy(X.toarray())
    rng = np.random.default_rng(0)
    for _ in range(5):
        idx = torch.from_numpy(rng.integers(0, X.shape[0], 300))
        assert torch.equal(store[idx], dense[idx])
    assert torch.equal(store[:17], dense[:17])
    empty = int(np.flatnonzero(np.diff(X.indptr) == 0)[0]) if (np.diff(X.indptr) == 0).any() else 0
    assert torch.equal(store[torch.tensor([empty, empty])], dense[[empty, empty]])
    assert len(store) == X.shape[0]
    k = X.shape[1] - 5
    assert torch.allclose(store[:, :k].mean(0), dense[:, :k].mean(0), atol=1e-6)
    assert torch.equal(store[:, :k][torch.arange(40)], dense[:40, :k])
    assert store.nbytes < 0.1 * dense.numel() * 4  # a few % of the dense tensor


@pytest.mark.parametrize("name,cfg", [("corgan", {"epochs": 2, "pretrain_epochs": 2, "batch_size": 32}),
                                      ("vae", {"epochs": 3, "batch_size": 32})])
def test_sparse_and_dense_input_train_the_same_model(mimic, name, cfg):
    runs = []
    for X in (mimic.X, mimic.X.toarray()):
        losses = []
        model = make_model(name, cfg).fit(X, "binary", seed=0, device="cpu",
                                          on_event=lambda e: e.type == "epoch_end" and losses.append(e.losses))
        runs.append((model, losses))
    (sparse_model, a), (dense_model, b) = runs
    assert isinstance(sparse_model.data_, RowStore) and isinstance(dense_model.data_, torch.Tensor)
    assert len(a) == len(b) == sum(cfg.get(k, 0) for k in ("epochs", "pretrain_epochs"))
    for la, lb in zip(a, b):
        for key in la:
            assert abs(la[key] - lb[key]) <= 1e-4 * max(1.0, abs(lb[key])), (key, la[key], lb[key])
    assert np.array_equal(sparse_model.sample(300, seed=4), dense_model.sample(300, seed=4))
    # sampling in chunks, as CSR, gives the same rows
    chunk = sparse_model.CHUNK
    S = sparse_model.sample_sparse(chunk + 123, seed=5)
    assert sp.isspmatrix_csr(S) and np.array_equal(S.toarray(), sparse_model.sample(chunk + 123, seed=5))


def test_count_and_binary_transforms_stay_sparse(mimic):
    counts = load(str(require_data("mimic3-demo")), DataOptions(kind="count")).X
    assert sp.issparse(counts) and counts.max() > 1
    for X, kind in ((counts, "count"), (mimic.X, "binary")):
        scaler, S = fit_transform(X, kind)
        assert sp.issparse(S)
        dense = Transform.fit(X.toarray(), kind)
        assert scaler.method == dense.method
        for key, value in dense.params.items():
            assert np.allclose(scaler.params[key], value)
        assert np.allclose(S.toarray(), dense.transform(X.toarray()), atol=1e-6)


def test_generated_matrix_trains_from_a_small_store():
    X = generate(100_000, 10_000, 0.001, seed=3)
    assert np.array_equal(X.indices[:50], generate(100_000, 10_000, 0.001, seed=3).indices[:50])  # seeded
    density = X.nnz / (X.shape[0] * X.shape[1])
    assert 0.0008 < density <= 0.001
    share = np.asarray(X.sum(axis=0)).ravel() / X.shape[0]
    assert share.max() > 50 * np.median(share)  # skewed: a few common codes, most rare
    model = make_model("vae", {"epochs": 1, "hidden": 16, "latent_dim": 8, "batch_size": 256})
    model.setup(X, "binary", 0, "cpu")
    assert isinstance(model.data_, RowStore)
    assert model.data_.nbytes < 0.05 * X.shape[0] * X.shape[1] * 4  # 4 GB dense; about 1.6 MB per 0.1% here
    batch = model.data_[torch.randperm(len(model.data_))[:256]]  # a whole epoch is the benchmark's job
    assert batch.shape == (256, 10_000) and batch.sum() > 0
    loss = model.net_.loss(batch, torch.randn(256, 8))
    loss.backward()
    assert torch.isfinite(loss) and model.net_.enc.weight.grad is not None


def _figures(report) -> dict:
    """Every number of a report except its timings and creation time (they differ run to run)."""
    out, stack = {}, [("", report.to_dict() if hasattr(report, "to_dict") else report)]
    while stack:
        path, d = stack.pop()
        if isinstance(d, dict):
            stack += [(f"{path}/{k}", v) for k, v in d.items() if k not in ("timings", "created", "seconds")]
        elif isinstance(d, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(d)]
        else:
            out[path] = d
    return out


def test_evaluation_of_sparse_samples_equals_dense(mimic):
    from corgan_core.data import split
    from corgan_core.metrics import evaluate

    s = split(mimic, holdout=0.3, seed=0)
    model = make_model("vae", {"epochs": 2, "batch_size": 32}).fit(mimic.take(s.train), seed=0, device="cpu")
    syn = model.sample_sparse(200, seed=1)
    a = evaluate(mimic.X[s.train], mimic.X[s.holdout], syn, kind=mimic.kind, codes=mimic.codes)
    b = evaluate(mimic.X[s.train], mimic.X[s.holdout], syn.toarray(), kind=mimic.kind, codes=mimic.codes)
    fa, fb = _figures(a), _figures(b)
    assert len(fa) > 20 and fa == fb
