"""Exact nearest-neighbour engine: hand-computed distances, brute force, sparse = dense, backends."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from corgan_core.errors import DataError
from corgan_core.metrics import closest_distances, nearest_neighbours, unique_rows
from tests.conftest import assert_one_sentence

TRAIN = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 1]], dtype=float)
HOLDOUT = np.array([[1, 0, 0, 0], [0, 1, 1, 1]], dtype=float)
SYN = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0]], dtype=float)


def test_hamming_distances_by_hand():
    nn = nearest_neighbours(TRAIN, HOLDOUT, SYN, kind="binary", sizes=[1, 3])
    assert nn.metric == "hamming"
    # |a| + |b| - 2 a.b: syn0 -> train (0, 3, 3, 2); syn1 (no codes) -> (2, 1, 1, 2); syn2 -> (2, 1, 1, 4)
    # train1 and train2 are the same row, so it counts twice as the second neighbour too
    assert nn.syn_train.tolist() == [0, 1, 1]
    assert nn.syn_train_2nd.tolist() == [2, 1, 1]
    # holdout h0=[1,0,0,0], h1=[0,1,1,1]: syn0 -> (1, 3); syn1 -> (1, 3); syn2 -> (3, 1)
    assert nn.syn_holdout.tolist() == [1, 1, 1]
    assert nn.syn_holdout_2nd.tolist() == [3, 3, 3]
    # each real row's distance to the first synthetic row only, then to all three
    assert nn.train_syn.tolist() == [[0, 3, 3, 2], [0, 1, 1, 2]]
    assert nn.holdout_syn.tolist() == [[1, 3], [1, 1]]


def test_unique_rows_keeps_first_occurrence_order():
    first, inv = unique_rows(sp.csr_matrix(TRAIN))
    assert first.tolist() == [0, 1, 3] and inv.tolist() == [0, 1, 1, 2]


def _data(kind, rng, n, m=10):
    if kind == "binary":
        return (rng.random((n, m)) < 0.2).astype(float)
    if kind == "count":
        return rng.poisson(0.4, (n, m)).astype(float)
    return np.round(rng.normal(size=(n, m)), 1)


@pytest.mark.parametrize("kind", ["binary", "count", "continuous"])
def test_matches_brute_force_with_duplicates_and_prefixes(kind):
    rng = np.random.default_rng(3)
    tr, ho = _data(kind, rng, 150), _data(kind, rng, 60)
    sy = np.vstack([tr[:20], tr[:5], _data(kind, rng, 40)])[rng.permutation(65)]
    nn = nearest_neighbours(tr, ho, sy, kind=kind, sizes=[7, 30, 65], block_mb=0.002, seed=1)
    D = cdist(sy, tr, "sqeuclidean")
    Dh = cdist(sy, ho, "sqeuclidean")
    if kind != "binary":
        D, Dh = np.sqrt(D), np.sqrt(Dh)
    np.testing.assert_allclose(nn.syn_train, np.sort(D, 1)[:, 0], atol=1e-9)
    np.testing.assert_allclose(nn.syn_train_2nd, np.sort(D, 1)[:, 1], atol=1e-9)
    np.testing.assert_allclose(nn.syn_holdout_2nd, np.sort(Dh, 1)[:, 1], atol=1e-9)
    for i, size in enumerate([7, 30, 65]):
        np.testing.assert_allclose(nn.train_syn[i], D[:size].min(0), atol=1e-9)
        np.testing.assert_allclose(nn.holdout_syn[i], Dh[:size].min(0), atol=1e-9)
    # the equal-size train subset is a real subset of train: never closer than all of train
    assert (nn.syn_train_eq >= nn.syn_train - 1e-12).all()
    if kind == "continuous":  # copies are found at exactly 0, not at a rounding error
        assert (nn.syn_train == 0).sum() >= 25


@pytest.mark.parametrize("kind", ["binary", "count"])
def test_sparse_and_dense_inputs_agree_exactly(kind):
    rng = np.random.default_rng(5)
    tr, ho, sy = _data(kind, rng, 120), _data(kind, rng, 40), _data(kind, rng, 90)
    a = nearest_neighbours(tr, ho, sy, kind=kind, sizes=[10, 90])
    b = nearest_neighbours(sp.csr_matrix(tr), sp.csc_matrix(ho), sp.coo_matrix(sy), kind=kind, sizes=[10, 90])
    for f in ("syn_train", "syn_train_2nd", "syn_holdout", "syn_holdout_2nd", "syn_train_eq", "train_syn", "holdout_syn"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_torch_backend_and_threads_agree_with_numpy():
    rng = np.random.default_rng(7)
    tr, ho, sy = _data("binary", rng, 200), _data("binary", rng, 50), _data("binary", rng, 150)
    a = nearest_neighbours(tr, ho, sy, kind="binary", backend="numpy", n_jobs=1, block_mb=0.01)
    b = nearest_neighbours(tr, ho, sy, kind="binary", backend="numpy", n_jobs=2, block_mb=0.01)
    c = nearest_neighbours(tr, ho, sy, kind="binary", backend="torch")
    for f in ("syn_train", "syn_train_2nd", "syn_holdout", "train_syn", "holdout_syn"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
        np.testing.assert_array_equal(getattr(a, f), getattr(c, f))


def test_progress_reaches_total_and_single_row_reference_has_no_second():
    calls = []
    d1, d2 = closest_distances(SYN, TRAIN[:1], kind="binary", progress=lambda d, t: calls.append((d, t)))
    assert d1.tolist() == [0, 2, 2] and np.isnan(d2).all()
    assert calls and calls[-1][0] == calls[-1][1]


def test_bad_input_is_one_sentence():
    with pytest.raises(DataError) as e:
        nearest_neighbours(TRAIN, HOLDOUT, np.zeros((0, 4)))
    assert_one_sentence(str(e.value))
    with pytest.raises(DataError) as e:
        nearest_neighbours(TRAIN, HOLDOUT, SYN[:, :3])
    assert_one_sentence(str(e.value))
    with pytest.raises(DataError) as e:
        nearest_neighbours(TRAIN, HOLDOUT, SYN * 0.5, kind="binary")
    assert_one_sentence(str(e.value))
