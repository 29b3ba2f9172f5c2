"""Reading tables at the boundary: CSV (plain, gzip, inside a zip) and Parquet.

Every failure becomes a one-sentence :class:`DataError` naming the file; no pandas, pyarrow, gzip
or zip exception escapes. Row numbers in messages are 1-based data rows as a spreadsheet shows
them; for text files the line of the file is given too (the header is line 1).
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

PARQUET = (".parquet", ".pq")
TEXT = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
PICKLES = (".matrix", ".pkl", ".pickle", ".pkl.gz", ".pickle.gz")


def clean(text: object, limit: int = 200) -> str:
    """One line, no sentence break: safe to embed inside a message."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    s = re.sub(r"\.\s+(?=\S)", "; ", s).rstrip(" .;:")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def fail(message: str) -> DataError:
    """A DataError whose text is a single line ending with a period."""
    msg = re.sub(r"\s+", " ", message).strip()
    return DataError(msg if msg.endswith((".", "?", "!")) else msg + ".")


def suffix(path: str | Path) -> str:
    """Lower-case suffix, compound for compressed files: ``'.csv.gz'``."""
    name = Path(str(path).split("::", 1)[0]).name.lower()
    for s in (*TEXT, *PICKLES, ".npy", ".npz", ".zip", ".duckdb", ".db", *PARQUET):
        if name.endswith(s):
            return s
    return Path(name).suffix


def blank_warning(file: str, blank: int, total: int, col: str, what: str = "rows") -> str | None:
    """The sentence a Dataset carries when ``blank`` of ``total`` rows had no code (None when none)."""
    if not blank:
        return None
    return (f"{blank:,} of {total:,} {what} of {file} have no code in column {col!r} and were left out "
            f"({100.0 * blank / max(total, 1):.1f}%).")


def list_names(names, limit: int = 12) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass
class Table:
    """A DataFrame read from ``file`` (display name), with row labels for messages."""

    df: pd.DataFrame
    file: str
    text: bool = True

    def row(self, i: int) -> str:
        """``'row 3 (line 4 of the file)'`` for 0-based position ``i`` of the frame."""
        n = int(i) + 1
        return f"row {n} (line {n + 1} of the file)" if self.text else f"row {n}"


def split_member(path: str | Path) -> tuple[Path, str | None]:
    """``'data.zip::inner.csv'`` -> (Path('data.zip'), 'inner.csv')."""
    s = str(path)
    if "::" in s:
        p, m = s.split("::", 1)
        return Path(p), m
    return Path(s), None


MAX_TABLE_BYTES = 16 * 1024**3
MAX_RATIO = 200  # text tables compress 5-50x; a higher ratio over a large size is a zip bomb
_RATIO_FROM = 256 * 1024**2


def check_zip_member(info: zipfile.ZipInfo, file: str) -> None:
    """Refuse a zip member that would unpack to more than the machine should hold (a zip bomb),
    from the sizes its header declares (zipfile never unpacks more than that)."""
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_TABLE_BYTES or (info.file_size > _RATIO_FROM and ratio > MAX_RATIO):
        raise fail(f"{file} is refused: its member {Path(info.filename).name} would unpack to "
                   f"{info.file_size / 1024**3:,.1f} GB ({ratio:,.0f} times its packed size), which looks like a zip bomb")


MAX_COLUMNS = 100_000
_HEAD = 1 << 20


class _Checked(io.RawIOBase):
    """A text table's byte stream, checked as it is read: the first MB must be UTF-8 text with a
    header of at most :data:`MAX_COLUMNS` fields, and the whole may not unpack to more than
    :data:`MAX_RATIO` times its packed size (a gzip or zip bomb) once past a few hundred MB."""

    def __init__(self, fh, packed: int, file: str, sep: bytes):
        self.fh, self.packed, self.file, self.total = fh, max(int(packed), 1), file, 0
        chunks, n = [], 0
        while n < _HEAD:
            c = fh.read(_HEAD - n)
            if not c:
                break
            chunks.append(c)
            n += len(c)
        self.head = b"".join(chunks)
        self._check_head(sep)

    def _check_head(self, sep: bytes) -> None:
        head, file = self.head, self.file
        if b"\x00" in head:
            raise fail(f"{file} is not a text table: it holds NUL bytes (binary data, or UTF-16 text); "
                       f"save it as a UTF-8 CSV file")
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _HEAD)
        except UnicodeDecodeError as e:
            line = head[:e.start].count(b"\n") + 1
            raise fail(f"{file} is not UTF-8 text (byte 0x{head[e.start]:02x} on line {line} of the file); "
                       f"save it as UTF-8 (a spreadsheet's \"CSV UTF-8\")")
        first = head.split(b"\n", 1)[0]
        if (b"\n" not in head and len(head) >= _HEAD) or first.count(sep) + 1 > MAX_COLUMNS:
            raise fail(f"{file} has a header line of more than {MAX_COLUMNS:,} columns, more than a patient "
                       f"x code table holds here")

        # pandas lets a row with extra fields through when only some columns are read: check the first MB
        lines = head.decode("utf-8", "replace").splitlines()[: -1 if len(head) >= _HEAD else None]
        width = None
        for n, row in enumerate(csv.reader(lines, delimiter=sep.decode()), start=1):
            if width is None:
                width = len(row)
            elif len(row) > width:
                raise fail(f"{file} is not a well-formed CSV file: line {n} of the file has {len(row)} fields "
                           f"where the header has {width} (row {n - 1})")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n], self.head = self.head[:n], self.head[n:]
        else:
            data = self.fh.read(len(b))
            n = len(data)
            b[:n] = data
        self.total += n
        if self.total > MAX_TABLE_BYTES or (self.total > _RATIO_FROM and self.total / self.packed > MAX_RATIO):
            raise fail(f"{self.file} is refused: it unpacks to more than {self.total / 1024**3:,.1f} GB "
                       f"({self.total / self.packed:,.0f} times its packed size), which looks like a zip or gzip bomb")
        return n


def _read_text(fh, packed: int, file: str, **kw) -> pd.DataFrame:
    sep = kw.get("sep", ",").encode()
    # pandas lets a row with extra fields through when usecols is given: read all columns, then pick
    import pandas as pd  # here, not at the top: a process that only samples a run never needs it

    with io.BufferedReader(_Checked(fh, packed, file, sep), buffer_size=1 << 16) as stream:
        return pd.read_csv(stream, **kw)


def _zip_member(zf: zipfile.ZipFile, member: str | None, file: str) -> str:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    csvs = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))
            and not Path(n).name.startswith("._")]
    if member is not None:
        hits = [n for n in names if n == member or Path(n).name == member]
        if not hits:
            raise fail(f"{file} has no member named {member!r} (members: {list_names(names)})")
        return hits[0]
    for preferred in ("diabetic_data.csv",):
        hits = [n for n in csvs if Path(n).name == preferred]
        if hits:
            return hits[0]
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise fail(f"{file} holds no CSV file (members: {list_names(names)})")
    raise fail(f"{file} holds several CSV files ({list_names(csvs)}); name one as "
               f"{file}::{Path(csvs[0]).name}")


def _parser_message(err: Exception) -> str:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if m:
        want, line, saw = m.groups()
        return (f"line {line} of the file has {saw} fields where the header has {want} "
                f"(row {int(line) - 1})")
    return clean(err)


def _read(path: Path, member: str | None, file: str, **kw) -> tuple[pd.DataFrame, bool]:
    import pandas as pd

    suf = suffix(path)
    if suf in PARQUET:
        cols = kw.get("usecols")
        df = pd.read_parquet(path, columns=list(cols) if cols is not None else None)
        if kw.get("nrows") == 0:
            df = df.iloc[:0]
        if kw.get("dtype") is str:
            df = df.astype(str).where(df.notna(), None)
        return df, False
    kw.setdefault("encoding_errors", "replace")
    kw.setdefault("low_memory", False)
    if suf in (".tsv", ".tsv.gz"):
        kw.setdefault("sep", "\t")
    if suf == ".zip":
        with zipfile.ZipFile(path) as zf:
            name = _zip_member(zf, member, file)
            info = zf.getinfo(name)
            check_zip_member(info, file)
            with zf.open(name) as fh:
                if name.lower().endswith(".tsv"):
                    kw.setdefault("sep", "\t")
                return _read_text(fh, info.compress_size, file, **kw), True
    opener = gzip.open if suf.endswith(".gz") else open
    with opener(path, "rb") as fh:
        return _read_text(fh, path.stat().st_size, file, **kw), True


def read_table(path: str | Path, **kw) -> Table:
    """Read a CSV / CSV.gz / zip member / Parquet file; pandas keywords pass through."""
    path, member = split_member(path)
    file = str(path) + (f"::{member}" if member else "")
    if not path.exists():
        raise fail(f"File not found: {file}")
    if path.is_dir():
        raise fail(f"{file} is a folder, not a table file")
    import pandas as pd

    try:
        df, text = _read(path, member, file, **kw)
    except DataError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise fail(f"{file} could not be read: the file is truncated or corrupt ({clean(e)})")
    except zipfile.BadZipFile as e:
        raise fail(f"{file} is not a readable zip archive: it is truncated or corrupt ({clean(e)})")
    except pd.errors.EmptyDataError:
        raise fail(f"{file} is empty: it has no header row")
    except pd.errors.ParserError as e:
        raise fail(f"{file} is not a well-formed CSV file: {_parser_message(e)}")
    except ValueError as e:
        if suffix(path) in PARQUET or "arrow" in type(e).__module__.lower():
            raise fail(f"{file} is not a readable Parquet file: it is truncated or corrupt ({clean(e)})")
        if "usecols" in str(e) or "not in list" in str(e):
            raise fail(f"{file} lacks a requested column ({clean(e)})")
        raise fail(f"{file} could not be read ({clean(e)})")
    except Exception as e:  # noqa: BLE001 - nothing raw may escape load()
        if suffix(path) in PARQUET:
            raise fail(f"{file} is not a readable Parquet file: it is truncated or corrupt ({clean(e)})")
        raise fail(f"{file} could not be read ({type(e).__name__}: {clean(e)})")
    return Table(df, file, text)


def read_columns(path: str | Path) -> list[str]:
    """The header of a table file, without reading its rows."""
    p, member = split_member(path)
    if suffix(p) in PARQUET and p.is_file():
        try:
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(p).names if not str(c).startswith("__index_level")]
        except Exception as e:  # noqa: BLE001
            raise fail(f"{p} is not a readable Parquet file: it is truncated or corrupt ({clean(e)})")
    return [str(c) for c in read_table(path, nrows=0).df.columns]


def find_column(columns, name: str) -> str | None:
    """The column matching ``name`` case-insensitively (exact match first)."""
    cols = [str(c) for c in columns]
    if name in cols:
        return name
    low = {c.lower().strip(): c for c in cols}
    return low.get(name.lower().strip())


def resolve_columns(columns, wanted: list[str], file: str, what: str = "") -> list[str]:
    """Map each wanted name to the file's own spelling, or fail naming the missing one."""
    out = []
    for w in wanted:
        c = find_column(columns, w)
        if c is None:
            kind = f" for {what}" if what else ""
            raise fail(f"{file} has no column {w!r}{kind} (columns found: {list_names(columns)})")
        out.append(c)
    return out


def split_names(text: str) -> list[str]:
    """``'diag_1, diag_2'`` -> ``['diag_1', 'diag_2']``."""
    return [p.strip() for p in str(text or "").split(",") if p.strip()]
