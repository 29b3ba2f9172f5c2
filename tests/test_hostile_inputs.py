"""Bad input everywhere it enters: files, uploads, CLI options, run ids (issue 11).

Every hostile input is refused with one sentence naming the problem: no traceback, no raw
exception, and no run folder left behind. The corpus lives in tests/hostile.py (built in tmp).
"""
from __future__ import annotations

import io
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO_ROOT, assert_one_sentence, require_data
from corgan_core import cli
from corgan_core.data import DataOptions, load
from corgan_core.data.upload import MAX_UPLOAD_BYTES, stage_upload
from corgan_core.errors import CorganError, DataError, RunError
from corgan_core.runs import find_run
from hostile import BAD_RUN_IDS, BAD_TRAIN_OPTIONS, CASES, GOOD_LONG

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def refusal(path, **options) -> str:
    with pytest.raises(DataError) as info:
        load(path, **options)
    msg = str(info.value)
    assert_one_sentence(msg)
    return msg


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_in_one_sentence(case, tmp_path):
    build, options, words = CASES[case]
    path = build(tmp_path)
    msg = refusal(path, **options)
    if "min_count" not in options:  # an option's own error names the option, not a file
        assert path.name in msg or str(path) in msg, msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


@pytest.mark.parametrize("case", ["truncated gzip", "binary junk named .csv", "pickle disguised as .npy",
                                  "CSV with 10^6 columns", "zip bomb (declared size)"])
def test_cli_refuses_hostile_files_with_one_line(case, tmp_path, capsys):
    path = CASES[case][0](tmp_path)
    assert cli.main(["data", "inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert_one_sentence(err[len("error: "):].strip())


def test_upload_of_every_hostile_file_is_refused(tmp_path):
    """The dashboard's path: stage the upload, then load it; each refusal is one sentence."""
    refused = 0
    for i, (case, (build, options, _words)) in enumerate(CASES.items()):
        (tmp_path / str(i)).mkdir()
        src = build(tmp_path / str(i))
        if src.is_dir():
            continue  # a folder cannot be uploaded
        try:
            staged = stage_upload(src.name, src.read_bytes(), tmp_path / "uploads")
            load(staged, **options)
        except DataError as err:
            assert_one_sentence(str(err))
            refused += 1
        else:
            pytest.fail(f"{case}: the upload loaded")
    assert refused == len(CASES) - 1


class Huge:
    """An upload that says how big it is and fails if anything reads it."""

    name = "huge.csv"
    size = MAX_UPLOAD_BYTES + 1

    def getvalue(self):
        raise AssertionError("an upload above the limit was read")

    read = getvalue


def test_upload_above_the_limit_is_refused_before_it_is_read(tmp_path):
    with pytest.raises(DataError) as info:
        stage_upload(Huge.name, Huge(), tmp_path)
    assert_one_sentence(str(info.value))
    assert "2,048 MB upload limit" in str(info.value)
    assert not any(tmp_path.iterdir())  # nothing staged
    with pytest.raises(DataError):
        stage_upload("small.csv", b"x" * 11, tmp_path, limit_bytes=10)


def test_upload_limit_matches_streamlit_config():
    cfg = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] * 1024**2 == MAX_UPLOAD_BYTES
    assert cfg["server"]["address"] == "127.0.0.1"


def test_uploads_are_owner_only(tmp_path):
    path = Path(stage_upload("long.csv", GOOD_LONG.encode(), tmp_path / "up"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "up").stat().st_mode & 0o777 == 0o700
    folder = require_data("mimic3-demo")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"mimic/{f.name}")
    out = Path(stage_upload("mimic.zip", buf.getvalue(), tmp_path / "up"))
    assert load(out).X.shape == (100, 275)
    for f in out.parent.rglob("*"):
        assert f.stat().st_mode & 0o777 == (0o700 if f.is_dir() else 0o600), f


@pytest.mark.parametrize("ref", BAD_RUN_IDS)
def test_run_ids_that_are_paths_are_refused(ref, tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(RunError) as info:
        find_run(ref, root=tmp_path / "runs")
    assert_one_sentence(str(info.value))


@pytest.mark.parametrize("case", list(BAD_TRAIN_OPTIONS))
def test_train_options_out_of_range_leave_no_run(case, tmp_path, capsys, monkeypatch):
    args, word = BAD_TRAIN_OPTIONS[case]
    monkeypatch.setenv("CORGAN_RUNS_DIR", str(tmp_path / "runs"))
    data = require_data("mimic3-demo")
    code = cli.main(["train", str(data), "--epochs", "1", "--pretrain-epochs", "0", *args])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert word in line, line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# ---- property-based: whatever the bytes or options, a Dataset or one DataError sentence ------------
SUFFIXES = [".csv", ".csv.gz", ".npy", ".npz", ".parquet", ".zip", ".tsv"]


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_never_escape_as_raw_errors(tmp_path, data, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    try:
        load(p)
    except DataError as err:
        assert_one_sentence(str(err))


CELL = st.one_of(st.text(max_size=8), st.integers(-5, 5).map(str), st.sampled_from(["", "?", "nan", "inf", "1e309", '"', "401.9"]))


@FUZZ
@given(header=st.lists(st.text(min_size=1, max_size=6).filter(lambda s: "\n" not in s and "\r" not in s),
                       min_size=1, max_size=5),
       rows=st.lists(st.lists(CELL, min_size=1, max_size=6), max_size=12),
       source=st.sampled_from(["auto", "long", "wide-codes", "csv"]))
def test_random_tables_load_or_refuse_in_one_sentence(tmp_path, header, rows, source):
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    p = tmp_path / "fuzz.csv"
    p.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        ds = load(p, source=source)
    except DataError as err:
        assert_one_sentence(str(err))
    else:
        assert ds.n_patients >= 2 and ds.n_codes >= 1 and np.isfinite(ds.dense()).all()


@FUZZ
@given(kind=st.text(max_size=10), grouping=st.text(max_size=10), icd=st.text(max_size=4),
       min_count=st.one_of(st.integers(-3, 100), st.text(max_size=3)))
def test_random_options_load_or_refuse_in_one_sentence(tmp_path, kind, grouping, icd, min_count):
    p = tmp_path / "long.csv"
    p.write_text(GOOD_LONG)
    try:
        load(p, DataOptions(kind=kind, grouping=grouping, icd_version=icd, min_count=min_count))
    except CorganError as err:
        assert_one_sentence(str(err))
