"""``corgan evaluate``: a report (JSON, optionally HTML) for a run's model or for any synthetic file.

    corgan evaluate --run-dir DIR -o report.json [-n N] [--seed S]
    corgan evaluate --train T --holdout H --synthetic S [--label-col y] [--kind K] -o report.json

The run form samples the run's model and uses the run's own train/holdout split; the file form
takes synthetic data made anywhere else. Problems are raised as CorganError (one sentence).
"""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import CorganError

_FILES = ("train", "holdout", "synthetic")


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
    p.add_argument("--seed", type=int, default=0, help="Seed for sampling and for every randomised metric.")
    p.add_argument("--top-k", type=int, default=100, help="Codes in the co-occurrence comparison.")
    p.add_argument("--include", default="fidelity,utility,privacy",
                   help="Comma-separated sections or metrics (e.g. privacy or probability,membership).")
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


def _from_run(args) -> tuple[tuple, dict]:
    try:
        from .runs import Run
    except ImportError:  # pragma: no cover - the run store ships with the package
        raise CorganError("Run folders cannot be read here (corgan_core.runs is missing).") from None
    run = Run.open(args.run_dir)
    ds = run.dataset()
    sp = run.split()
    holdout = run.holdout_rows(ds)
    label = run.label_name(ds)
    if args.label_col and args.label_col != label:
        raise CorganError(f"Run {run.id} did not learn a label column named {args.label_col!r}"
                          f" ({'its label is ' + repr(label) if label else 'its data has no label'}).")
    n = args.n if args.n is not None else len(sp.train)
    if n < 1:
        raise CorganError(f"The number of synthetic rows must be at least 1; got {n}.")
    X_syn = run.sample(n, seed=args.seed, ds=ds)
    epsilon = args.epsilon if args.epsilon is not None else run.epsilon()
    kw = dict(kind=ds.kind, codes=ds.codes, titles=ds.titles, epsilon=epsilon)
    if label is not None:
        kw["label"] = label
    return (ds.take(sp.train), holdout, X_syn), {**kw, "source": {"run": str(run.dir), "n": n}}


def _from_files(args) -> tuple[tuple, dict]:
    from .data import load

    over = {"kind": args.kind} if args.kind else {}
    if args.label_col:
        over["label_col"] = args.label_col
    train = load(args.train, **over)
    rest = {**over, "kind": train.kind}
    holdout = load(args.holdout, **rest)
    synthetic = load(args.synthetic, **rest)
    kw = dict(kind=train.kind, epsilon=args.epsilon)
    return (train, holdout, synthetic), {**kw, "source": {f: str(getattr(args, f)) for f in _FILES}}


def run(args) -> int:
    """Execute ``corgan evaluate``: write the JSON (and HTML) report, print a one-line summary."""
    from .metrics import evaluate

    given = [f for f in _FILES if getattr(args, f)]
    if args.run_dir and given:
        raise CorganError("Give either --run-dir or --train/--holdout/--synthetic, not both.")
    if not args.run_dir and len(given) != 3:
        missing = ", ".join(f"--{f}" for f in _FILES if f not in given)
        raise CorganError(f"Give --run-dir, or all of --train, --holdout and --synthetic (missing {missing}).")
    out = Path(args.output)
    if not out.parent.exists():
        raise CorganError(f"The folder of the output file does not exist: {out.parent}.")
    data, kw = _from_run(args) if args.run_dir else _from_files(args)
    source = kw.pop("source")
    include = [s.strip() for s in args.include.split(",") if s.strip()]
    prog = _progress()
    rep = evaluate(*data, seed=args.seed, top_k=args.top_k, include=include, progress=prog, **kw)
    if prog is not None:
        print(file=sys.stderr)
    rep.meta["source"] = source
    rep.to_json(out)
    if args.html:
        rep.to_html(args.html)
    v = rep.verdicts()
    summary = "; ".join(f"{s} {c['pass']} pass / {c['fail']} fail" for s, c in v.items())
    print(f"wrote {out}: {summary}" + (f" (and {args.html})" if args.html else ""))
    return 0
