"""A run's ``metrics.sqlite``: losses per epoch and quality per checkpoint, in long format.

The run process writes it (WAL mode, so readers never block it); the CLI and the dashboard read it
through a read-only connection while the run trains.
"""
from __future__ import annotations

import sqlite3
import urllib.parse
from contextlib import closing
from pathlib import Path

from ..errors import RunError

TABLES = ("epochs", "quality")


def connect(run_dir: Path) -> sqlite3.Connection:
    """A writing connection, creating the tables on first use."""
    con = sqlite3.connect(run_dir / "metrics.sqlite", timeout=10)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent after a crash of the process
    con.execute("CREATE TABLE IF NOT EXISTS epochs (t REAL, phase TEXT, epoch INT, epochs INT, "
                "seconds REAL, name TEXT, value REAL)")
    con.execute("CREATE TABLE IF NOT EXISTS quality (t REAL, phase TEXT, epoch INT, name TEXT, value REAL)")
    return con


def read(run_dir: Path, table: str = "epochs"):
    """Long-format DataFrame of the epoch losses (``epochs``) or checkpoint quality (``quality``)."""
    import pandas as pd

    if table not in TABLES:
        raise RunError(f"Unknown metrics table {table!r}.")
    path = run_dir / "metrics.sqlite"
    if not path.exists():
        return pd.DataFrame()
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as con:
        return pd.read_sql_query(f"SELECT * FROM {table}", con)
