"""Hostile uploads through the real dashboard in Chromium (issue 11): each is refused with one sentence
in an error box that names the uploaded file, no traceback is shown, and nothing of it is kept."""
from __future__ import annotations

import os

import pytest

from browser_helpers import CHROMIUM, browser, serve, shot, wait_idle
from conftest import assert_one_sentence
from hostile import CASES

pytestmark = pytest.mark.browser

UPLOADED = ("truncated gzip", "binary junk named .csv", "UTF-16 text", "pickle disguised as .npy",
            "zip bomb (declared size)", "truncated parquet")


def test_hostile_uploads_are_refused_in_one_sentence(tmp_path, monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    monkeypatch.delenv("CORGAN_PASSWORD", raising=False)
    files = []
    for i, case in enumerate(UPLOADED):
        (tmp_path / str(i)).mkdir()
        files.append((case, CASES[case][0](tmp_path / str(i))))
    runs = tmp_path / "runs"
    with serve(runs, tmp_path / "streamlit.log") as url, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/data")
        page.get_by_role("heading", name="Data").wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_text("Upload a file").click()
        for case, path in files:
            page.locator("input[type=file]").set_input_files(str(path))
            page.get_by_text(path.name).first.wait_for(timeout=30_000)
            wait_idle(page)  # the upload's own re-run must end, or the click can be lost
            page.get_by_role("button", name="Use this data").click()
            # the previous file's error box stays on screen until the re-run replaces it: wait for this one's
            alert = page.locator('[data-testid="stAlertContentError"]', has_text=path.name).first
            alert.wait_for(timeout=60_000)
            wait_idle(page)
            msg = alert.inner_text().strip()
            assert path.name in msg and str(runs) not in msg, (case, msg)
            assert_one_sentence(msg)
            assert page.locator('[data-testid="stException"]').count() == 0, case
            assert "Traceback" not in page.inner_text("body"), case
        shot(page, "hostile-upload")
    kept = [p for p in (runs / "_uploads").rglob("*") if p.is_file()] if (runs / "_uploads").exists() else []
    assert kept == []  # a rejected upload is deleted at once
