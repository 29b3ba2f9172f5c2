"""``corgan evaluate``: a report (JSON, optionally HTML) for a run's model or for any synthetic file.

    corgan evaluate --run-dir DIR -o report.json [-n N] [--seed S]
    corgan evaluate --train T --holdout H --synthetic S [--label-col y] [--kind K] -o report.json

The run form samples the run's model and uses the run's own train/holdout split; the file form
takes synthetic data made anywhere else. Problems are raised as CorganError (one sentence).
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

from .errors import CorganError

_FILES = ("train", "holdout", "synthetic")


def _default(name: str):
    """The default of ``evaluate``'s keyword ``name`` (shown in help; never restated here)."""
    from .metrics import evaluate

    return inspect.signature(evaluate).parameters[name].default


def add_parser(subparsers) -> None:
    """Register the ``evaluate`` sub-command on an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "evaluate", help="Fidelity, utility and privacy report for a run or for synthetic files.",
        description="Either --run-dir (samples the run's model, uses its split) or --train, --holdout "
                    "and --synthetic (files of the same code columns).")
    p.add_argument("--run-dir", default=None, help="Run folder whose model is sampled and whose split is used.")
    p.add_argument("-n", type=int, default=None, help="Synthetic rows to sample from the run (default: as many as train).")
    p.add_argument("--train", default=None, help="Real training rows (any file or folder `corgan data` reads).")
    p.add_argument("--holdout", default=None, help="Real held-out rows, never trained on.")
    p.add_argument("--synthetic", default=None, help="Synthetic rows with the same code columns.")
    p.add_argument("--label-col", default=None, help="Label column for TRTR/TSTR classification.")
    p.add_argument("--kind", default=None, choices=("binary", "count", "continuous"), help="Data kind (default: inferred).")
    p.add_argument("--epsilon", type=float, default=None, help="DP epsilon spent, shown beside the attack results.")
    p.add_argument("--seed", type=int, default=_default("seed"), help="Seed for sampling and for every randomised metric.")
    p.add_argument("--top-k", type=int, default=None,
                   help=f"Codes in the co-occurrence comparison (default: {_default('top_k')}).")
    p.add_argument("--include", default=None,
                   help=f"Comma-separated sections or metrics, e.g. privacy or probability,membership "
                        f"(default: {','.join(_default('include'))}).")
    p.add_argument("-o", "--output", required=True, help="Report JSON path.")
    p.add_argument("--html", default=None, help="Also write a self-contained HTML report here.")


def _progress(stream=None):
    stream = stream or sys.stderr
    if not stream.isatty():
        return None
    def show(done, total):  # noqa: E306
        stream.write(f"\revaluating {100 * done / max(total, 1e-9):5.1f}%")
        stream.flush()
    return show


def _options(args) -> dict:
    """Only the evaluation options the user set (the rest keep ``evaluate``'s defaults)."""
    out = {}
    if args.top_k is not None:
        out["top_k"] = args.top_k
    if args.include is not None:
        out["include"] = [s.strip() for s in args.include.split(",") if s.strip()]
    return out


def _from_run(args, progress):
    """The run's report, through the same service (and the same kept files) as the dashboard."""
    from .runs import Run
    from .runs.products import evaluation

    run = Run.open(args.run_dir)
    label = run.label_name()
    if args.label_col and args.label_col != label:
        raise CorganError(f"Run {run.id} did not learn a label column named {args.label_col!r}"
                          f" ({'its label is ' + repr(label) if label else 'its data has no label'}).")
    options = _options(args)
    if args.epsilon is not None:
        options["epsilon"] = args.epsilon
    return evaluation(run, args.n, args.seed, progress=progress, **options)


def _from_files(args, progress):
    from .data import load

    over = {"kind": args.kind} if args.kind else {}
    if args.label_col:
        over["label_col"] = args.label_col
    train = load(args.train, **over)
    rest = {**over, "kind": train.kind}
    holdout = load(args.holdout, **rest)
    synthetic = load(args.synthetic, **rest)
    from .metrics import evaluate

    rep = evaluate(train, holdout, synthetic, kind=train.kind, epsilon=args.epsilon, seed=args.seed,
                   progress=progress, **_options(args))
    rep.meta["source"] = {f: str(getattr(args, f)) for f in _FILES}
    return rep


def run(args) -> int:
    """Execute ``corgan evaluate``: write the JSON (and HTML) report, print a one-line summary."""
    given = [f for f in _FILES if getattr(args, f)]
    if args.run_dir and given:
        raise CorganError("Give either --run-dir or --train/--holdout/--synthetic, not both.")
    if not args.run_dir and len(given) != 3:
        missing = ", ".join(f"--{f}" for f in _FILES if f not in given)
        raise CorganError(f"Give --run-dir, or all of --train, --holdout and --synthetic (missing {missing}).")
    out = Path(args.output)
    if not out.parent.exists():
        raise CorganError(f"The folder of the output file does not exist: {out.parent}.")
    prog = _progress()
    rep = _from_run(args, prog) if args.run_dir else _from_files(args, prog)
    if prog is not None:
        print(file=sys.stderr)
    rep.to_json(out)
    if args.html:
        rep.to_html(args.html)
    v = rep.verdicts()
    summary = "; ".join(f"{s} {c['pass']} pass / {c['fail']} fail" for s, c in v.items())
    print(f"wrote {out}: {summary}" + (f" (and {args.html})" if args.html else ""))
    return 0
