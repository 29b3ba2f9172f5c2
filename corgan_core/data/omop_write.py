"""Write OMOP CDM tables: synthetic patients out as OMOP, and a DuckDB CDM copied to PostgreSQL.

A target is a new ``.duckdb`` file or a PostgreSQL URL (see :mod:`.postgres`; ``?schema=`` names
the schema, created when missing). Tables already in the target are never overwritten: the
write is refused before anything is written. PostgreSQL receives rows by ``COPY`` in CSV chunks.

Synthetic patients (:func:`write_omop`) become CDM rows so OHDSI tools can run on them:

- ``person``: ids 1..n (synthetic; no real person id is ever written), gender, race and ethnicity
  concept 0 ("no matching concept") and the placeholder ``year_of_birth`` 1900, since the model
  makes no demographics;
- ``observation_period``: one per person, from and to the placeholder date;
- ``condition_occurrence``: one row per present code (a count of k gives k rows), at the
  documented placeholder date ``PLACEHOLDER_DATE`` (2000-01-01), type concept 0, no visit.

The vocabulary (``concept`` ...) is not written: point the tools at the vocabulary schema the
codes came from. Codes must be OMOP concept ids, so the data the model learned must be OMOP.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from .dataset import Dataset
from .postgres import connect, is_database_url
from ._io import clean, fail

PLACEHOLDER_DATE = dt.date(2000, 1, 1)
PLACEHOLDER_BIRTH_YEAR = 1900
COPY_TABLES = ("person", "observation_period", "visit_occurrence", "condition_occurrence",
               "procedure_occurrence", "drug_exposure", "concept")
_PG_TYPES = {"int8": "bigint", "int16": "smallint", "int32": "integer", "int64": "bigint",
             "float": "real", "double": "double precision", "bool": "boolean",
             "date32[day]": "date", "string": "text", "large_string": "text", "null": "text"}


def _pg_type(t) -> str:
    s = str(t)
    return "timestamp" if s.startswith("timestamp") else _PG_TYPES.get(s, "text")


class _DuckSink:
    def __init__(self, path: str):
        import duckdb

        self.where = str(path)
        if Path(path).exists():
            raise fail(f"{path} already exists; write the OMOP tables to a new .duckdb file")
        try:
            self.con = duckdb.connect(str(path))
        except Exception as e:  # noqa: BLE001
            raise fail(f"Cannot create the DuckDB file {path} ({clean(e)})")

    def exists(self, name: str) -> bool:
        return False  # always a new file

    def write(self, name: str, table) -> None:
        self.con.register("_incoming", table)
        self.con.execute(f'create table "{name}" as select * from _incoming')
        self.con.unregister("_incoming")

    def close(self, ok: bool) -> None:
        self.con.close()
        if not ok:
            Path(self.where).unlink(missing_ok=True)


class _PgSink:
    def __init__(self, url: str):
        from sqlalchemy import text

        self._text = text
        self.con, self.schema, self.where = connect(url)
        self.tx = self.con.begin()
        if self.schema:
            self.con.execute(text(f'create schema if not exists "{self.schema}"'))
        self.prefix = f'"{self.schema}".' if self.schema else ""

    def exists(self, name: str) -> bool:
        schema = self.schema or self.con.execute(self._text("select current_schema()")).scalar()
        return self.con.execute(self._text("select 1 from information_schema.tables where table_schema = :s "
                                           "and table_name = :t"), {"s": schema, "t": name}).first() is not None

    def write(self, name: str, table) -> None:
        import pyarrow.csv as pacsv

        cols = ", ".join(f'"{f.name.lower()}" {_pg_type(f.type)}' for f in table.schema)
        self.con.execute(self._text(f'create table {self.prefix}"{name}" ({cols})'))
        names = ", ".join(f'"{f.name.lower()}"' for f in table.schema)
        cur = self.con.connection.driver_connection.cursor()
        with cur.copy(f'copy {self.prefix}"{name}" ({names}) from stdin (format csv)') as copy:
            for batch in table.to_batches(max_chunksize=100_000):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())

    def close(self, ok: bool) -> None:
        (self.tx.commit if ok else self.tx.rollback)()
        self.con.close()


def _sink(target: str):
    target = str(target)
    if is_database_url(target):
        return _PgSink(target)
    if not target.lower().endswith((".duckdb", ".db")):
        raise fail(f"Cannot write OMOP tables to {target}: give a new .duckdb file or a postgresql:// URL")
    return _DuckSink(target)


def _write_all(target: str, tables: dict) -> str:
    sink = _sink(target)
    ok = False
    try:
        taken = [n for n in tables if sink.exists(n)]
        if taken:
            raise fail(f"{sink.where} already has a {taken[0]} table; write to a new schema or database")
        for name, table in tables.items():
            sink.write(name, table)
        ok = True
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - drivers raise many types; none escapes
        raise fail(f"Writing the OMOP tables to {sink.where} failed ({type(e).__name__}: {clean(e)})")
    finally:
        sink.close(ok)
    return sink.where


def omop_tables(ds: Dataset) -> dict:
    """The ``person``, ``observation_period`` and ``condition_occurrence`` tables of ``ds``."""
    import pyarrow as pa

    if ds.kind not in ("binary", "count"):
        raise fail(f"Only binary or count data can be written as OMOP conditions, not {ds.kind} data")
    bad = next((c for c in ds.codes if not str(c).lstrip("-").isdigit()), None)
    if bad is not None:
        raise fail(f"The code {bad!r} is not an OMOP concept id, so these records cannot be written as OMOP; "
                   f"train on an OMOP source (a .duckdb CDM, PostgreSQL or the demo)")
    X = sp.csr_matrix(ds.X, dtype=np.float64, copy=True)
    X.data = np.rint(X.data)
    X.eliminate_zeros()
    reps = X.data.astype(np.int64) if ds.kind == "count" else np.ones(X.nnz, dtype=np.int64)
    rows = np.repeat(np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), reps)
    concepts = np.asarray([int(c) for c in ds.codes], dtype=np.int64)[np.repeat(X.indices, reps)]
    n, m = X.shape[0], len(rows)
    zeros = lambda k: pa.array(np.zeros(k, dtype=np.int64))  # noqa: E731
    day = lambda k: pa.array(np.full(k, PLACEHOLDER_DATE, dtype="datetime64[D]"), pa.date32())  # noqa: E731
    ids = pa.array(np.arange(1, n + 1, dtype=np.int64))
    person = pa.table({"person_id": ids, "gender_concept_id": zeros(n),
                       "year_of_birth": pa.array(np.full(n, PLACEHOLDER_BIRTH_YEAR, dtype=np.int64)),
                       "race_concept_id": zeros(n), "ethnicity_concept_id": zeros(n)})
    period = pa.table({"observation_period_id": ids, "person_id": ids, "observation_period_start_date": day(n),
                       "observation_period_end_date": day(n), "period_type_concept_id": zeros(n)})
    cond = pa.table({"condition_occurrence_id": pa.array(np.arange(1, m + 1, dtype=np.int64)),
                     "person_id": pa.array(rows + 1), "condition_concept_id": pa.array(concepts),
                     "condition_start_date": day(m), "condition_type_concept_id": zeros(m),
                     "visit_occurrence_id": pa.nulls(m, pa.int64())})
    return {"person": person, "observation_period": period, "condition_occurrence": cond}


def write_omop(ds: Dataset, target: str | Path) -> tuple[str, int]:
    """Write ``ds`` (synthetic patients) as OMOP CDM tables to ``target``; (where, condition rows)."""
    tables = omop_tables(ds)
    return _write_all(str(target), tables), tables["condition_occurrence"].num_rows


def copy_cdm(source: str | Path, target: str, tables=COPY_TABLES) -> dict[str, int]:
    """Copy the CDM tables of a DuckDB file (e.g. the Eunomia demo) to ``target``; rows per table."""
    from .omop import DuckCdm, _find

    cdm = DuckCdm(Path(source))
    try:
        out = {}
        for name in tables:
            found = _find(cdm, name)
            if found is not None:
                out[name] = cdm.con.sql(f"select * from {found[0]}").to_arrow_table()
    finally:
        cdm.close()
    if "condition_occurrence" not in out:
        raise fail(f"{source} has no condition_occurrence table to copy")
    out = {k: t.rename_columns([c.lower() for c in t.column_names]) for k, t in out.items()}
    _write_all(target, out)
    return {k: t.num_rows for k, t in out.items()}
