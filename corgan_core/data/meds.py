"""MEDS (Medical Event Data Standard) input, and a MIMIC-III -> MEDS converter.

A MEDS dataset is a folder with ``data/**/*.parquet`` shards of events (``subject_id``, ``time``,
``code``, ``numeric_value``, ...) and ``metadata/codes.parquet`` (``code``, ``description``). The
shards are scanned with pyarrow batch by batch, only the three needed columns, keeping only codes
that start with one of the ``code_prefix`` options (e.g. ``ICD9CM/``), so a large dataset never
sits in memory whole. With one prefix the code names drop it (``ICD9CM/4019`` -> ``401``); with
several they keep it (``ICD9CM/401``). Codes of an ICD vocabulary (the prefix says ICD9 / ICD10)
are grouped like every other ICD source. Binary: 1 if the subject has the code; count: the number
of distinct times it was recorded (MEDS has no visit id; a static event counts once).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .icd import check_grouping, group_series, grouped_titles
from .options import DataOptions
from ._build import build_sparse, ehr_kind
from ._io import clean, fail, list_names, split_names

CODES_FILE = Path("metadata") / "codes.parquet"
_ICD = re.compile(r"ICD\W*(9|10)", re.IGNORECASE)


def is_meds_folder(path: Path) -> bool:
    """A folder with a ``data/`` folder of parquet shards (``metadata/codes.parquet`` optional)."""
    data = Path(path) / "data"
    return data.is_dir() and any(data.rglob("*.parquet"))


def _version(prefix: str) -> str | None:
    m = _ICD.search(prefix)
    return m.group(1) if m else None


def _scan(folder: Path, prefixes: list[str]):
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    files = sorted(str(f) for f in (folder / "data").rglob("*.parquet"))
    try:
        dset = pads.dataset(files, format="parquet")
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types
        raise fail(f"The MEDS data shards of {folder} could not be read: one is truncated or corrupt ({clean(e)})")
    have = set(dset.schema.names)
    missing = [c for c in ("subject_id", "time", "code") if c not in have]
    if missing:
        raise fail(f"The MEDS data shards of {folder} have no column {missing[0]!r} (columns found: "
                   f"{list_names(dset.schema.names)})")
    subj, times, codes = [], [], []
    for batch in dset.to_batches(columns=["subject_id", "time", "code"], batch_size=1 << 20):
        code = batch.column("code")
        if prefixes:
            keep = pc.starts_with(code, prefixes[0])
            for pre in prefixes[1:]:
                keep = pc.or_(keep, pc.starts_with(code, pre))
            batch = batch.filter(pc.fill_null(keep, False))
        if batch.num_rows == 0:
            continue
        subj.append(batch.column("subject_id").to_numpy(zero_copy_only=False))
        times.append(pc.cast(batch.column("time"), "int64").fill_null(np.iinfo(np.int64).min).to_numpy())
        codes.append(batch.column("code").to_numpy(zero_copy_only=False))
    return subj, times, codes


def _name(codes: pd.Series, prefixes: list[str], grouping: str) -> pd.Series:
    """Code names: prefix handled as the module docstring says, ICD codes grouped."""
    if not prefixes:
        return codes
    out = pd.Series(index=codes.index, dtype=object)
    for pre in sorted(prefixes, key=len, reverse=True):  # the longest matching prefix wins
        hit = out.isna() & codes.str.startswith(pre)
        if not hit.any():
            continue
        rest = codes[hit].str.slice(len(pre))
        version = _version(pre)
        if version:
            rest = group_series(rest, version, grouping)
        out[hit] = rest if len(prefixes) == 1 else pre + rest
    return out


def _titles(folder: Path, prefixes: list[str], grouping: str, wanted: set) -> dict[str, str]:
    path = folder / CODES_FILE
    if not path.is_file():
        return {}
    import pyarrow.parquet as pq

    try:
        meta = pq.read_table(path, columns=["code", "description"]).to_pandas()
    except Exception as e:  # noqa: BLE001
        raise fail(f"{path} could not be read as a MEDS codes table with code and description columns ({clean(e)})")
    meta = meta.dropna()
    if not prefixes:
        return {c: str(t) for c, t in zip(meta["code"], meta["description"]) if c in wanted}
    out: dict[str, str] = {}
    for pre in prefixes:
        part = meta[meta["code"].str.startswith(pre)]
        full = dict(zip(part["code"].str.slice(len(pre)), part["description"].astype(str)))
        version = _version(pre)
        tag = "" if len(prefixes) == 1 else pre
        local = {w[len(tag):] for w in wanted if w.startswith(tag)}
        got = grouped_titles(full, sorted(local), version, grouping) if version else \
            {c: t for c, t in full.items() if c in local}
        out.update({tag + c: t for c, t in got.items()})
    return out


def load_meds(path: str | Path, options: DataOptions = DataOptions()) -> Dataset:
    """Subject x code matrix from a MEDS dataset folder (see the module docstring)."""
    folder = Path(path)
    where = str(folder)
    if not is_meds_folder(folder):
        raise fail(f"{folder} is not a MEDS dataset: it has no data/ folder of .parquet shards")
    kind = ehr_kind(options, where)
    grouping = check_grouping(options.grouping)
    prefixes = split_names(options.code_prefix)
    subj, times, codes = _scan(folder, prefixes)
    if not subj:
        raise fail(f"{where} yields an empty matrix: no event has a code starting with "
                   f"{' or '.join(prefixes)}" if prefixes else f"{where} yields an empty matrix: it holds no event")
    p = pd.Series(np.concatenate(subj))
    if p.isna().any():
        raise fail(f"{where} has events without a subject_id")
    c = pd.Series(np.concatenate(codes)).astype(str)
    names = _name(c, prefixes, grouping)
    e = np.concatenate(times)
    titles = _titles(folder, prefixes, grouping, set(pd.unique(names)))
    return build_sparse(p.astype(str), names, kind=kind, file=where, source=where,
                        encounters=pd.Series(e) if kind == "count" else None,
                        min_count=options.min_count, titles=titles)


def mimic3_to_meds(folder: str | Path, out: str | Path) -> Path:
    """Write the MIMIC-III diagnoses of ``folder`` as a MEDS dataset in ``out``.

    Each diagnosis is an event ``ICD9CM/<code>`` at its admission's discharge time; each admission
    adds ``HOSPITAL_ADMISSION`` at its admit time; titles go to ``metadata/codes.parquet``.
    """
    import meds
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ._io import read_table
    from .ehr import find_file

    folder, out = Path(folder), Path(out)
    adm_file = find_file(folder, "ADMISSIONS.csv", "ADMISSIONS.csv.gz")
    dx_file = find_file(folder, "DIAGNOSES_ICD.csv", "DIAGNOSES_ICD.csv.gz")
    if adm_file is None or dx_file is None:
        raise fail(f"{folder} does not hold the MIMIC-III tables ADMISSIONS.csv and DIAGNOSES_ICD.csv")
    adm = read_table(adm_file, dtype=str).df.rename(columns=str.upper)
    dx = read_table(dx_file, dtype=str).df.rename(columns=str.upper)
    dx = dx[dx["ICD9_CODE"].notna() & (dx["ICD9_CODE"].str.strip() != "")]
    dx = dx.merge(adm[["HADM_ID", "DISCHTIME"]], on="HADM_ID", how="left")
    events = pd.concat([
        pd.DataFrame({"subject_id": adm["SUBJECT_ID"], "time": adm["ADMITTIME"], "code": "HOSPITAL_ADMISSION"}),
        pd.DataFrame({"subject_id": dx["SUBJECT_ID"], "time": dx["DISCHTIME"],
                      "code": "ICD9CM/" + dx["ICD9_CODE"].str.strip()}),
    ], ignore_index=True)
    events["subject_id"] = events["subject_id"].astype("int64")
    events["time"] = pd.to_datetime(events["time"])
    events = events.sort_values(["subject_id", "time"], kind="stable")
    table = pa.Table.from_pandas(events, preserve_index=False)
    table = table.append_column("numeric_value", pa.nulls(len(table), pa.float32()))
    table = table.append_column("text_value", pa.nulls(len(table), pa.large_string()))
    table = table.cast(meds.DataSchema.schema())
    (out / "data" / "train").mkdir(parents=True, exist_ok=True)
    (out / "metadata").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "data" / "train" / "0.parquet")
    titles = find_file(folder, "D_ICD_DIAGNOSES.csv", "D_ICD_DIAGNOSES.csv.gz")
    rows = {"code": ["HOSPITAL_ADMISSION"], "description": ["Hospital admission"], "parent_codes": [None]}
    if titles is not None:
        t = read_table(titles, dtype=str).df.rename(columns=str.upper).dropna(subset=["ICD9_CODE", "LONG_TITLE"])
        rows["code"] += ("ICD9CM/" + t["ICD9_CODE"].str.strip()).tolist()
        rows["description"] += t["LONG_TITLE"].tolist()
        rows["parent_codes"] += [None] * len(t)
    pq.write_table(pa.Table.from_pydict(rows, schema=meds.CodeMetadataSchema.schema()), out / CODES_FILE)
    (out / "metadata" / "dataset.json").write_text(json.dumps(
        {"dataset_name": "MIMIC-III demo (diagnoses)", "etl_name": "corgan_core.data.meds.mimic3_to_meds",
         "meds_version": getattr(meds, "__version__", "")}))
    return out
