"""The dashboard in a real browser: a real ``streamlit run`` on a loopback port, driven by Chromium.

A new user's path: open the app on the demo data, start a quick training run, watch the loss chart
appear and grow (and see it from a second tab), wait for the run to finish, read the Fidelity and
Privacy pages, download the synthetic CSV. No page may show a Streamlit exception. Screenshots of
every page are saved under test-artifacts/screenshots/.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from browser_helpers import CHART, EXCEPTION, browser, plot_points, require_browser, serve, shot, wait_idle
from corgan_core.runs.settings import QUICK_EPOCHS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Base URL of a fresh dashboard server whose runs folder is empty."""
    require_browser()
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

    # 0. the app opens on a start page that says what this is and what to do
    page.goto(url)
    page.wait_for_selector('[data-testid="stMain"] h1:has-text("corGAN studio")', timeout=90_000)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("Try it in two minutes", exact=False).count() == 1
    shot(page, "00-start")

    # 1. the Data page shows the real, correlated Diabetes 130-US demo with nothing to configure
    go(page, "Data")
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("20,000")', timeout=90_000)
    wait_idle(page)
    assert page.locator(CHART).count() == 2
    shot(page, "01-data-demo")

    # 2. start a quick-demo training run and watch the loss chart appear and grow
    go(page, "Train")
    assert page.get_by_text("Quick demo", exact=False).count() >= 1
    # the quick demo's epochs without its time limit: the same model on any machine (seeded epochs)
    page.get_by_text("Run settings").click()
    page.locator('input[aria-label="Time limit (seconds, 0 = none)"]').fill("0")
    page.locator('input[aria-label="Time limit (seconds, 0 = none)"]').press("Enter")
    wait_idle(page)
    shot(page, "02-train-form")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector(CHART, timeout=120_000)
    first = plot_points(page)[0]
    deadline = time.time() + 180
    while plot_points(page)[0] <= first:
        assert time.time() < deadline, "the loss chart did not grow"
        page.wait_for_timeout(500)
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

    # 3. wait for the run to end: all its epochs, then the evaluation (made by the run process)
    deadline = time.time() + 600
    while "Finished" not in progress_text(page):
        assert time.time() < deadline, f"training did not finish: {progress_text(page)!r}"
        no_exception(page)
        page.wait_for_timeout(1000)
    wait_idle(page)
    from corgan_core.runs import Run
    from corgan_core.runs.views import progress

    p = progress(Run(run_dir))
    assert "Finished - 100%" in progress_text(page) and p["epoch"] == p["epochs"] == QUICK_EPOCHS["epochs"]
    assert page.locator(CHART).count() >= 2  # losses + checkpoint quality
    no_exception(page)
    shot(page, "04-train-finished")

    # 4. fidelity: the report was made by the run process; the model beats independent sampling on pairs
    from corgan_core.runs.products import cached_evaluation

    rep = cached_evaluation(Run(run_dir))
    assert rep is not None, "the run process left no evaluation report"
    pairs = rep.fidelity["cooccurrence_r2"]
    assert pairs.value > pairs.baseline, (pairs.value, pairs.baseline)
    go(page, "Fidelity", 60)
    assert page.locator(CHART).count() >= 3
    shot(page, "05-fidelity")

    # 5. privacy: a verdict per measure, membership attack, distances to the closest record
    go(page, "Privacy", 60)
    assert page.locator(CHART).count() >= 3
    shot(page, "06-privacy")

    # 6. runs: the run is listed with its status
    go(page, "Runs")
    assert page.get_by_text("Compare runs").count() == 1
    shot(page, "07-runs")

    # 7. export: the synthetic CSV has the code names as its header, and codes.csv gives their titles
    go(page, "Export", 180)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    lines = Path(info.value.path()).read_text().splitlines()
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download codes.csv").click()
    import pandas as pd

    codes = pd.read_csv(info.value.path(), dtype=str, keep_default_na=False)
    ds = Run(run_dir).dataset()
    assert lines[0].split(",") == list(ds.codes) == list(codes["code"])
    assert list(codes["title"]) == [ds.titles[c] for c in ds.codes]
    assert len(lines) - 1 == Run(run_dir).config()["split"]["train"]
    assert {set(line.split(",")) <= {"0", "1"} for line in lines[1:50]} == {True}
    no_exception(page)
    shot(page, "08-export")


def test_a_run_cut_by_its_time_limit_says_so(app, page):
    """Not "Finished - 100%" beside "Epoch 1 / 6": how far it got, and that the time limit ended it."""
    from conftest import require_data
    from corgan_core.runs import Run, TrainSettings
    from corgan_core.runs.execute import execute

    url, runs = app
    run = Run.create(str(require_data("mimic3-demo")), model_config={"epochs": 100_000, "pretrain_epochs": 0},
                     settings=TrainSettings(time_budget_s=3, evaluate=False), run_dir=runs / "zz-time-limited")
    execute(run)
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:  # a new session shows the newest run
        tab = context.new_page()
        tab.goto(url + "/train")
        tab.wait_for_selector('[data-testid="stProgress"]', timeout=90_000)
        wait_idle(tab)
        text = progress_text(tab)
        epoch = run.status()["epoch"]
        assert f"Stopped on its time limit (3 s) after epoch {epoch} of 100000" in text, text
        assert "100%" not in text and "Finished" not in text
        no_exception(tab)
        shot(tab, "04b-train-time-limited")
    finally:
        context.close()


def test_the_first_edit_of_the_path_box_is_kept(app, page):
    """It used to revert: after one path had loaded, the first edit was thrown away."""
    from conftest import require_data

    mimic, eicu = require_data("mimic3-demo"), require_data("eicu-demo")
    url, _ = app
    page.goto(url + "/data")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
    page.get_by_text("A file or folder on this server").click()
    wait_idle(page)
    for folder, patients in ((mimic, "100"), (eicu, "1,558")):
        page.get_by_role("textbox", name="Path").fill(str(folder))
        page.get_by_role("textbox", name="Path").press("Enter")
        wait_idle(page)
        assert page.get_by_role("textbox", name="Path").input_value() == str(folder)
        page.get_by_role("button", name="Use this data").click()
        page.wait_for_selector(f'[data-testid="stMetricValue"]:has-text("{patients}")', timeout=90_000)
        wait_idle(page)
        assert page.get_by_role("textbox", name="Path").input_value() == str(folder)
    no_exception(page)


def test_uploads_name_the_file_and_can_be_deleted(app, page, tmp_path):
    url, runs = app
    page.goto(url + "/data")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
    page.get_by_text("Upload a file").click()
    wait_idle(page)
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02 not a table at all")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(junk))
    wait_idle(page)
    page.get_by_role("button", name="Use this data").click()
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    message = page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert "junk.csv" in message and "_uploads" not in message, message
    assert not any((runs / "_uploads").glob("*/junk.csv"))  # a rejected upload is deleted at once

    def use(name: str, rows: int) -> None:
        path = tmp_path / name
        path.write_text("a,b\n" + "".join(f"{i % 2},{(i // 2) % 2}\n" for i in range(rows)))
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
        wait_idle(page)
        page.get_by_role("button", name="Use this data").click()
        page.wait_for_selector(f'[data-testid="stMetricValue"]:has-text("{rows}")', timeout=60_000)
        wait_idle(page)
        assert page.get_by_text(f"{name} (in use)").count() == 1

    use("good.csv", 30)
    shot(page, "09-uploads")
    use("other.csv", 12)  # a second upload takes over; the first can then be deleted from the list
    page.locator("button:not([disabled])").filter(has_text="Delete").first.click()  # the one in use is disabled
    wait_idle(page)
    assert not any((runs / "_uploads").glob("*/good.csv"))
    assert page.get_by_text("other.csv (in use)").count() == 1
    no_exception(page)


def test_bad_path_shows_an_error_box_not_a_traceback(app, page):
    url, _ = app
    page.goto(url + "/data")
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("20,000")', timeout=90_000)
    page.get_by_text("A file or folder on this server").click()
    page.get_by_role("textbox", name="Path").fill("/no/such/folder")
    page.get_by_role("textbox", name="Path").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this data").click()
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=60_000)
    wait_idle(page)
    assert "not found" in page.locator('[data-testid="stAlertContentError"]').first.inner_text().lower()
    no_exception(page)
    assert page.locator('[data-testid="stMetricValue"]:has-text("20,000")').count() == 1  # still usable
    shot(page, "10-data-bad-path")


def test_a_restarted_server_shows_the_finished_run(app, page):
    """Runs live on disk: a fresh server process on the same runs folder shows the run and its curves."""
    _, runs = app
    if not any((p / "model.pt").exists() for p in runs.iterdir() if p.is_dir()):
        pytest.skip("no finished run from the end-to-end test")
    with serve(runs, runs.parent / "streamlit-restarted.log") as url:
        page.goto(url + "/train")
        page.wait_for_selector('[data-testid="stProgress"]:has-text("Finished"), [data-testid="stProgress"]:has-text("Stopped on its time limit")', timeout=120_000)
        wait_idle(page)
        assert page.locator(CHART).count() >= 2
        no_exception(page)
        shot(page, "11-train-after-restart")
        go(page, "Fidelity", 120)  # the cached evaluation makes this quick
        assert page.locator(CHART).count() >= 3
        shot(page, "12-fidelity-after-restart")
