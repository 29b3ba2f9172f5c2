"""The Fidelity page on a continuous run (issue 16 item 3): a short real corGAN run on Epileptic
Seizure rows, then the page shows the continuous block (per-class power spectra, real vs synthetic
vs independent, and the per-column distances) without an error or a traceback."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT, require_data
from corgan_core.runs import Run, TrainSettings

APP = str(REPO_ROOT / "dashboard" / "app.py")


@pytest.fixture
def eeg_run(tmp_path, monkeypatch):
    from corgan_core.runs.execute import execute
    from corgan_core.runs.products import evaluation

    src = require_data("epileptic-seizure") / "epileptic_seizure_recognition_rebuilt.csv.gz"
    df = pd.read_csv(src)
    part = tmp_path / "eeg_subset.csv"
    df.iloc[np.random.default_rng(0).permutation(len(df))[:800]].to_csv(part, index=False)  # the file is ordered by class
    root = tmp_path / "runs"
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(root))
    run = Run.create(str(part), model_config={"epochs": 3, "pretrain_epochs": 1},
                     settings=TrainSettings(device="cpu"), run_dir=root / "eeg-run")
    execute(run)
    assert run.status()["status"] == "finished"
    evaluation(run)
    return run


def test_fidelity_page_shows_spectra_and_column_distances_for_a_continuous_run(eeg_run):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("../pages/fidelity.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "Continuous values: spectra and columns" in [h.value for h in at.subheader]
    charts = at.get("plotly_chart")
    assert len(charts) >= 2
    spectra = [c for c in charts if "class 1" in c.proto.spec]  # the per-class spectrum chart
    assert spectra and "synthetic, class 0" in spectra[0].proto.spec and "real (held out), class 1" in spectra[0].proto.spec
