"""Page speed in a real browser: the first render of the app and each page, cold and warm.

    python benchmarks/bench_pages.py [--repeats 2] [--no-write]

A finished run on the embedded Diabetes demo (trained briefly in this process, its evaluation made
by the run process as usual) is served by a real ``streamlit run``; headless Chromium opens the app
and then every page from the sidebar. "cold" is a page's first visit on a fresh server (imports,
caches and file reads happen then), "warm" its second visit. A time is from the click (or the
navigation) until the page has its title and the script has stopped running. Prints a table and
writes ``benchmarks/results/pages.json``. Targets (issue 12): first render under 3 s, every page
under 2 s warm, on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
RESULTS = ROOT / "benchmarks" / "results" / "pages.json"
PAGES = ["Data", "Train", "Fidelity", "Privacy", "Cohorts", "Runs", "Export"]


def _trained_run(root: Path) -> str:
    from corgan_core.demo import DIABETES_DEMO
    from corgan_core.runs import Run, TrainSettings
    from corgan_core.runs.execute import execute

    run = Run.create(str(DIABETES_DEMO), model_config={"epochs": 2, "pretrain_epochs": 1},
                     settings=TrainSettings(device="cpu"), run_dir=root / "bench-run")
    execute(run)
    return run.id


def _timed(page, action, title: str, timeout_s: float = 180) -> float:
    from browser_helpers import wait_idle

    t0 = time.perf_counter()
    action()
    page.wait_for_selector(f'[data-testid="stMain"] h1:has-text("{title}")', timeout=timeout_s * 1000)
    wait_idle(page, timeout_s, quiet_s=0.3)
    return time.perf_counter() - t0 - 0.3  # the quiet period that proves it settled is not page time


def one_server(runs: Path, log: Path) -> dict:
    from browser_helpers import browser, serve

    out = {"cold": {}, "warm": {}}
    with serve(runs, log) as url, browser() as b:
        page = b.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        out["first_render"] = _timed(page, lambda: page.goto(url), "corGAN studio")
        nav = page.locator('[data-testid="stSidebarNav"]')
        names = [p for p in PAGES if nav.get_by_role("link", name=p).count()]
        for phase in ("cold", "warm"):
            for name in names:
                out[phase][name] = _timed(page, lambda n=name: nav.get_by_role("link", name=n).click(), name)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2, help="fresh servers to measure (min/median/max over them)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        os.environ["CORGAN_RUNS_DIR"] = str(runs)
        _trained_run(runs)
        trials = [one_server(runs, Path(tmp) / f"streamlit-{i}.log") for i in range(args.repeats)]
    rows = [("first render", "-", [t["first_render"] for t in trials])]
    for name in trials[0]["cold"]:
        for phase in ("cold", "warm"):
            rows.append((name, phase, [t[phase][name] for t in trials]))
    print(f"{'page':<14}{'visit':<7}{'min s':>8}{'median s':>10}{'max s':>8}")
    table = []
    for name, phase, values in rows:
        rec = {"page": name, "visit": phase, "min_s": round(min(values), 2),
               "median_s": round(statistics.median(values), 2), "max_s": round(max(values), 2)}
        table.append(rec)
        print(f"{name:<14}{phase:<7}{rec['min_s']:>8.2f}{rec['median_s']:>10.2f}{rec['max_s']:>8.2f}")
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        doc = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "load_average": os.getloadavg(), "repeats": args.repeats, "data": "embedded Diabetes 130-US demo",
               "results": table}
        RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
