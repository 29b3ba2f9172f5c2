"""ICD code helpers: medGAN-style grouping, ICD ordering of columns, titles of grouped codes.

Grouping follows medGAN's ``process_mimic.py``: ICD-9 codes starting with ``E`` keep four
characters, all others three; ICD-10 codes keep their first three characters. Numeric ICD-9 codes
whose leading zeros were lost (``"38"`` for ``038``, as in the Diabetes 130-US file) are padded back.
Code names may carry a version prefix (``"ICD9:401"``, ``"ICD10:I10"``), as MIMIC-IV codes do.
"""
from __future__ import annotations

import re

import pandas as pd

from ..errors import DataError

GROUPINGS = ("3digit", "none")
VERSIONS = ("9", "10", "both")

_ICD9_RE = re.compile(r"^(?:\d{1,3}|V\d{2}|E\d{3})(?:\.?\d{0,2})?$")
_PREFIX_RE = re.compile(r"^ICD(9|10):(.*)$", re.IGNORECASE)
_MISSING = {"", "?", "nan", "none", "null", "na", "n/a"}


def check_grouping(grouping: str) -> str:
    if grouping not in GROUPINGS:
        raise DataError(f"Unknown ICD grouping {grouping!r}; use one of {', '.join(GROUPINGS)}.")
    return grouping


def is_missing(code) -> bool:
    """True for blank, NaN and the usual missing markers (``?`` in the Diabetes file)."""
    if code is None or (isinstance(code, float) and code != code):
        return True
    return str(code).strip().lower() in _MISSING


def looks_like_icd9(code: str) -> bool:
    """True when ``code`` has the shape of an ICD-9-CM diagnosis code (with or without dot)."""
    return bool(_ICD9_RE.match(str(code).strip().upper()))


def _pad_numeric(code: str) -> str:
    """Restore the leading zeros of a numeric ICD-9 code: ``38`` -> ``038``, ``8.4`` -> ``008.4``."""
    head, dot, tail = code.partition(".")
    if head.isdigit() and len(head) < 3:
        head = head.zfill(3)
    return head + dot + tail


def group_icd9(code: str, grouping: str = "3digit") -> str:
    """``'250.83'``/``'25083'`` -> ``'250'``, ``'E8889'`` -> ``'E888'``, ``'V5789'`` -> ``'V57'``.

    Dots and spaces are removed; with grouping ``"none"`` the full (dot-less) code is kept.
    """
    check_grouping(grouping)
    c = _pad_numeric(str(code).strip().upper().replace(" ", ""))
    c = c.replace(".", "")
    if grouping == "none":
        return c
    return c[:4] if c.startswith("E") else c[:3]


def group_icd10(code: str, grouping: str = "3digit") -> str:
    """``'I10'`` -> ``'I10'``, ``'E11.65'``/``'E1165'`` -> ``'E11'`` (the ICD-10 category)."""
    check_grouping(grouping)
    c = str(code).strip().upper().replace(" ", "").replace(".", "")
    return c if grouping == "none" else c[:3]


def group_code(code: str, version: str, grouping: str = "3digit") -> str:
    """Group one code of a known version ("9" or "10")."""
    return group_icd10(code, grouping) if str(version) == "10" else group_icd9(code, grouping)


def group_series(codes: pd.Series, version: str | pd.Series, grouping: str,
                 prefix: bool = False) -> pd.Series:
    """Vectorised grouping: each distinct (code, version) is grouped once, then mapped back.

    ``version`` is "9", "10", "auto" (ICD-9 shaped codes as ICD-9, anything else as given) or a
    Series of versions. With ``prefix`` the names become ``ICD9:401`` / ``ICD10:I10``.
    """
    check_grouping(grouping)
    codes = codes.astype(str).str.strip()
    vers = version.astype(str) if isinstance(version, pd.Series) else pd.Series(str(version), index=codes.index)
    key = vers + "\x00" + codes
    uniq = pd.unique(key)
    out = {}
    for k in uniq:
        v, c = k.split("\x00", 1)
        if v == "auto":
            g = group_icd9(c, grouping) if looks_like_icd9(c) else c
        else:
            g = group_code(c, v, grouping)
        out[k] = f"ICD{v}:{g}" if prefix and v in ("9", "10") else g
    return key.map(out)


def _split_prefix(code: str) -> tuple[int, str]:
    m = _PREFIX_RE.match(code)
    if m:
        return int(m.group(1)), m.group(2)
    return 0, code


def icd_sort_key(code: str, version: str | int | None = None) -> tuple:
    """Sort key putting columns in ICD order.

    Version prefix first (ICD-9 before ICD-10); within ICD-9, numeric codes 001-999 in numeric
    order, then V codes, then E codes, then anything else alphabetically; ICD-10 codes sort
    alphabetically. ``version`` says how to read a code without prefix (default ICD-9).
    """
    code = str(code)
    v, body = _split_prefix(code)
    if v == 0 and version is not None:
        v = int(version)
    b = body.strip().upper().replace(".", "")
    if v == 10:
        return (2, 0, 0, b)
    rank = 0 if v == 0 else 1
    head3 = b[:3]
    if head3.isdigit():
        return (rank, 0, int(head3), b[3:])
    if b[:1] == "V" and b[1:3].isdigit():
        return (rank, 1, int(b[1:3]), b[3:])
    if b[:1] == "E" and b[1:4].isdigit():
        return (rank, 2, int(b[1:4]), b[4:])
    if b.isdigit():  # short numeric code never padded
        return (rank, 0, int(b), "")
    return (rank, 3, 0, b)


def grouped_titles(titles: dict[str, str], codes: list[str], version: str,
                   grouping: str, prefix: bool = False) -> dict[str, str]:
    """Titles for grouped ``codes`` from a full-code title table.

    A group takes the title of its exact code when the table has it (``'401'``). Otherwise it is
    named after its first full code in ICD order and says it is a group, e.g. "Paroxysmal
    supraventricular tachycardia and 8 related 427.x codes", so a reader never mistakes a
    three-digit group for one of its members.
    """
    wanted = set(codes)
    exact_titles: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    tag = f"ICD{version}:" if prefix else ""
    full = sorted(titles, key=lambda c: icd_sort_key(c, version))
    for c in full:
        g = tag + group_code(c, version, grouping)
        if g not in wanted:
            continue
        if tag + group_code(c, version, "none") == g:
            exact_titles[g] = titles[c]
        else:
            members.setdefault(g, []).append(c)
    out: dict[str, str] = {}
    for g in wanted:
        if g in exact_titles:
            out[g] = exact_titles[g]
        elif g in members:
            first, others = members[g][0], len(members[g]) - 1
            bare = g[len(tag):]
            out[g] = titles[first] + (f" and {others} related {bare}.x codes" if others else f" ({bare}.x)")
    return out
