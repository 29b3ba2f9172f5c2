"""The ``corgan`` command line: data, train, sample, runs (and evaluate). Errors: one line, exit 2."""
from __future__ import annotations

import argparse
import json
import sys
import time

from .data import DataOptions, load
from .data.sources import SOURCE_EXAMPLES
from .errors import CorganError
from . import cli_evaluate, cli_report, distributed
from .models import PRESETS, REGISTRY, get_model_class
from .options import add_dataclass_args, picked
from .runs import Run, TrainSettings, find_run, list_runs
from .runs.views import run_row


def _data_parser(sub, name, help_text):
    p = sub.add_parser(name, help=help_text)
    p.add_argument("path", help="File, folder (MIMIC, eICU, Synthea, MEDS), OMOP .duckdb, postgresql:// URL, or 'demo' (the embedded Eunomia database).")
    add_dataclass_args(p, DataOptions, title="data options")
    return p


# Commands whose parser and handler need neither the cohort module (it imports scipy.stats, about a
# second of CPU) nor the evaluate command's parser (its help reads ``evaluate``'s defaults, importing
# the metrics and plotly: about 0.4 CPU-s): `corgan sample` and `corgan train` start without them.
LIGHT_COMMANDS = ("data", "train", "sample", "runs")


def build_parser(model: str = "corgan", command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` one of :data:`LIGHT_COMMANDS`, without the cohort and
    evaluate commands (which that command's arguments never reach)."""
    parser = argparse.ArgumentParser(prog="corgan", description="corGAN studio: synthetic patient records.")
    top = parser.add_subparsers(dest="command", required=True)

    data = top.add_parser("data", help="Inspect or convert a data source.")
    dsub = data.add_subparsers(dest="data_command", required=True)
    insp = _data_parser(dsub, "inspect", "Patients, codes, kind, density, codes per patient, top codes.")
    insp.add_argument("--json", action="store_true", help="Print one JSON object.")
    insp.formatter_class, insp.epilog = argparse.RawDescriptionHelpFormatter, SOURCE_EXAMPLES
    conv = _data_parser(dsub, "convert", "Write the matrix and its vocabulary to one safe .npz file.")
    conv.add_argument("-o", "--output", required=True, help="Output .npz path.")
    conv.add_argument("--rows", type=int, default=None, help="Keep this many patients, drawn with --seed (codes they lack are dropped).")
    conv.add_argument("--seed", type=int, default=0, help="Seed of the --rows draw.")
    conv.add_argument("--titles", default=None, help="ICD-9 title table (code and title columns, e.g. MIMIC's D_ICD_DIAGNOSES.csv) for a source without titles.")

    tr = _data_parser(top, "train", "Train a model on a data source (creates a run).")
    tr.add_argument("--model", default="corgan", choices=sorted(REGISTRY), help="Model to train.")
    presets = "; ".join(f"{m}: {', '.join(p)}" for m, p in sorted(PRESETS.items()))
    tr.add_argument("--preset", default="default", help=f"Named preset of the model's options ({presets}).")
    tr.add_argument("--run-dir", default=None, help="Folder for this run (default: a new folder under $CORGAN_RUNS_DIR or ./runs).")
    tr.add_argument("--detach", action="store_true", help="Start in the background and print the run id.")
    add_dataclass_args(tr, TrainSettings, title="run settings")
    add_dataclass_args(tr, get_model_class(model).Config, title=f"{model} options")

    sa = top.add_parser("sample", help="Draw synthetic patients from a run's model.")
    sa.add_argument("--run-dir", required=True)
    sa.add_argument("-n", type=int, default=None, help="Number of synthetic patients (default: as many as the run trained on).")
    sa.add_argument("-o", "--output", default=None, help="Output file: .npz, .csv or .parquet.")
    sa.add_argument("--omop", default=None, help="Also (or only) write the patients as OMOP CDM tables: a new .duckdb file or a postgresql:// URL (password in $CORGAN_PG_PASSWORD).")
    sa.add_argument("--seed", type=int, default=0)

    rn = top.add_parser("runs", help="List, show, stop or resume runs.")
    rsub = rn.add_subparsers(dest="runs_command", required=True)
    rsub.add_parser("list", help="Every run under $CORGAN_RUNS_DIR (or ./runs).").add_argument("--json", action="store_true")
    for name, text in (("show", "Config, status and last losses of a run."), ("stop", "Stop a running run."),
                       ("resume", "Resume a stopped or died run from its last checkpoint.")):
        r = rsub.add_parser(name, help=text)
        r.add_argument("run", help="Run folder, or run id under the runs folder.")
        if name == "resume":
            r.add_argument("--foreground", action="store_true", help="Train in this terminal instead of the background.")
    if command not in LIGHT_COMMANDS:
        from . import cli_cohort

        cli_evaluate.add_parser(top)
        cli_cohort.add_parser(top)
    cli_report.add_parser(top)
    return parser


class Progress:
    """Draws training events on stderr: a bar per phase on a terminal, plain lines otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.tty = stream, stream.isatty()

    def __call__(self, e):
        if e.type == "epoch_end":
            width = 30
            filled = int(width * e.epoch / max(e.epochs, 1))
            losses = " ".join(f"{k}={v:.4g}" for k, v in e.losses.items())
            line = f"{e.phase:8s} [{'#' * filled}{'.' * (width - filled)}] {e.epoch}/{e.epochs} {e.seconds:.1f}s/epoch {losses}"
            self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
            self.stream.flush()
        elif e.type == "phase_start" and self.tty:
            self.stream.write("\n")
        elif e.type == "finished":
            self.stream.write(f"\nfinished in {e.seconds:.1f}s\n" if self.tty else f"finished in {e.seconds:.1f}s\n")


def ds_grouping(args) -> str:
    return getattr(args, "grouping", None) or DataOptions().grouping


def _cmd_data(args) -> int:
    ds = load(args.path, DataOptions(**picked(args, DataOptions)))
    if args.data_command == "convert":
        from .data.derive import subset, with_icd_titles

        if not str(args.output).lower().endswith(".npz"):
            raise CorganError(f"Cannot write {args.output}: convert writes a .npz file, so give the output a .npz name.")
        if args.rows is not None:
            ds = subset(ds, args.rows, args.seed)
        if args.titles:
            ds = with_icd_titles(ds, args.titles, grouping=ds_grouping(args))
        path = ds.save_npz(args.output)
        print(f"wrote {path} ({ds.n_patients} patients x {ds.n_codes} codes, {ds.kind})")
        return 0
    s = ds.summary(top=10)
    if args.json:
        print(json.dumps(s))
        return 0
    c = s["codes_per_patient"]
    print(f"{s['source']}\n  patients {s['patients']}  codes {s['codes']}  kind {s['kind']}  density {s['density']:.4%}")
    print(f"  codes per patient: mean {c['mean']:.2f}, median {c['median']:.0f}, range {c['min']}-{c['max']}")
    for t in s["top_codes"]:
        print(f"  {t['code']:>10s}  {t['frequency']:6.1%}  {t['title']}")
    for w in s.get("warnings") or []:
        print(f"  warning: {w}")
    return 0


def _cmd_train(args) -> int:
    def create():
        return Run.create(args.path, model=args.model, preset=args.preset,
                          model_config=picked(args, get_model_class(args.model).Config),
                          data_options=DataOptions(**picked(args, DataOptions)),
                          settings=TrainSettings(**picked(args, TrainSettings)), run_dir=args.run_dir)
    if distributed.launched():  # under torchrun: rank 0 creates and records the run, every rank trains
        if args.detach:
            raise CorganError("--detach cannot be used under torchrun; torchrun itself runs the processes.")
        from .runs.ranks import run_ranks

        return run_ranks(create, Progress(), picked(args, TrainSettings).get("device", "auto"))
    run = create()
    if args.detach:
        run.start()
        print(run.id)
        return 0
    from .runs.execute import execute

    print(f"run {run.id} in {run.dir}", file=sys.stderr)
    for warning in run.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    execute(run, on_event=Progress())
    return 0


def _cmd_sample(args) -> int:
    from .runs.products import write_sample

    if not args.output and not args.omop:
        raise CorganError("corgan sample needs somewhere to write: give -o FILE, --omop TARGET or both.")
    if args.output:
        ds, path = write_sample(Run.open(args.run_dir), args.output, args.n, args.seed)
        print(f"wrote {ds.n_patients} synthetic patients x {ds.n_codes} codes to {path}")
    if args.omop:
        from .omop_out import write_run_omop

        ds, where, rows = write_run_omop(Run.open(args.run_dir), args.omop, args.n, args.seed)
        print(f"wrote {ds.n_patients} synthetic persons and {rows} condition rows as OMOP to {where}")
    return 0


def _cmd_runs(args) -> int:
    if args.runs_command == "list":
        rows = [run_row(r) for r in list_runs()]
        for row in rows:
            if row["status"] == "unreadable":
                print(f"warning: run {row['run']} is unreadable ({row['error']})", file=sys.stderr)
        rows = [{"id": r.pop("run"), **r} for r in rows if r["status"] != "unreadable"]
        if args.json:
            print(json.dumps(rows))
        for row in rows if not args.json else []:
            print(f"{row['id']:40s} {row['status']:9s} {row['model']:8s} seed {row['seed']!s:<4} {row['data']}")
        return 0
    run = find_run(args.run)
    if args.runs_command == "show":
        print(json.dumps({"config": run.config(), "status": run.status()}, indent=2, default=str))
    elif args.runs_command == "stop":
        run.stop()
        print(f"stopped {run.id}")
    elif args.runs_command == "resume":
        def resumable():
            st = run.status()["status"]
            if st in ("running", "queued", "finished"):
                raise CorganError(f"Run {run.id} cannot be resumed: it is {st}.")
            return run
        if args.foreground and distributed.launched():  # under torchrun: rank 0 re-queues, every rank trains
            from .runs.ranks import run_ranks

            return run_ranks(lambda: (resumable().requeue(), run)[1], Progress(), run.settings().device)
        resumable()
        if args.foreground:
            from .runs.execute import execute

            run.requeue()
            execute(run, on_event=Progress())
        else:
            run.start()
            print(f"resumed {run.id}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    model = "corgan"
    if "--model" in argv and argv.index("--model") + 1 < len(argv):
        model = argv[argv.index("--model") + 1]
    elif any(a.startswith("--model=") for a in argv):
        model = next(a.split("=", 1)[1] for a in argv if a.startswith("--model="))
    try:
        if model not in REGISTRY:
            raise CorganError(f"There is no model {model!r}; choose one of {', '.join(sorted(REGISTRY))}.")
        parser = build_parser(model, argv[0] if argv else None)
        args = parser.parse_args(argv)
        handler = {"data": _cmd_data, "train": _cmd_train, "sample": _cmd_sample, "runs": _cmd_runs,
                   "report": cli_report.run}.get(args.command)
        if args.command == "cohort":
            from . import cli_cohort

            return cli_cohort.run(args)
        if handler is None:  # evaluate
            return cli_evaluate.run(args)
        return handler(args)
    except CorganError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output path that is a folder, or a full disk
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot read or write{where}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
