"""Fidelity and utility metrics on tiny arrays with hand-computed answers."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from corgan_core.errors import DataError
from corgan_core.metrics import (classifier_fidelity, cooccurrence, dimension_wise_prediction,
                                 dimension_wise_probability, discriminator_score, independent_baseline)
from tests.conftest import assert_one_sentence


def test_dimension_wise_probability_by_hand():
    real = [[1, 0], [1, 1], [0, 0], [1, 0]]  # frequencies 0.75, 0.25
    synth = sp.csr_matrix(np.array([[1, 0], [0, 0]]))  # 0.5, 0.0
    r = dimension_wise_probability(real, synth, codes=["A", "B"], titles={"A": "alpha"})
    assert r.statistic == "frequency"
    assert r.real.tolist() == [0.75, 0.25] and r.synthetic.tolist() == [0.5, 0.0]
    assert r.rmse == pytest.approx(0.25) and r.max_abs_error == pytest.approx(0.25)
    assert r.r2 == pytest.approx(0.0)  # SS_res = 2 * 0.25^2 = SS_tot
    assert r.pearson == pytest.approx(1.0)
    assert r.furthest[0] == {"column": 0, "code": "A", "title": "alpha", "real": 0.75, "synthetic": 0.5,
                             "difference": -0.25}
    d = r.to_dict()
    assert d["real"] == [0.75, 0.25] and isinstance(d["r2"], float)


def test_continuous_uses_column_means_and_nan_becomes_null():
    r = dimension_wise_probability([[1.5, 2.0], [0.5, 2.0]], [[1.0, 1.0], [1.0, 1.0]], kind="continuous")
    assert r.statistic == "mean" and r.real.tolist() == [1.0, 2.0] and r.rmse == pytest.approx(math.sqrt(0.5))
    assert r.to_dict()["pearson"] is None  # the synthetic means are constant: Pearson undefined


def test_cooccurrence_by_hand():
    real = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [1, 0, 0]])
    synth = np.array([[1, 1, 1], [0, 0, 0]])
    r = cooccurrence(real, synth, top_k=3, codes=["a", "b", "c"])
    assert r.pairs.tolist() == [[0, 1], [0, 2], [1, 2]]
    assert r.real.tolist() == [0.5, 0.25, 0.25] and r.synthetic.tolist() == [0.5, 0.5, 0.5]
    assert r.rmse == pytest.approx(math.sqrt(0.125 / 3))
    assert r.r2 == pytest.approx(-2.0)  # SS_res 0.125 vs SS_tot 0.041667
    assert r.moments is None
    top2 = cooccurrence(real, synth, top_k=2)  # frequencies 0.75, 0.5, 0.5: ties keep column order
    assert top2.columns == [0, 1] and top2.real.tolist() == [0.5]


def test_count_moments_and_continuous_correlation_by_hand():
    r = cooccurrence([[2, 0], [0, 1]], [[1, 0], [1, 1]], kind="count")
    assert r.moments["mean"]["real"].tolist() == [1.0, 0.5] and r.moments["mean"]["synthetic"].tolist() == [1.0, 0.5]
    assert r.moments["variance"]["real"].tolist() == [1.0, 0.25]
    assert r.moments["variance"]["synthetic"].tolist() == [0.0, 0.25]
    assert r.moments["mean"]["rmse"] == 0.0
    x = np.array([0.0, 1.0, 2.0, 4.0])
    c = cooccurrence(np.c_[x, 2 * x], np.c_[x, -x], kind="continuous")
    assert c.statistic == "correlation"
    assert c.real.tolist() == pytest.approx([1.0]) and c.synthetic.tolist() == pytest.approx([-1.0])


def _linked(n, seed):
    """Code 0 is always present together with code 1; codes 2-5 are noise."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, 6)) < 0.3).astype(float)
    X[:, 0] = X[:, 1]
    return X


def test_dimension_wise_prediction_real_vs_synthetic_and_constant_code():
    train, holdout = _linked(400, 0), _linked(200, 1)
    synth = _linked(400, 2)
    synth[:, 0] = 0  # the synthetic data never has code 0
    r = dimension_wise_prediction(train, holdout, sp.csr_matrix(synth), columns=[0, 1], codes=list("abcdef"))
    c0, c1 = r.per_code
    assert c0["code"] == "a" and c0["real_f1"] == 1.0 and c0["real_auroc"] == 1.0
    assert math.isnan(c0["synthetic_f1"]) and "synthetic: never present" in c0["reason"]
    assert c1["real_auroc"] == 1.0 and c1["synthetic_auroc"] < 0.8  # code 1's partner is missing
    assert r.skipped == 1 and r.real_auroc == 1.0
    assert r.to_dict()["per_code"][0]["synthetic_f1"] is None
    with pytest.raises(DataError) as e:
        dimension_wise_prediction(train, holdout, synth, kind="continuous")
    assert_one_sentence(str(e.value))


def _labelled(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return np.c_[X, (X[:, 0] + 0.1 * X[:, 1] > 0).astype(float)]


def test_classifier_fidelity_trtr_tstr_with_label_column():
    train, holdout = _labelled(300, 0), _labelled(150, 1)
    r = classifier_fidelity(train, holdout, train.copy(), label_index=-1, seed=0)
    assert set(r.models) == {"logistic", "random_forest", "gradient_boosting"}
    assert r.models["logistic"]["trtr"]["auroc"] > 0.95
    assert abs(r.auroc_gap) < 1e-3 and abs(r.accuracy_gap) < 1e-2  # same rows, same seed: the same models
    flat = train.copy()
    flat[:, -1] = 1.0
    r = classifier_fidelity(train, holdout, flat, label_index=3, models=("logistic",))
    assert math.isnan(r.models["logistic"]["tstr"]["auroc"]) and "single class" in r.models["logistic"]["reason"]
    with pytest.raises(DataError) as e:
        classifier_fidelity(train, holdout, train, y_train=train[:, -1], y_holdout=holdout[:, -1])
    assert_one_sentence(str(e.value))
    assert "synthetic" in str(e.value)


def test_discriminator_tells_apart_only_different_data():
    real, same = _linked(1500, 3), _linked(1500, 4)
    near = discriminator_score(real, same, seed=0)
    assert abs(near.auroc - 0.5) < 0.06 and near.pmse < 0.01 and near.rows_per_class == 1500
    far = discriminator_score(real, np.ones_like(real), seed=0)
    assert far.auroc > 0.99 and far.pmse > 0.15


def test_independent_baseline_keeps_frequencies_and_breaks_pairs():
    train = _linked(4000, 5)
    b = independent_baseline(sp.csr_matrix(train), 4000, seed=1)
    assert sp.issparse(b) and b.shape == (4000, 6) and set(np.unique(b.data)) == {1.0}
    np.testing.assert_allclose(np.asarray(b.mean(axis=0)).ravel(), train.mean(axis=0), atol=0.03)
    assert np.mean(b[:, 0].toarray() == b[:, 1].toarray()) < 0.7  # the link is gone
    again = independent_baseline(sp.csr_matrix(train), 4000, seed=1)
    assert (b != again).nnz == 0
    counts = independent_baseline(np.array([[0, 3], [5, 0]]), 50, seed=0, kind="count")
    assert isinstance(counts, np.ndarray) and set(np.unique(counts[:, 1])) <= {0.0, 3.0}
    with pytest.raises(DataError) as e:
        independent_baseline(train, 0)
    assert_one_sentence(str(e.value))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_summary_matches_scikit_learn_and_scipy(seed):
    from scipy.stats import pearsonr
    from sklearn.metrics import r2_score

    from corgan_core.metrics._common import regression_summary

    rng = np.random.default_rng(seed)
    real = rng.random(500) * 10 ** seed
    synth = real + rng.normal(0, 0.3 * 10 ** seed, 500)
    got = regression_summary(real, synth)
    assert got["r2"] == pytest.approx(r2_score(real, synth), rel=1e-12, abs=1e-12)
    assert got["pearson"] == pytest.approx(pearsonr(real, synth)[0], rel=1e-12)
    assert math.isnan(regression_summary(np.ones(5), synth[:5])["r2"])
    assert math.isnan(regression_summary(real[:5], np.ones(5))["pearson"])
