"""The benchmarks' one entry point: speed against the released code, then models' quality against time.

    python benchmarks/run.py --quick      # small budgets, under 3 minutes on 2 idle cores
    python benchmarks/run.py              # the full runs (bench_speed 5 repeats; every model 600 CPU-s)

Each benchmark runs as its own process (one at a time) and writes its own JSON; this script prints
one table and writes ``benchmarks/results/speed_run[_quick].json`` with the machine, the versions,
the commands and every figure (min/median/max over the repeats where there are repeats). Quick
mode writes its model rows to ``speed_models_quick.json``, never over ``models.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def plan(quick: bool, threads: int) -> list[tuple[str, list[str], Path]]:
    """(name, arguments, the JSON it writes) for each benchmark."""
    tag = "_quick" if quick else ""
    speed = ["--threads", str(threads), "--clock", "cpu", "--out", str(RESULTS / f"speed{tag}.json")]
    models = ["--threads", str(threads), "--clock", "cpu", "--out", str(RESULTS / f"speed_models{tag}.json")]
    if quick:
        speed += ["--quick", "--repeats", "2"]
        models += ["--models", "independent,vae", "--budget", "10", "--curve-every", "3"]
    else:
        models += ["--budget", "600", "--curve-every", "30"]
    return [("bench_speed", speed, RESULTS / f"speed{tag}.json"),
            ("bench_models", models, RESULTS / f"speed_models{tag}.json")]


def versions() -> dict:
    import numpy
    import torch

    from corgan_core import __version__

    return {"corgan_studio": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__}


def tables(name: str, doc: dict) -> str:
    """The benchmark's own table (the same as it prints)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if name == "bench_speed":
        import bench_speed

        return bench_speed.table(doc)
    import bench_models

    return bench_models.table(doc.get("results", []))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small budgets: under 3 minutes on 2 idle cores")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per benchmark process")
    args = ap.parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    doc = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "quick": args.quick,
           "machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average_before": round(os.getloadavg()[0], 2),
           "versions": versions(), "benchmarks": {}}
    lines = []
    t_all = time.perf_counter()
    for name, extra, out in plan(args.quick, args.threads):
        cmd = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        entry = {"command": " ".join(["python", f"benchmarks/{name}.py", *extra]), "returncode": proc.returncode,
                 "wall_s": round(time.perf_counter() - t0, 1)}
        if proc.returncode == 0 and out.exists():
            entry["results"] = json.loads(out.read_text())
            lines += [f"### {name} ({entry['command']})", "", tables(name, entry["results"]), ""]
        else:
            entry["error"] = (proc.stderr or "").strip().splitlines()[-3:]
            lines += [f"### {name}: failed ({entry['error'][-1:] or ['?']})", ""]
        doc["benchmarks"][name] = entry
    doc["wall_s"] = round(time.perf_counter() - t_all, 1)
    doc["load_average_after"] = round(os.getloadavg()[0], 2)
    print("\n".join(lines))
    print(f"\n{doc['wall_s']:.0f} s wall, load average {doc['load_average_before']} -> {doc['load_average_after']}")
    path = RESULTS / f"speed_run{'_quick' if args.quick else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {path}")
    return 0 if all(e["returncode"] == 0 for e in doc["benchmarks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
