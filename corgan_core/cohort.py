"""Cohort definitions: which patients a clinician means ("diabetes and heart failure, without CKD").

A :class:`CohortDefinition` is a small frozen dataclass that round-trips through JSON. Applied to a
patient x code matrix (dense or scipy.sparse) it gives a boolean mask of the patients in the cohort:

- ``all_of``: every one of these codes is present;
- ``any_of``: at least one of these codes is present (ignored when empty);
- ``none_of``: none of these codes is present (value exactly 0);
- ``min_count``: what "present" means. With 1 (the default) any non-zero value is present, which is
  the only sensible reading for binary and continuous data; for count data a higher value asks for
  at least that many occurrences (``min_count=2``: the code on two admissions or more);
- ``ranges``: for any column, a closed interval ``low <= value <= high`` (either end may be open);
  this is how a cohort is cut from a continuous table.

A definition with no criterion at all selects every patient.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError, DataError

FORMAT_VERSION = 1
_LISTS = ("all_of", "any_of", "none_of")


@dataclass(frozen=True)
class Range:
    """``low <= column <= high``; ``None`` leaves that end open."""

    column: str
    low: float | None = None
    high: float | None = None

    def __post_init__(self):
        if not isinstance(self.column, str) or not self.column:
            raise ConfigError(f"A cohort range needs a column name; got {self.column!r}.")
        for end in ("low", "high"):
            v = getattr(self, end)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v)):
                raise ConfigError(f"The {end} end of the range on column {self.column!r} must be a finite number or empty; got {v!r}.")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigError(f"The range on column {self.column!r} is empty: low {self.low:g} is above high {self.high:g}.")

    def text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g} <= {self.column} <= {self.high:g}"
        if self.low is not None:
            return f"{self.column} >= {self.low:g}"
        if self.high is not None:
            return f"{self.column} <= {self.high:g}"
        return f"{self.column} any value"


def _codes(value, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ConfigError(f"The cohort's {name} must be a list of codes, not the single string {value!r}.")
    out: list[str] = []
    for c in value:
        if not isinstance(c, str) or not c.strip():
            raise ConfigError(f"Every code in the cohort's {name} must be a non-empty string (e.g. \"250\"); got {c!r}.")
        if c.strip() not in out:
            out.append(c.strip())
    return tuple(out)


@dataclass(frozen=True)
class CohortDefinition:
    """Codes that must all be present, of which one must be present, that must be absent; ranges."""

    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    min_count: int = 1
    ranges: tuple[Range, ...] = ()
    name: str = ""

    def __post_init__(self):
        for name in _LISTS:
            object.__setattr__(self, name, _codes(getattr(self, name), name))
        ranges = tuple(r if isinstance(r, Range) else Range(**r) for r in self.ranges)
        object.__setattr__(self, "ranges", ranges)
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, (int, np.integer)) or self.min_count < 1:
            raise ConfigError(f"The cohort's min_count must be a whole number of at least 1; got {self.min_count!r}.")
        clash = sorted(set(self.none_of) & (set(self.all_of) | set(self.any_of)))
        if clash:
            raise ConfigError(f"Code {clash[0]} is both required and excluded, so the cohort would always be empty.")
        cols = [r.column for r in ranges]
        dup = next((c for c in cols if cols.count(c) > 1), None)
        if dup is not None:
            raise ConfigError(f"Column {dup!r} has more than one range; give one range per column.")

    @property
    def is_empty(self) -> bool:
        """True when there is no criterion (every patient is in the cohort)."""
        return not (self.all_of or self.any_of or self.none_of or self.ranges)

    def columns(self) -> list[str]:
        """Every code or column the definition names, in order, once."""
        out: list[str] = []
        for c in [*self.all_of, *self.any_of, *self.none_of, *(r.column for r in self.ranges)]:
            if c not in out:
                out.append(c)
        return out

    def describe(self, titles: dict | None = None) -> str:
        """The definition in words, codes with their titles where known."""
        titles = titles or {}

        def named(codes):
            return ", ".join(f"{c} ({titles[c]})" if titles.get(c) else c for c in codes)

        present = "present" if self.min_count <= 1 else f"present at least {self.min_count} times"
        parts = []
        if self.all_of:
            parts.append(f"all of {named(self.all_of)} {present}")
        if self.any_of:
            parts.append(f"at least one of {named(self.any_of)} {present}")
        if self.none_of:
            parts.append(f"none of {named(self.none_of)}")
        parts += [r.text() for r in self.ranges]
        return "; ".join(parts) if parts else "every patient (no criterion)"

    # ---- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "corgan-cohort", "version": FORMAT_VERSION, "name": self.name,
                "all_of": list(self.all_of), "any_of": list(self.any_of), "none_of": list(self.none_of),
                "min_count": int(self.min_count),
                "ranges": [{"column": r.column, "low": r.low, "high": r.high} for r in self.ranges]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict, where: str = "the cohort definition") -> "CohortDefinition":
        """Read a definition (or a ``corgan cohort`` output, which carries one under "definition")."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where} must be a JSON object; got {type(d).__name__}.")
        if "definition" in d and isinstance(d["definition"], dict):
            d = d["definition"]
        known = {"format", "version", "name", "min_count", "ranges", *_LISTS}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"{where} has an unknown field {unknown[0]!r} (known: {', '.join(sorted(known))}).")
        if d.get("format", "corgan-cohort") != "corgan-cohort" or d.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            raise ConfigError(f"{where} is not a version-{FORMAT_VERSION} corgan cohort definition.")
        ranges = d.get("ranges") or []
        if not isinstance(ranges, list) or not all(isinstance(r, dict) for r in ranges):
            raise ConfigError(f"The ranges in {where} must be a list of objects with column, low and high.")
        try:
            return cls(**{k: d.get(k) or () for k in _LISTS}, min_count=d.get("min_count", 1),
                       ranges=tuple(Range(**r) for r in ranges), name=str(d.get("name") or ""))
        except TypeError as exc:
            raise ConfigError(f"A range in {where} has fields other than column, low and high ({exc}).") from None

    @classmethod
    def from_json(cls, text: str, where: str = "the cohort definition") -> "CohortDefinition":
        try:
            return cls.from_dict(json.loads(text), where)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None

    @classmethod
    def load(cls, path: str | Path) -> "CohortDefinition":
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise ConfigError(f"Cannot read the cohort definition {p}: {exc.strerror or exc}.") from None
        return cls.from_json(text, where=str(p))


def column_indices(defn: CohortDefinition, codes, where: str = "the data") -> dict[str, int]:
    """``code -> column`` for every code the definition names; an unknown code is refused by name."""
    pos = {c: j for j, c in enumerate(codes)}
    missing = [c for c in defn.columns() if c not in pos]
    if missing:
        raise DataError(f"Code {missing[0]!r} of the cohort definition is not among the {len(pos):,} codes of {where}.")
    return {c: pos[c] for c in defn.columns()}


def _block(X, cols: list[int]) -> np.ndarray:
    if not cols:
        return np.zeros((X.shape[0], 0))
    sub = X[:, cols]
    return sub.toarray() if sp.issparse(sub) else np.asarray(sub, dtype=np.float64)


def apply(defn: CohortDefinition, X, codes, where: str = "the data") -> np.ndarray:
    """Boolean mask of the rows of ``X`` (dense or sparse, columns named by ``codes``) in the cohort."""
    if X.shape[1] != len(codes):
        raise DataError(f"{where} has {X.shape[1]} columns but {len(codes)} code names.")
    idx = column_indices(defn, codes, where)
    n = X.shape[0]
    mask = np.ones(n, dtype=bool)

    def present(block):
        return block != 0 if defn.min_count <= 1 else block >= defn.min_count

    if defn.all_of:
        mask &= present(_block(X, [idx[c] for c in defn.all_of])).all(axis=1)
    if defn.any_of:
        mask &= present(_block(X, [idx[c] for c in defn.any_of])).any(axis=1)
    if defn.none_of:
        mask &= (_block(X, [idx[c] for c in defn.none_of]) == 0).all(axis=1)
    for r in defn.ranges:
        v = _block(X, [idx[r.column]])[:, 0]
        if r.low is not None:
            mask &= v >= r.low
        if r.high is not None:
            mask &= v <= r.high
    return mask


def search_codes(codes, titles: dict, query: str, limit: int = 50) -> list[str]:
    """Codes whose code or title contains ``query`` (case-insensitive); code matches first."""
    q = (query or "").strip().lower()
    if not q:
        return []
    by_code = [c for c in codes if c.lower().startswith(q)]
    rest = [c for c in codes if c not in by_code and (q in c.lower() or q in (titles.get(c) or "").lower())]
    return (by_code + rest)[:limit]


def label(code: str, titles: dict) -> str:
    """``"250 - Diabetes mellitus ..."`` (or the bare code when it has no title)."""
    t = titles.get(code)
    return f"{code} - {t}" if t else code


def describe_rows(X, codes, titles: dict, kind: str, rows, ids=None) -> list[dict]:
    """Readable records: for each row, its non-zero codes with titles (counts or values beside them).

    Meant for SYNTHETIC patients only; real rows are never shown one by one.
    """
    out = []
    for i in rows:
        row = X[i]
        if sp.issparse(row):
            cols, vals = row.indices, row.data
        else:
            v = np.asarray(row).ravel()
            cols = np.flatnonzero(v)
            vals = v[cols]
        items = []
        for j, v in zip(cols, vals):
            name = label(codes[j], titles)
            items.append(name if kind == "binary" else (f"{name} x{v:g}" if kind == "count" else f"{codes[j]} = {v:.4g}"))
        out.append({"patient": ids[i] if ids is not None else f"row {i + 1}", "codes": len(items), "record": items})
    return out
