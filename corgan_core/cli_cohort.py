"""``corgan cohort``: a cohort in a run's synthetic patients against the same cohort in its real holdout.

    corgan cohort --run-dir R --all 250 --all 428 --none 585 -o cohort.json
    corgan cohort --run-dir R --definition cohort.json -o members.csv

Codes may be repeated or comma-separated (``--all 250,428``). ``-o`` ending in ``.json`` writes the
definition, the comparison and the synthetic members' records (and can be read back with
``--definition``); ``.csv``/``.parquet``/``.npz`` write the synthetic members' matrix.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .cohort import CohortDefinition, Range
from .cohort_compare import CohortSettings
from .cohort_text import table
from .errors import CorganError
from .options import add_dataclass_args, picked


def _codes(values) -> tuple[str, ...]:
    return tuple(c.strip() for v in values or () for c in v.split(",") if c.strip())


def _range(text: str) -> Range:
    """``COLUMN:LOW:HIGH`` with either end empty (``X1:-50:`` is X1 >= -50)."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3:
        raise CorganError(f"--range {text!r} must read COLUMN:LOW:HIGH (an end may be empty, e.g. X1:-50:).")
    col, lo, hi = parts
    try:
        return Range(col, float(lo) if lo.strip() else None, float(hi) if hi.strip() else None)
    except ValueError:
        raise CorganError(f"--range {text!r} has an end that is not a number.") from None


def add_parser(subparsers) -> None:
    """Register the ``cohort`` sub-command on an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "cohort", help="Compare a cohort in a run's synthetic patients with the same cohort in its real holdout.",
        description="Real data is shown only as aggregates over at least --k patients.")
    p.add_argument("--run-dir", required=True, help="Run folder (its model is sampled, its holdout is the real side).")
    p.add_argument("--all", action="append", default=None, metavar="CODES", help="Codes that must all be present.")
    p.add_argument("--any", action="append", default=None, metavar="CODES", help="Codes of which at least one is present.")
    p.add_argument("--none", action="append", default=None, metavar="CODES", help="Codes that must be absent.")
    p.add_argument("--min-count", type=int, default=None, help="Count data: a code is present from this many occurrences (default 1).")
    p.add_argument("--range", action="append", default=None, metavar="COL:LOW:HIGH", help="Keep rows with LOW <= COL <= HIGH.")
    p.add_argument("--definition", default=None, help="Read the definition from this JSON file (a saved definition or a cohort.json).")
    p.add_argument("--name", default=None, help="A name for the cohort.")
    p.add_argument("-n", type=int, default=None, help="Synthetic patients to draw (default: as many as the run trained on).")
    p.add_argument("--seed", type=int, default=0, help="Seed of the synthetic sample.")
    p.add_argument("-o", "--output", default=None, help="Write .json (definition, comparison, members) or the members as .csv/.parquet/.npz.")
    add_dataclass_args(p, CohortSettings, title="comparison settings")


def definition(args: argparse.Namespace) -> CohortDefinition:
    """The definition from ``--definition`` or from the code options (not both)."""
    given = any([args.all, args.any, args.none, args.range, args.min_count is not None])
    if args.definition:
        if given:
            raise CorganError("Give either --definition or --all/--any/--none/--range/--min-count, not both.")
        d = CohortDefinition.load(args.definition)
        return d if args.name is None else CohortDefinition(**{**d.__dict__, "name": args.name})
    if not given:
        raise CorganError("Give at least one of --all, --any, --none or --range (or --definition FILE).")
    return CohortDefinition(all_of=_codes(args.all), any_of=_codes(args.any), none_of=_codes(args.none),
                            min_count=1 if args.min_count is None else args.min_count,
                            ranges=tuple(_range(r) for r in args.range or ()), name=args.name or "")


def _fmt(v, pct=True) -> str:
    if v is None:
        return "supp." if pct else "-"
    return f"{100 * v:5.1f}%" if pct else f"{v:6.2f}"


def print_comparison(c: dict) -> None:
    r, s = c["real"], c["synthetic"]
    print(f"cohort: {c['description']}")
    print(f"  real holdout  {r['patients']:>8,} patients  members {r['members'] if r['members'] is not None else 'suppressed'}")
    print(f"  synthetic     {s['patients']:>8,} patients  members {s['members']}")
    print(f"  verdict: {c['verdict']}  {c['sentence']}")
    if c["detail"]:
        print(f"  {c['detail']}")
    df = table(c)
    if not df.empty:
        cont = c["kind"] == "continuous"
        print(f"  {'code':>8s} {'real in':>7s} {'syn in':>7s} {'real out':>8s} {'syn out':>7s}"
              + ("" if cont else f" {'real OR':>7s} {'syn OR':>7s}") + "  title")
        for row in df.to_dict("records"):
            line = (f"  {row['code']:>8s} {_fmt(row['real_in'], not cont):>7s} {_fmt(row['synthetic_in'], not cont):>7s}"
                    f" {_fmt(row['real_out'], not cont):>8s} {_fmt(row['synthetic_out'], not cont):>7s}")
            if not cont:
                line += f" {_fmt(row['real_or'], False):>7s} {_fmt(row['synthetic_or'], False):>7s}"
            print(line + f"  {row['title'][:60]}")
    for note in c["notes"]:
        print(f"  note: {note}")


def run(args) -> int:
    """Execute ``corgan cohort``: print the comparison, write the output file when asked."""
    from .cohort_run import MEMBER_FORMATS, compare_run, members, run_data, write_output
    from .runs import Run

    defn = definition(args)
    settings = CohortSettings(**picked(args, CohortSettings))
    if args.output and Path(args.output).suffix.lower() not in MEMBER_FORMATS:  # refuse before sampling
        raise CorganError(f"Cannot write {Path(args.output).name}: use a .json, .csv, .parquet or .npz file name.")
    run_ = Run.open(args.run_dir)
    real, syn = run_data(run_, args.n, args.seed)
    c = compare_run(run_, defn, args.n, args.seed, settings, data=(real, syn))
    print_comparison(c)
    if args.output:
        mem = members(defn, syn) if c["synthetic"]["members"] else None
        path = write_output(c, mem, args.output)
        print(f"wrote {path} ({0 if mem is None else mem.n_patients} synthetic members)")
    return 0
