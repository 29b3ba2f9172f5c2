"""The embedded Diabetes 130-US demo is exactly what the project's converter rebuilds from the real
data, is small, and holds correlated records (the point of a demo)."""
from __future__ import annotations

import numpy as np

from corgan_core.data import load, split
from corgan_core.demo import DIABETES_DEMO
from corgan_core.metrics.cooccurrence import cooccurrence
from corgan_core.models import make_model
from tests.conftest import SHARED_DATA, require_data
from tests.test_cli_runs import cli


def test_the_embedded_demo_is_what_the_converter_rebuilds(tmp_path):
    require_data("diabetes-130-us")
    require_data("mimic3-demo")
    out = tmp_path / "demo.npz"
    r = cli("data", "convert", SHARED_DATA / "diabetes-130-us" / "dataset_diabetes.zip",
            "--patient-col", "patient_nbr", "--code-cols", "diag_1,diag_2,diag_3", "--rows", 20000, "--seed", 0,
            "--titles", SHARED_DATA / "mimic3-demo" / "D_ICD_DIAGNOSES.csv", "-o", out)
    assert r.returncode == 0, r.stderr
    a, b = load(str(DIABETES_DEMO)), load(str(out))
    assert a.codes == b.codes and a.patient_ids == b.patient_ids and a.titles == b.titles
    assert (a.X != b.X).nnz == 0
    assert DIABETES_DEMO.stat().st_size < 2 * 1024**2


def test_the_demo_is_real_correlated_records_with_titles():
    ds = load(str(DIABETES_DEMO))
    assert (ds.n_patients, ds.kind) == (20000, "binary") and ds.n_codes > 700
    assert len(ds.titles) == ds.n_codes and "diabetes" in ds.titles["250"].lower()
    sp = split(ds, 0.2, 0)
    holdout, train = ds.X[sp.holdout], ds.take(sp.train)
    independent = make_model("independent").fit(train, seed=0).sample(len(sp.train), seed=1)
    floor = cooccurrence(holdout, independent, kind="binary", top_k=100).r2
    ceiling = cooccurrence(holdout, train.X, kind="binary", top_k=100).r2
    assert 0.7 < floor < 0.88 and ceiling > 0.95  # room between floor and ceiling for a model to show
    assert np.isclose(np.asarray(ds.X.sum(1)).mean(), 3.7, atol=0.2)
