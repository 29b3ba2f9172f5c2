"""A corpus of hostile input files, built by code in a temporary folder (nothing big is committed).

``CASES`` maps a case name to ``(build, options, words)``: ``build(folder) -> path`` writes the file,
``options`` are passed to ``load``, and ``words`` must appear in the one-sentence refusal.
"""
from __future__ import annotations

import gzip
import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

GOOD_LONG = "patient,code\n" + "".join(f"{p},{c}\n" for p in range(40) for c in ("401", "250", "V57"))


def _write(name: str, data: bytes | str):
    def build(folder: Path) -> Path:
        p = folder / name
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        return p
    return build


def _npy(arr, allow_pickle=False) -> bytes:
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=allow_pickle)
    return b.getvalue()


def _zip(members: dict[str, bytes | str]) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return b.getvalue()


def _parquet() -> bytes:
    b = io.BytesIO()
    pd.DataFrame({"a": np.arange(200) % 2, "b": np.arange(200) % 3 == 0}).to_parquet(b)
    return b.getvalue()


def _forged_zip_bomb() -> bytes:
    """A zip whose one member declares 40 GB unpacked (the central directory's size field is
    rewritten): zipfile would inflate up to the declared size, so the declaration is what counts."""
    data = bytearray(_zip({"conditions.csv": GOOD_LONG}))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xFFFFFFFF - 1)  # uncompressed size: ~4 GB
    lh = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, lh + 22, 0xFFFFFFFF - 1)
    return bytes(data)


def _gzip_bomb(folder: Path) -> Path:
    """A real gzip bomb: 300 MB of one repeated row in about 0.3 MB."""
    p = folder / "bomb.csv.gz"
    row = b"1,401\n" * 100_000
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(p, "wb") as fh:
        fh.write(z.compress(b"patient,code\n"))
        for _ in range(500):
            fh.write(z.compress(row))
        fh.write(z.flush())
    return p


def _wide(folder: Path) -> Path:
    p = folder / "million_columns.csv"
    with open(p, "w") as fh:
        fh.write(",".join(f"c{i}" for i in range(1_000_000)) + "\n")
        fh.write(",".join("1" for _ in range(1_000_000)) + "\n")
    return p


def _folder_of_nothing(folder: Path) -> Path:
    p = folder / "empty_folder"
    p.mkdir()
    (p / "notes.txt").write_text("nothing here")
    return p


_GZ = gzip.compress(GOOD_LONG.encode())
_ZIP = _zip({"long.csv": GOOD_LONG})
_PQ = _parquet()
_PICKLE = pickle.dumps({"X": [[1, 0], [0, 1]]})

CASES = {
    "truncated gzip": (_write("t.csv.gz", _GZ[: len(_GZ) // 2]), {}, ("truncated or corrupt",)),
    "truncated zip": (_write("t.zip", _ZIP[: len(_ZIP) // 2]), {}, ("truncated or corrupt",)),
    "truncated parquet": (_write("t.parquet", _PQ[: len(_PQ) // 2]), {}, ("truncated or corrupt",)),
    "zip bomb (declared size)": (_write("bomb.zip", _forged_zip_bomb()), {}, ("zip bomb",)),
    "gzip bomb": (_gzip_bomb, {}, ("bomb",)),
    "CSV with 10^6 columns": (_wide, {}, ("100,000 columns",)),
    "binary junk named .csv": (_write("junk.csv", np.random.default_rng(0).bytes(4096)), {}, ("NUL bytes",)),
    "UTF-16 text": (_write("utf16.csv", GOOD_LONG.encode("utf-16")), {}, ("UTF-16",)),
    "Latin-1 text": (_write("latin1.csv", "patient,code\n1,40é\n2,250\n".encode("latin-1")), {}, ("not UTF-8", "line 2")),
    "NaN in a table": (_write("nan.csv", "a,b\n1,nan\n0,1\n"), {}, ("NaN", "row 1", "'b'")),
    "inf in a matrix": (_write("inf.npy", _npy(np.array([[1.0, np.inf], [0.0, 1.0]]))), {}, ("infinite",)),
    "negative count in a long table": (_write("neg.csv", "patient,code,count\n1,401,2\n2,250,-3\n"), {},
                                       ("negative", "row 2")),
    "negative count in a matrix": (_write("neg.npy", _npy(np.array([[1, -1], [0, 1]]))), {"kind": "count"},
                                   ("negative",)),
    "mixed types in a column": (_write("mixed.csv", "a,b\n1,2\n0,x\n"), {}, ("non-numeric", "row 2", "'b'")),
    "duplicate ids": (_write("dup.csv", "id,a,b\np1,1,0\np2,0,1\np1,1,1\n"), {"id_col": "id"}, ("more than once",)),
    "empty file": (_write("empty.csv", b""), {}, ("empty",)),
    "empty .npy": (_write("empty.npy", b""), {}, ("not a NumPy",)),
    "header only": (_write("header.csv", "patient,code\n"), {}, ("empty matrix",)),
    "pickle disguised as .npy": (_write("p.npy", _PICKLE), {}, ("pickled",)),
    "object array .npy": (_write("o.npy", _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True)), {},
                          ("pickled",)),
    "medGAN .matrix pickle": (_write("x.matrix", _PICKLE), {}, ("never unpickles",)),
    "zip with no table": (_write("nothing.zip", _zip({"readme.md": "hello"})), {}, ("no CSV",)),
    "ragged CSV": (_write("ragged.csv", "patient,code\n1,401\n2,250,x,y\n"), {}, ("line 3",)),
    "unknown file type": (_write("data.xlsx", b"PK\x03\x04 not really"), {}, ("file type",)),
    "folder of nothing": (_folder_of_nothing, {}, ("none of the expected tables",)),
    "renamed code column": (_write("cond.csv", "START,PATIENT,SNOMED\n2020-01-01,a,1\n2020-02-01,b,2\n"),
                            {"source": "long"}, ("no column named like a code",)),
    "unknown ICD version option": (_write("long.csv", GOOD_LONG), {"icd_version": "11"}, ("'11'",)),
    "unknown grouping option": (_write("long.csv", GOOD_LONG), {"grouping": "5digit"}, ("'5digit'",)),
    "min_count not a number": (_write("long.csv", GOOD_LONG), {"min_count": "many"}, ("whole number",)),
    "continuous diagnosis codes": (_write("long.csv", GOOD_LONG), {"kind": "continuous"}, ("continuous",)),
}
"""Hostile data files: name -> (build(folder) -> path, load options, words the refusal holds)."""

BAD_RUN_IDS = ["..", "../..", "/etc", "/etc/passwd", "../runs", "a/../../b", ".", "", "x\\..\\y"]
"""Run ids that are paths: find_run must refuse every one."""

BAD_TRAIN_OPTIONS = {
    "batch 0": (["--batch-size", "0"], "batch_size"),
    "epochs -1": (["--epochs", "-1"], "epochs"),
    "holdout 1.5": (["--holdout", "1.5"], "holdout"),
    "negative time budget": (["--time-budget-s", "-5"], "time_budget_s"),
    "negative seed": (["--seed", "-1"], "seed"),
    "unknown device": (["--device", "tpu"], "device"),
    "unknown model": (["--model", "nope"], "model"),
}
"""`corgan train` options out of range: name -> (arguments, word the one-line error holds)."""
