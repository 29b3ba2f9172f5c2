"""OMOP CDM on a PostgreSQL server, through SQLAlchemy + psycopg.

A source is a URL ``postgresql://user@host[:port]/db?schema=cdm`` (the schema defaults to the
server's search path), or ``env:NAME`` for a URL held in the environment variable ``NAME``. The
password never sits in a typed URL: it comes from ``$CORGAN_PG_PASSWORD`` (in the dashboard, a
root-level ``CORGAN_PG_PASSWORD`` in ``.streamlit/secrets.toml``, which Streamlit puts in the
environment), or from libpq's own ``PGPASSWORD`` / ``~/.pgpass``. It is never printed, logged or
written to a run: messages and ``Dataset.source`` show the URL without it.

The query is the one :mod:`.omop` runs on DuckDB, aggregated on the server and read through a
server-side cursor, so a CDM of millions of rows never lands in memory whole.
"""
from __future__ import annotations

import os
import re

from .dataset import Dataset
from .options import DataOptions
from ._io import clean, fail

PASSWORD_ENV = "CORGAN_PG_PASSWORD"
_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_database_url(path) -> bool:
    """True for a PostgreSQL URL or an ``env:NAME`` reference to one."""
    s = str(path or "").strip().lower()
    return s.startswith(_SCHEMES) or (s.startswith("env:") and len(s) > 4)


def _raw_url(path: str) -> tuple[str, bool]:
    """The URL text, and whether it came from the environment (then it may carry a password)."""
    s = str(path).strip()
    if s.lower().startswith("env:"):
        name = s[4:].strip()
        value = os.environ.get(name, "").strip()
        if not value:
            raise fail(f"The environment variable {name} named by {s} is not set, so there is no "
                       f"database URL to read")
        if not value.lower().startswith(_SCHEMES):
            raise fail(f"The environment variable {name} does not hold a postgresql:// URL")
        return value, True
    return s, False


def parse(path: str):
    """(SQLAlchemy URL without schema option, schema or None, display text without password)."""
    from sqlalchemy.engine import make_url

    text, from_env = _raw_url(path)
    try:
        url = make_url(re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", text, flags=re.I))
    except Exception:  # noqa: BLE001 - never echo a URL that may hold a password
        raise fail(f"{shown(path)} is not a valid database URL; write postgresql://user@host[:port]/db?schema=cdm")
    if url.password and not from_env:
        raise fail("The database URL holds a password; put it in the environment variable "
                   f"{PASSWORD_ENV} instead, so it is never written to a run or shown")
    if not url.database:
        raise fail(f"{display(url)} names no database; write postgresql://user@host[:port]/db?schema=cdm")
    query = dict(url.query)
    schema = query.pop("schema", None)
    unknown = sorted(k for k in query if k not in ("sslmode", "connect_timeout", "application_name",
                                                   "options", "sslrootcert"))
    if unknown:
        raise fail(f"{display(url)} has the unknown option {unknown[0]!r}; use schema, sslmode or connect_timeout")
    url = url.set(query=query)
    return url, (str(schema) if schema else None), display(url, schema)


def display(url, schema: str | None = None) -> str:
    """The URL as it may be shown: no password, the schema option kept."""
    safe = url.set(password=None, drivername="postgresql")
    text = safe.render_as_string(hide_password=True)
    return text + (("&" if "?" in text else "?") + f"schema={schema}" if schema else "")


def shown(path) -> str:
    """``path`` as it may be shown (an ``env:`` name as it is, any password cut out)."""
    s = str(path).strip()
    return s if s.lower().startswith("env:") else re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", s)


def engine(path: str):
    """A SQLAlchemy engine for ``path``, its schema and its display text."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url, schema, text = parse(path)
    args = {"application_name": "corgan", "connect_timeout": 10}
    if not url.password and os.environ.get(PASSWORD_ENV):
        args["password"] = os.environ[PASSWORD_ENV]  # passed to libpq, never put in the URL
    return create_engine(url, poolclass=NullPool, connect_args=args), schema, text


def connect(path: str):
    """An open connection (schema set as the search path), and the display text."""
    eng, schema, text = engine(path)
    try:
        con = eng.connect()
    except Exception as e:  # noqa: BLE001 - psycopg's messages name host and user, never the password
        reason = clean(getattr(e, "orig", e))
        secret = os.environ.get(PASSWORD_ENV)
        if secret:
            reason = reason.replace(secret, "***")
        raise fail(f"Cannot connect to the PostgreSQL server of {text} ({reason})")
    return con, schema, text


class PgCdm:
    """A PostgreSQL CDM behind the interface :func:`.omop.read_cdm` needs."""

    def __init__(self, path: str):
        from sqlalchemy import text as sql

        self._sql = sql
        self.con, self.schema, self.where = connect(path)
        if self.schema is not None:
            found = self.con.execute(sql("select 1 from information_schema.schemata where schema_name = :s"),
                                     {"s": self.schema}).first()
            if found is None:
                self.close()
                raise fail(f"{self.where} has no schema {self.schema!r}")
        else:
            self.schema = self.con.execute(sql("select current_schema()")).scalar()

    def rows(self, query: str) -> list[tuple]:
        return [tuple(r) for r in self.con.execute(self._sql(query)).fetchall()]

    def chunks(self, query: str, size: int = 200_000):
        """Rows in chunks from a server-side cursor (psycopg's own, under SQLAlchemy's connection:
        plain tuples, without a Row object per (person, concept) pair)."""
        from .omop import batches

        raw = self.con.connection.driver_connection
        with raw.cursor(name="corgan_cdm_events") as cur:
            cur.itersize = size
            cur.execute(query)
            yield from batches(cur, size)

    def tables(self) -> list[tuple[str, str]]:
        return self.rows("select table_schema, table_name from information_schema.tables where "
                         f"table_schema = '{self.schema.replace(chr(39), chr(39) * 2)}' order by table_name")

    def close(self) -> None:
        self.con.close()


def load_postgres(path: str, options: DataOptions = DataOptions()) -> Dataset:
    """Person x concept matrix from an OMOP CDM on PostgreSQL (see the module docstring)."""
    from .omop import read_cdm  # pandas: only when a CDM is read

    cdm = PgCdm(path)
    return read_cdm(cdm, options, cdm.where)
