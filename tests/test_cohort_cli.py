"""``corgan cohort`` as a user runs it: on a run trained on the embedded Diabetes 130-US demo, print the
comparison, write the cohort JSON, read its definition back (same numbers), write the members."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from corgan_core.demo import DIABETES_DEMO

from conftest import assert_one_sentence

CORGAN = shutil.which("corgan", path=os.path.dirname(sys.executable)) or "corgan"


def cli(*args):
    return subprocess.run([CORGAN, *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort-cli") / "run"
    r = cli("train", DIABETES_DEMO, "--model", "independent", "--no-evaluate", "--device", "cpu", "--run-dir", d)
    assert r.returncode == 0, r.stderr
    return d


def test_cohort_json_round_trips_its_definition(run_dir, tmp_path):
    out = tmp_path / "cohort.json"
    r = cli("cohort", "--run-dir", run_dir, "--all", "250,428", "--none", "585", "--name", "DM+HF-CKD", "-o", out)
    assert r.returncode == 0, r.stderr
    assert re.search(r"real holdout +4,000 patients", r.stdout) and "verdict:" in r.stdout
    assert "Congestive heart failure" in r.stdout  # titles in the printed definition
    c = json.loads(out.read_text())
    assert c["definition"]["all_of"] == ["250", "428"] and c["definition"]["none_of"] == ["585"]
    assert c["definition"]["name"] == "DM+HF-CKD" and c["settings"]["k"] == 10
    members = c["members"]
    assert len(members) == c["synthetic"]["members"] > 0
    assert all(any(x.startswith("250 - ") for x in m["record"]) and not any(x.startswith("585 ") for x in m["record"])
               for m in members)
    # the file reads back as a definition: the same comparison, number for number
    again = tmp_path / "again.json"
    r2 = cli("cohort", "--run-dir", run_dir, "--definition", out, "-o", again)
    assert r2.returncode == 0, r2.stderr
    c2 = json.loads(again.read_text())
    assert c2["definition"] == c["definition"]
    assert {k: c2[k] for k in ("real", "synthetic", "ratio", "codes", "profile")} == \
        {k: c[k] for k in ("real", "synthetic", "ratio", "codes", "profile")}


def test_members_csv_holds_only_cohort_members(run_dir, tmp_path):
    out = tmp_path / "members.csv"
    r = cli("cohort", "--run-dir", run_dir, "--all", "250", "--all", "428", "--k", "20", "-o", out)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, dtype={})
    assert len(df) > 0 and (df["250"] == 1).all() and (df["428"] == 1).all()
    assert f"wrote {out} ({len(df)} synthetic members)" in r.stdout


@pytest.mark.parametrize("args, words", [
    (["--all", "99999"], "Code '99999' of the cohort definition is not among the 754 codes"),
    (["--all", "250", "--none", "250"], "both required and excluded"),
    ([], "Give at least one of --all"),
    (["--all", "250", "--k", "0"], "at least 1"),
    (["--all", "250", "-o", "x.txt"], "use a .json, .csv, .parquet or .npz file name"),
])
def test_bad_cohort_input_is_one_error_line(run_dir, args, words, capsys):
    from corgan_core.cli import main  # in-process: the same entry point as the script, without the start-up

    assert main(["cohort", "--run-dir", str(run_dir), *args]) == 2
    err = capsys.readouterr().err
    msg = err.strip().removeprefix("error: ")
    assert words in msg and err.count("\n") == 1
    assert_one_sentence(msg)
