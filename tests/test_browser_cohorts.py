"""The Cohorts page in a real browser: a real ``streamlit run`` driven by Chromium, on a run trained on
the embedded Diabetes 130-US demo. A user types two codes into the "Must have all of" box (diabetes
250 and heart failure 428), and sees the sentence, both prevalence charts (bars with intervals, the
real-vs-synthetic scatter) and the codes-per-patient histogram drawn, and synthetic members listed;
the saved definition, uploaded in a fresh tab, brings the same cohort back.
The screenshot is saved as test-artifacts/screenshots/cohorts-demo.png.
"""
from __future__ import annotations

import json
import re

import pytest

from browser_helpers import CHART, EXCEPTION, browser, plot_points, require_browser, serve, shot, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A dashboard server whose runs folder holds one independent-model run on the demo."""
    require_browser()
    from corgan_core.demo import DIABETES_DEMO
    from corgan_core.runs import Run, TrainSettings
    from corgan_core.runs.execute import execute

    root = tmp_path_factory.mktemp("browser-cohorts")
    run = Run.create(str(DIABETES_DEMO), model="independent", settings=TrainSettings(device="cpu", evaluate=False),
                     run_dir=root / "runs" / "independent-demo")
    execute(run)
    with serve(root / "runs", root / "streamlit.log") as url:
        yield url


def pick(page, box: str, code: str) -> None:
    """Type a code into a multiselect (as a user searching it) and click that code's option."""
    field = page.locator('[data-testid="stMultiSelect"]').filter(has_text=box).locator("input")
    field.click()
    field.fill(code)
    option = page.locator('[role="option"]').filter(has_text=re.compile(rf"^{code} - "))
    option.first.wait_for(timeout=30_000)
    option.first.click()
    page.keyboard.press("Escape")
    wait_idle(page, 120)


def test_two_code_cohort_draws_both_charts_and_its_definition_reloads(app, tmp_path):
    with browser() as b:
        context = b.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(app + "/cohorts")
        page.wait_for_selector('[data-testid="stMain"] h1:has-text("Cohorts")', timeout=90_000)
        page.wait_for_selector('[data-testid="stMultiSelect"]', timeout=120_000)
        wait_idle(page, 120)
        assert page.get_by_text("Pick at least one code").count() == 1
        pick(page, "Must have all of", "250")
        pick(page, "Must have all of", "428")
        page.wait_for_selector(CHART, timeout=120_000)
        wait_idle(page, 120)
        assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).all_inner_texts()
        chips = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Must have all of").inner_text()
        assert "250 - Diabetes" in chips and "428 - Congestive heart failure" in chips
        assert page.get_by_text("times the real one").count() == 1
        assert page.locator(CHART).count() == 3
        bars = page.eval_on_selector_all(CHART, "els => els.map(e => e.querySelectorAll('.barlayer .point').length)")
        assert bars[0] >= 20 and bars[2] >= 4  # real and synthetic bars of the associated codes; the histogram
        assert plot_points(page)[1] >= 50  # within-cohort prevalence of every unsuppressed code
        assert page.locator('[data-testid="stMarkdownContainer"]:has-text("synthetic-")').count() >= 10
        shot(page, "cohorts-demo")

        # save the definition, then load it in a fresh tab: the same cohort comes back
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Save definition (JSON)").click()
        saved = tmp_path / "cohort-definition.json"  # the uploader takes .json names only
        info.value.save_as(saved)
        assert json.loads(saved.read_text())["all_of"] == ["250", "428"]
        fresh = context.new_page()
        fresh.goto(app + "/cohorts")
        fresh.wait_for_selector('[data-testid="stMultiSelect"]', timeout=120_000)
        wait_idle(fresh, 120)
        fresh.get_by_text("Load a saved definition (JSON)").click()
        fresh.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
        fresh.wait_for_selector(CHART, timeout=120_000)
        wait_idle(fresh, 120)
        assert fresh.locator(CHART).count() == 3 and fresh.locator(EXCEPTION).count() == 0
        assert fresh.get_by_text("times the real one").count() == 1
        context.close()
