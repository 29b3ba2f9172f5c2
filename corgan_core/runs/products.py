"""What a run produces, computed once and kept in its folder: synthetic samples and evaluation reports.

The CLI (``corgan sample``, ``corgan evaluate --run-dir``) and the dashboard's pages call these same
functions, so a figure on a page and in a downloaded report come from the same file. Files are keyed
by the model file (final model, else checkpoint) and its modification time: a newer model means new
samples. The default size of a sample is the number of patients the run trained on.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..data import Dataset
from ..errors import CorganError, RunError
from ..export import synthetic_dataset, write_samples
from .store import Run

EXPORT_FORMATS = ("csv", "parquet", "npz")


def sample_size(run: Run, n: int | None) -> int:
    """``n``, or the run's training size when not given; refused below 1."""
    n = run.train_size() if n is None else int(n)
    if n < 1:
        raise CorganError(f"The number of synthetic patients must be at least 1; got {n}.")
    return n


def _stamp(run: Run) -> str:
    src = run.model_file()
    return f"{src.stem}-{int(src.stat().st_mtime_ns) if src.exists() else 0}"


def _sample_path(run: Run, n: int, seed: int) -> Path:
    return run.dir / "samples" / f"{_stamp(run)}-n{int(n)}-seed{int(seed)}.npz"


def synthetic(run: Run, n: int | None = None, seed: int = 0) -> Dataset:
    """``n`` synthetic patients (default: as many as the run trained on) with code names and titles.

    Kept in ``<run>/samples/``, so they are drawn once per model, size and seed.
    """
    if not run.has_model():
        raise RunError(f"Run {run.id} has no trained model yet (no checkpoint written).")
    n = sample_size(run, n)
    path = _sample_path(run, n, seed)
    if path.exists():
        from ..data.matrix import load_npz

        return load_npz(path)
    model = run.load_model()
    sparse = run._learned_label(model, None) is None and model.sparse_sample_is_sample()
    # the same rows either way; the sparse path never holds n dense rows (nor their probabilities)
    X = model.sample_sparse(n, seed=int(seed)) if sparse else run.sample(n, seed=int(seed), model=model)
    meta = getattr(model, "meta_", {}) or {}
    cfg = run.config()
    codes = list(meta.get("codes") or [f"code_{j}" for j in range(X.shape[1])])
    kind, titles, source = meta.get("kind") or cfg["data"].get("kind", "binary"), meta.get("titles") or {}, f"synthetic from run {run.id}"
    if sparse:
        ds = Dataset(X, codes, [f"synthetic-{i + 1}" for i in range(X.shape[0])], kind, dict(titles), source=source)
    else:
        ds = synthetic_dataset(X, codes, kind, titles, source=source)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"*-n{n}-seed{int(seed)}.*"):  # samples of an older model
        old.unlink(missing_ok=True)
    ds.save_npz(path)
    return ds


def sample_file(run: Run, fmt: str, n: int | None = None, seed: int = 0) -> Path:
    """The synthetic sample as a ``.csv``/``.parquet``/``.npz`` file with code names (kept in the run)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise CorganError(f"Cannot export as {fmt!r}: choose {', '.join(EXPORT_FORMATS)}.")
    ds = synthetic(run, n, seed)
    src = _sample_path(run, ds.n_patients, seed)
    if fmt == "npz":
        return src
    out = src.with_suffix(f".{fmt}")
    if not out.exists():
        write_samples(ds.dense(), ds.codes, ds.kind, out)
    return out


def codes_file(run: Run) -> Path:
    """``codes.csv`` beside the samples: one row per column of an export (code, title), so a CSV whose
    header holds bare codes (ICD groups, OMOP concept ids) can be read by people."""
    import pandas as pd

    out = run.dir / "codes.csv"
    if not out.exists():
        meta = getattr(run.load_model(), "meta_", {}) or {}
        codes = list(meta.get("codes") or [])
        titles = meta.get("titles") or {}
        out.parent.mkdir(parents=True, exist_ok=True)
        from ..atomic import atomic_path

        with atomic_path(out) as tmp:
            pd.DataFrame({"code": codes, "title": [titles.get(c, "") for c in codes]}).to_csv(tmp, index=False)
    return out


def write_sample(run: Run, path: str | Path, n: int | None = None, seed: int = 0) -> tuple[Dataset, Path]:
    """Write the run's synthetic sample to ``path`` (format from its suffix): ``corgan sample``.

    A ``.npz`` is a copy of the kept sample file (already sparse, with code names and titles), so
    the rows are never densified and compressed a second time."""
    ds = synthetic(run, n, seed)
    path = Path(path)
    kept = _sample_path(run, ds.n_patients, seed)
    if path.suffix.lower() == ".npz" and kept.exists():
        import shutil

        if path.exists() and path.resolve() == kept.resolve():
            return ds, path

        from ..atomic import atomic_path

        with atomic_path(path) as tmp:
            shutil.copyfile(kept, tmp)
        return ds, path
    return ds, write_samples(ds.dense(), ds.codes, ds.kind, path, ds.titles)


def _options_key(options: dict) -> str:
    if not options:
        return ""
    text = json.dumps(options, sort_keys=True, default=str)
    return "-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def report_path(run: Run, n: int | None = None, seed: int = 0, **options) -> Path:
    n = sample_size(run, n)
    return run.dir / "evaluation" / f"report-{_stamp(run)}-n{n}-seed{int(seed)}{_options_key(options)}.json"


def evaluation(run: Run, n: int | None = None, seed: int = 0, progress=None, **options):
    """The run's evaluation :class:`~corgan_core.report.Report` (computed once per model, n, seed, options).

    Synthetic patients come from :func:`synthetic`; the real rows are the run's own train/holdout
    split; the run's DP epsilon is passed along unless ``epsilon`` is given. ``options`` go to
    :func:`corgan_core.metrics.evaluate` (e.g. ``top_k``, ``include``). ``progress(done, total)``
    sees the work as it goes.
    """
    from ..metrics import evaluate
    from ..models.marginals import marginals_record
    from ..report import Report

    path = report_path(run, n, seed, **options)
    if path.exists():
        return Report.from_json(path)
    ds = run.dataset()
    holdout = run.holdout_rows(ds)
    syn = synthetic(run, n, seed)
    label = run.label_name(ds)
    kw = dict(options)
    if kw.get("epsilon") is None:
        kw["epsilon"] = run.epsilon()
    if label:
        kw["label"] = label
    if "marginals" not in kw:
        kw["marginals"] = marginals_record(run.load_model().meta_)
    rep = evaluate(ds.take(run.members()), holdout, syn, kind=ds.kind, codes=ds.codes,
                   titles=ds.titles, seed=int(seed), progress=progress, **kw)
    rep.meta["source"] = {"run": str(run.dir), "run_id": run.id, "n": syn.n_patients}
    path.parent.mkdir(parents=True, exist_ok=True)
    if not options:
        for old in path.parent.glob(f"report-*-n{syn.n_patients}-seed{int(seed)}.json"):
            old.unlink(missing_ok=True)
    rep.to_json(path)
    return rep


def cached_evaluation(run: Run, n: int | None = None, seed: int = 0, **options):
    """The kept report, or None when it has not been computed yet."""
    from ..report import Report

    path = report_path(run, n, seed, **options)
    return Report.from_json(path) if path.exists() else None
