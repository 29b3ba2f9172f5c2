"""``corgan report``: the audit report of a run, one self-contained HTML page plus its JSON twin.

    corgan report --run-dir DIR -o report.html [--json report.json] [-n N] [--seed S]
                  [--threshold membership_auroc=0.03 ...] [--reviewer NAME]

Thresholds not named keep their documented defaults (``corgan_core.report.DEFAULT_THRESHOLDS``,
docs/report-schema.md). Problems are raised as CorganError (one sentence).
"""
from __future__ import annotations

from .errors import ConfigError


def add_parser(subparsers) -> None:
    """Register the ``report`` sub-command on an argparse ``subparsers`` object."""
    p = subparsers.add_parser("report", help="Audit report of a run: self-contained HTML plus a JSON twin.",
                              description="Data source and SHA-256, split, config, seed, versions, model card, "
                                          "fidelity and privacy results with intervals, DP epsilon and a go/no-go "
                                          "verdict, with a place for the reviewer's decision.")
    p.add_argument("--run-dir", required=True, help="Run folder (or run id under $CORGAN_RUNS_DIR).")
    p.add_argument("-o", "--output", required=True, help="HTML report path.")
    p.add_argument("--json", default=None, help="JSON twin path (default: the HTML path with .json).")
    p.add_argument("-n", type=int, default=None, help="Synthetic patients evaluated (default: as many as trained on).")
    p.add_argument("--seed", type=int, default=0, help="Sampling and evaluation seed.")
    p.add_argument("--threshold", action="append", default=[], metavar="NAME=VALUE",
                   help="A limit of your own for one metric (repeatable), e.g. membership_auroc=0.03.")
    p.add_argument("--reviewer", default="", help="Reviewer's name, printed in the review block.")


def thresholds(items: list[str]) -> dict:
    """``['a=0.1']`` -> ``{'a': 0.1}``, refusing unknown names and non-numbers in one sentence."""
    from .report import DEFAULT_THRESHOLDS

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_THRESHOLDS:
            raise ConfigError(f"--threshold {item!r} is not NAME=VALUE with a known metric name "
                              f"(known: {', '.join(sorted(DEFAULT_THRESHOLDS))}).")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--threshold {item!r} needs a number after '='.") from None
    return out


def run(args) -> int:
    from .audit import write
    from .runs import find_run

    html_path, json_path = write(find_run(args.run_dir), args.output, args.json, n=args.n, seed=args.seed,
                                 thresholds=thresholds(args.threshold), reviewer=args.reviewer)
    print(f"wrote {html_path} and {json_path}")
    return 0
