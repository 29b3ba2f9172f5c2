"""The dashboard in a real browser: a real ``streamlit run`` on a loopback port, driven by Chromium.

A new user's path: open the app on the demo data, start a quick training run, watch the loss chart
appear and grow (and see it from a second tab), wait for the run to finish, read the Fidelity and
Privacy pages, download the synthetic CSV. No page may show a Streamlit exception. Screenshots of
every page are saved under test-artifacts/screenshots/.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from browser_helpers import CHROMIUM, browser, plot_points, serve, shot, wait_idle

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
CHART = '[data-testid="stPlotlyChart"]'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Base URL of a fresh dashboard server whose runs folder is empty."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (CI installs it with .ci/run)")
    pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("browser")
    with serve(root / "runs", root / "streamlit.log") as url:
        yield url, root / "runs"


@pytest.fixture(scope="module")
def page(app):
    with browser() as b:
        context = b.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield context.new_page()
        context.close()


def no_exception(page) -> None:
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).all_inner_texts()


def go(page, title: str, timeout_s: float = 120) -> None:
    """Open a page from the sidebar (same session, as a user would) and wait for it to settle."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{title}")', timeout=timeout_s * 1000)
    wait_idle(page, timeout_s)
    no_exception(page)


def progress_text(page) -> str:
    bar = page.locator('[data-testid="stProgress"]')
    return bar.first.inner_text() if bar.count() else ""


def test_demo_to_trained_model_to_downloaded_csv(app, page):
    url, runs = app

    # 1. the app opens on the demo data with nothing to configure
    page.goto(url)
    page.wait_for_selector(f'[data-testid="stMetricValue"]:has-text("2,694")', timeout=90_000)
    wait_idle(page)
    no_exception(page)
    assert page.locator(CHART).count() == 2
    shot(page, "01-data-demo")

    # 2. start a quick-demo training run and watch the loss chart appear and grow
    go(page, "Train")
    toggle = page.get_by_text("Quick demo", exact=False)
    assert toggle.count() >= 1
    shot(page, "02-train-form")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector(CHART, timeout=120_000)
    first = plot_points(page)[0]
    deadline = time.time() + 120
    while plot_points(page)[0] <= first:
        assert time.time() < deadline, "the loss chart did not grow"
        page.wait_for_timeout(500)
    assert plot_points(page)[0] > first
    no_exception(page)
    shot(page, "03-train-live")

    # a second tab sees the same run (it lives in its own process, not in the session)
    (run_dir,) = [p for p in runs.iterdir() if (p / "config.json").exists()]
    other = page.context.new_page()
    other.goto(url + "/train")
    other.wait_for_selector('[data-testid="stProgress"]', timeout=90_000)
    shown = other.eval_on_selector_all('[data-testid="stSelectbox"] input[aria-label="Run shown"]',
                                       "els => els.map(e => e.value)")
    assert shown and shown[0].startswith(run_dir.name)
    no_exception(other)
    other.close()

    # 3. wait for the run to finish; quality and risk were plotted beside the losses
    deadline = time.time() + 180
    while "Finished" not in progress_text(page):
        assert time.time() < deadline, f"training did not finish: {progress_text(page)!r}"
        no_exception(page)
        page.wait_for_timeout(1000)
    wait_idle(page)
    assert page.locator(CHART).count() >= 2  # losses + checkpoint quality
    no_exception(page)
    shot(page, "04-train-finished")

    # 4. fidelity: scatter of code frequencies, co-occurrence, dimension-wise prediction
    go(page, "Fidelity", 240)
    assert page.locator(CHART).count() >= 3
    assert page.get_by_text("Each code's frequency", exact=False).count() >= 1
    shot(page, "05-fidelity")

    # 5. privacy: a verdict per measure, membership attack, distances to the closest record
    go(page, "Privacy", 240)
    assert page.locator(CHART).count() >= 3
    assert page.get_by_text("within limit", exact=False).count() + page.get_by_text("above limit", exact=False).count() >= 3
    shot(page, "06-privacy")

    # 6. runs: the run is listed with its status
    go(page, "Runs")
    assert page.get_by_text("Compare runs").count() == 1
    shot(page, "07-runs")

    # 7. export: download the synthetic CSV, with the code names as header
    go(page, "Export", 180)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    path = info.value.path()
    lines = Path(path).read_text().splitlines()
    from corgan_core.data import load_demo
    from corgan_core.runs import Run

    assert lines[0].split(",") == list(load_demo().codes)
    assert len(lines) - 1 == Run(run_dir).config()["split"]["train"]
    assert {set(line.split(",")) <= {"0", "1"} for line in lines[1:50]} == {True}
    no_exception(page)
    shot(page, "08-export")


def test_bad_path_shows_an_error_box_not_a_traceback(app, page):
    url, _ = app
    page.goto(url)
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("2,694")', timeout=90_000)
    page.get_by_text("A file or folder on this server").click()
    page.get_by_label("Path").fill("/no/such/folder")
    page.get_by_label("Path").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this data").click()
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    wait_idle(page)
    assert "not found" in page.locator('[data-testid="stAlertContentError"]').first.inner_text().lower()
    no_exception(page)
    assert page.locator('[data-testid="stMetricValue"]:has-text("2,694")').count() == 1  # still usable
    shot(page, "09-data-bad-path")


def test_a_restarted_server_shows_the_finished_run(app, page):
    """Runs live on disk: a fresh server process on the same runs folder shows the run and its curves."""
    _, runs = app
    if not any((p / "model.pt").exists() for p in runs.iterdir() if p.is_dir()):
        pytest.skip("no finished run from the end-to-end test")
    with serve(runs, runs.parent / "streamlit-restarted.log") as url:
        page.goto(url + "/train")
        page.wait_for_selector('[data-testid="stProgress"]:has-text("Finished")', timeout=120_000)
        wait_idle(page)
        assert page.locator(CHART).count() >= 2
        no_exception(page)
        shot(page, "10-train-after-restart")
        go(page, "Fidelity", 120)  # the cached evaluation makes this quick
        assert page.locator(CHART).count() >= 3
        shot(page, "11-fidelity-after-restart")
