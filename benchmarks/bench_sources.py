"""Benchmark: ``corgan data inspect`` on an OMOP CDM in PostgreSQL with 1 million condition rows.

A throw-away cluster (tests/pg_server.py) gets a generated CDM, made on the server with
``generate_series`` and a fixed ``setseed``: 100,000 persons, 2,000 condition concepts (with
titles in ``concept``) drawn with a skew (a few common, many rare), 1,000,000 condition rows over
2000-2020, 80 % of them in one of 300,000 visits. Each case runs the real CLI
(``corgan data inspect URL --json``, which imports the whole CLI, torch included) in its own
process, timed from start to exit, with that process's peak RSS from ``wait4``; one more case runs
the bare loader (``corgan_core.data.load``) the same way, to show the loader's own share.
The server's CPU time for each case (postmaster and backends, from /proc) is reported beside the
client's, since on a shared machine wall time mostly measures the other jobs. Target on 2 cores: under 30 s and under 1 GB peak RSS.

    python benchmarks/bench_sources.py [--rows 1000000] [--persons 100000]

Prints a table and writes benchmarks/results/sources.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "sources.json"
sys.path.insert(0, str(ROOT))
from tests.pg_server import cluster  # noqa: E402

CORGAN = [sys.executable, "-m", "corgan_core.cli"]
CASES = {
    "binary, conditions": [],
    "count, conditions": ["--kind", "count"],
    "binary, 2010-2015 window": ["--date-from", "2010-01-01", "--date-to", "2015-12-31"],
    "binary, 50-concept set": ["--concepts", ",".join(str(1000 + i) for i in range(0, 2000, 40))],
}


def generate(server, rows: int, persons: int, concepts: int = 2000) -> float:
    t = time.perf_counter()
    server.psql(f"""
        create schema cdm;
        select setseed(0.42);
        create table cdm.person as select g as person_id, 0 as gender_concept_id,
            1930 + (g % 70) as year_of_birth, 0 as race_concept_id, 0 as ethnicity_concept_id
            from generate_series(1, {persons}) g;
        create table cdm.concept as select 1000 + g as concept_id, 'Condition ' || g as concept_name,
            'Condition' as domain_id from generate_series(0, {concepts - 1}) g;
        create table cdm.condition_occurrence as select g as condition_occurrence_id,
            1 + floor(random() * {persons})::bigint as person_id,
            1000 + floor({concepts} * power(random(), 3))::bigint as condition_concept_id,
            date '2000-01-01' + floor(random() * 7670)::int as condition_start_date,
            case when random() < 0.8 then 1 + floor(random() * 300000)::bigint end as visit_occurrence_id
            from generate_series(1, {rows}) g;
        analyze;""")
    return time.perf_counter() - t


def server_cpu(server) -> float:
    """CPU seconds the cluster has used: the postmaster, its reaped backends and the live ones."""
    tick = os.sysconf("SC_CLK_TCK")
    pm = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])

    def stat(pid: int) -> list[str]:
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2:].split()

    total = sum(int(x) for x in stat(pm)[11:15])  # utime, stime, cutime, cstime
    for child in Path(f"/proc/{pm}/task/{pm}/children").read_text().split():
        try:
            total += sum(int(x) for x in stat(int(child))[11:13])
        except (OSError, ValueError):
            pass  # exited meanwhile: now counted in the postmaster's cutime
    return total / tick


LIBRARY = ("import json, sys; from corgan_core.data import load; "
           "print(json.dumps(load(sys.argv[1]).summary(top=10)))")


def inspect(server, url: str, extra: list[str], via: str = "cli") -> dict:
    """Run the CLI (or the bare loader) once; wall time, CPU time and peak RSS of that process (wait4)."""
    cmd = [*CORGAN, "data", "inspect", url, "--json", *extra] if via == "cli" else [sys.executable, "-c", LIBRARY, url]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t, before = time.perf_counter(), server_cpu(server)
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        time.sleep(0.5)  # let the postmaster reap the backend, so its CPU time is counted
        server_s = server_cpu(server) - before
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"inspect failed: {err.read().decode()[-500:]}")
        s = json.loads(out.read())
    return {"seconds": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "server_cpu_s": round(server_s, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1), "patients": s["patients"], "codes": s["codes"],
            "density": round(s["density"], 5)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--persons", type=int, default=100_000)
    args = ap.parse_args()
    with cluster() as server:
        os.environ["CORGAN_PG_PASSWORD"] = server.password
        gen = generate(server, args.rows, args.persons)
        url = server.url(schema="cdm")
        pairs = int(server.psql("select count(*) from (select distinct person_id, condition_concept_id "
                                "from cdm.condition_occurrence) x").strip())
        results = [{"case": "load() alone, binary", **inspect(server, url, [], via="library")}]
        for name, extra in CASES.items():
            results.append({"case": f"CLI {name}", **inspect(server, url, extra)})
    print(f"generated {args.rows:,} condition rows for {args.persons:,} persons in {gen:.1f}s; "
          f"{pairs:,} distinct (person, concept) pairs travel to the client")
    print(f"{'case':34s} {'wall s':>7s} {'cpu s':>7s} {'server cpu s':>12s} {'peak MB':>8s} {'patients':>9s} {'codes':>6s}")
    for r in results:
        print(f"{r['case']:34s} {r['seconds']:7.2f} {r['cpu_s']:7.2f} {r['server_cpu_s']:12.2f} {r['peak_rss_mb']:8.1f} "
              f"{r['patients']:9,d} {r['codes']:6,d}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "bench_sources", "rows": args.rows, "persons": args.persons, "pairs": pairs,
        "generate_s": round(gen, 1), "cases": results, "target": {"seconds": 30, "peak_rss_mb": 1024},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
