"""A cohort on a training run: its real HOLDOUT rows against its synthetic sample, and the members.

The CLI (``corgan cohort``) and the dashboard's Cohorts page both call these, on the same kept
synthetic sample (:func:`corgan_core.runs.products.synthetic`) as the Fidelity and Export pages.
"""
from __future__ import annotations

import json
from pathlib import Path

from .atomic import write_text_atomic
from .cohort import CohortDefinition, apply, describe_rows
from .cohort_compare import CohortSettings, compare
from .data import Dataset
from .errors import CorganError

MEMBER_FORMATS = (".json", ".csv", ".parquet", ".npz")


def run_data(run, n: int | None = None, seed: int = 0) -> tuple[Dataset, Dataset]:
    """``(real held-out rows, synthetic sample)`` of ``run``; the holdout was never trained on."""
    from .runs.products import synthetic

    ds = run.dataset()
    return run.holdout_rows(ds), synthetic(run, n, seed)


def compare_run(run, defn: CohortDefinition, n: int | None = None, seed: int = 0,
                settings: CohortSettings = CohortSettings(), data: tuple[Dataset, Dataset] | None = None) -> dict:
    """:func:`~corgan_core.cohort_compare.compare` on the run's holdout and synthetic sample."""
    real, syn = data if data is not None else run_data(run, n, seed)
    out = compare(defn, real.X, syn.X, real.codes, titles=real.titles, kind=real.kind, settings=settings,
                  where=f"run {run.id}'s data")
    out["source"] = {"run": str(run.dir), "run_id": run.id, "synthetic": syn.n_patients, "seed": int(seed)}
    return out


def members(defn: CohortDefinition, syn: Dataset) -> Dataset:
    """The synthetic patients in the cohort (an empty cohort is refused: there is nothing to write)."""
    mask = apply(defn, syn.X, syn.codes, "the synthetic patients")
    if not mask.any():
        raise CorganError(f"No synthetic patient matches the cohort ({defn.describe()}), so there are no members to export.")
    return syn.take(mask.nonzero()[0])


def records(ds: Dataset, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Readable records (titled codes) of synthetic patients ``offset .. offset+limit``."""
    end = ds.n_patients if limit is None else min(ds.n_patients, offset + limit)
    return describe_rows(ds.X, ds.codes, ds.titles, ds.kind, range(offset, end), ds.patient_ids)


def write_output(comparison: dict, syn_members: Dataset | None, path: str | Path) -> Path:
    """``.json``: the definition, the comparison and the members' records; ``.csv``/``.parquet``/``.npz``:
    the members' matrix with code names (as ``corgan sample`` writes it)."""
    from .export import write_samples

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MEMBER_FORMATS:
        raise CorganError(f"Cannot write {path.name}: use a .json, .csv, .parquet or .npz file name.")
    if not path.parent.exists():
        raise CorganError(f"The folder of the output file does not exist: {path.parent}.")
    if suffix == ".json":
        body = {**comparison, "members": records(syn_members) if syn_members is not None else []}
        write_text_atomic(path, json.dumps(body, indent=1, default=str))
        return path
    if syn_members is None:
        raise CorganError(f"No synthetic patient matches the cohort, so there is nothing to write to {path.name}.")
    return write_samples(syn_members.dense(), syn_members.codes, syn_members.kind, path, syn_members.titles)
