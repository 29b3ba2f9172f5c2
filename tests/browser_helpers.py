"""Start the real dashboard (``streamlit run``) on a free loopback port and drive it with Chromium.

Used by tests/test_browser_e2e.py, and handy by hand (``with serve(...) as url, browser() as b``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CORGAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(runs_dir: Path, log_path: Path, timeout: float = 90.0):
    """Yield the base URL of a ``streamlit run dashboard/app.py`` server; stop it afterwards."""
    port = free_port()
    env = {**os.environ, "CORGAN_RUNS_DIR": str(runs_dir), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1"]
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > end:
                raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@contextlib.contextmanager
def browser():
    """A headless Debian Chromium driven by Playwright (no ``playwright install`` needed)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


BUSY_JS = """() => {
  const running = document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
    || /connecting/i.test((document.querySelector('[data-testid="stStatusWidget"]') || {}).innerText || '');
  const skeleton = document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stSpinner"]');
  const titled = document.querySelector('[data-testid="stMain"] h1');
  return Boolean(running || skeleton || !titled);
}"""


def wait_idle(page, timeout_s: float = 60.0, quiet_s: float = 1.0) -> None:
    """Wait until the script has finished running (no status widget, no skeletons) for ``quiet_s``."""
    end = time.time() + timeout_s
    quiet_since = None
    while time.time() < end:
        if page.evaluate(BUSY_JS):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since >= quiet_s:
            return
        page.wait_for_timeout(150)
    raise TimeoutError(f"the app was still busy after {timeout_s:.0f} s")


def shot(page, name: str) -> Path:
    """Screenshot of the whole page (the main area scrolls, so the viewport grows to fit it first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), 5000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def plot_points(page, selector: str = '[data-testid="stPlotlyChart"]') -> list[int]:
    """Number of drawn markers in each Plotly chart matching ``selector``."""
    return page.eval_on_selector_all(selector, "els => els.map(e => e.querySelectorAll('.scatterlayer .point').length)")


EXCEPTION = '[data-testid="stException"]'
CHART = '[data-testid="stPlotlyChart"]'


def require_browser() -> None:
    """Skip (with the reason) when Chromium or Playwright is missing."""
    import pytest

    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (CI installs it with .ci/run)")
    pytest.importorskip("playwright.sync_api")
