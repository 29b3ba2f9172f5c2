"""A run's synthetic patients written as an OMOP CDM (``corgan sample --omop``, the Export page).

The rows written are described in :mod:`corgan_core.data.omop_write`; the sample is the run's
cached one (``corgan_core.runs.products.synthetic``), so a download and an OMOP export of the same
size and seed hold the same patients.
"""
from __future__ import annotations

from pathlib import Path

from .data import Dataset, is_database_url
from .data.omop_write import PLACEHOLDER_DATE, write_omop
from .errors import CorganError

__all__ = ["PLACEHOLDER_DATE", "is_omop_run", "omop_file", "write_run_omop"]


def is_omop_run(run) -> bool:
    """True when the run learned OMOP data (its codes are concept ids)."""
    data = run.config()["data"]
    path, source = str(data.get("path", "")), str((data.get("options") or {}).get("source", "auto"))
    return (source in ("omop", "postgres", "demo") or path.strip().lower() == "demo"
            or is_database_url(path) or Path(path).suffix.lower() in (".duckdb", ".db"))


def write_run_omop(run, target: str | Path, n: int | None = None, seed: int = 0) -> tuple[Dataset, str, int]:
    """Write ``n`` synthetic patients of ``run`` as OMOP tables to ``target`` (a new .duckdb file or a
    PostgreSQL URL); returns (the sample, where it went, condition rows written)."""
    from .runs.products import synthetic

    if not is_omop_run(run):
        raise CorganError(f"Run {run.id} learned {run.config()['data'].get('path')}, which is not OMOP data, so its "
                          f"codes are not concept ids and cannot be written as OMOP; export CSV or Parquet instead.")
    ds = synthetic(run, n, seed)
    where, rows = write_omop(ds, target)
    return ds, where, rows


def omop_file(run, n: int | None = None, seed: int = 0) -> Path:
    """The sample as a DuckDB OMOP CDM file kept beside the run's samples (written once)."""
    import os

    from .runs.products import sample_file

    out = sample_file(run, "npz", n, seed).with_suffix(".omop.duckdb")
    if not out.exists():
        part = out.with_name(out.name.replace(".omop.duckdb", ".part.duckdb"))
        part.unlink(missing_ok=True)
        write_run_omop(run, part, n, seed)
        os.replace(part, out)
    return out
