"""The login, in real Chromium (issue 11): with a password set, a visitor who has not signed in sees
only the login form, on every page address, and cannot stop a training run; the right password opens
the dashboard. Screenshot: test-artifacts/screenshots/login.png."""
from __future__ import annotations

import pytest

from browser_helpers import CHROMIUM, browser, serve, shot, wait_idle
from conftest import require_data
from corgan_core.runs import Run, TrainSettings

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _body(page) -> str:
    return page.inner_text("body")


def test_unauthenticated_visitor_sees_only_the_login_and_cannot_stop_a_run(tmp_path, monkeypatch):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    data = require_data("mimic3-demo")
    runs = tmp_path / "runs"
    run = Run.create(str(data), model="corgan", model_config={"epochs": 400, "pretrain_epochs": 0},
                     settings=TrainSettings(evaluate=False), run_dir=runs / "busy")
    run.start()
    monkeypatch.setenv("CORGAN_PASSWORD", PASSWORD)
    try:
        with serve(runs, tmp_path / "streamlit.log") as url, browser() as b:
            page = b.new_page(viewport={"width": 1280, "height": 900})
            for path in ("", "/train", "/runs", "/export"):
                page.goto(url + path)
                page.get_by_text("Sign in to continue").wait_for(timeout=60_000)
                wait_idle(page)
                text = _body(page)
                assert "Password" in text
                assert page.locator('[data-testid="stSidebarNav"]').count() == 0, path
                assert page.get_by_role("button", name="Stop").count() == 0, path
                assert page.get_by_role("button", name="Delete").count() == 0, path
                assert "busy" not in text and str(data) not in text, path
            shot(page, "login")
            assert run.status()["status"] in ("queued", "running")  # nothing stopped it

            page.get_by_label("Password", exact=True).fill("wrong password")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("That password is not right").wait_for(timeout=30_000)
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0

            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=60_000)
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Runs").click()
            page.get_by_role("heading", name="Runs", exact=True).wait_for(timeout=60_000)
            wait_idle(page)
            assert "busy" in _body(page)  # signed in, the runs are there
            shot(page, "login-signed-in")
    finally:
        if run.status()["status"] in ("queued", "running"):
            run.stop()
