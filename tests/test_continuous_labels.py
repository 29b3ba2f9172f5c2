"""The binary task of a labelled table (issue 16): ``positive`` names the class that becomes 1."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import assert_one_sentence, require_data
from corgan_core.data import load
from corgan_core.errors import DataError


@pytest.fixture(scope="module")
def small_seizure(tmp_path_factory):
    """300 seeded rows of the real Epileptic Seizure file (every class), as a CSV of the same layout."""
    src = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    path = tmp_path_factory.mktemp("eeg") / "eeg.csv"
    df = pd.read_csv(src)
    df.iloc[np.sort(np.random.default_rng(0).choice(len(df), 300, replace=False))].to_csv(path, index=False)
    return path


def test_epileptic_seizure_defaults_to_seizure_vs_rest(small_seizure):
    raw = pd.read_csv(small_seizure)
    ds = load(small_seizure)
    assert set(np.unique(raw["y"])) == {1, 2, 3, 4, 5}
    np.testing.assert_array_equal(ds.labels, (raw["y"].to_numpy() == 1).astype(int))
    five = load(small_seizure, positive="none")
    np.testing.assert_array_equal(five.labels, raw["y"].to_numpy())
    only_rest = small_seizure.with_name("rest.csv")  # already mapped, and no seizure in it: kept
    raw.assign(y=0).to_csv(only_rest, index=False)
    assert (load(only_rest).labels == 0).all()


def test_a_named_positive_class_and_a_table_that_is_not_epileptic(small_seizure, tmp_path):
    raw = pd.read_csv(small_seizure)
    three = load(small_seizure, positive="3")
    np.testing.assert_array_equal(three.labels, (raw["y"].to_numpy() == 3).astype(int))
    other = raw.drop(columns=["X178"])  # not the UCI layout: auto keeps the label as it is
    path = tmp_path / "other.csv"
    other.to_csv(path, index=False)
    np.testing.assert_array_equal(load(path).labels, raw["y"].to_numpy())
    np.testing.assert_array_equal(load(path, positive="1").labels, (raw["y"].to_numpy() == 1).astype(int))


def test_a_positive_class_that_is_absent_or_without_label_is_one_sentence(small_seizure, tmp_path):
    with pytest.raises(DataError) as err:
        load(small_seizure, positive="9")
    assert "'9'" in str(err.value) and "labels found: 1, 2, 3, 4, 5" in str(err.value)
    assert_one_sentence(str(err.value))
    path = tmp_path / "nolabel.csv"
    pd.read_csv(small_seizure).drop(columns=["y"]).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load(path, positive="1")
    assert "no label column" in str(err.value)
    assert_one_sentence(str(err.value))
