"""Uploaded files kept where runs can find them again (runs remember their data by path).

An upload is saved under ``<runs>/_uploads/<sha>/``; a ``.zip`` holding a MIMIC/eICU folder is
extracted and the folder returned, a zip holding one table is loaded as it is.
"""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from ..errors import DataError

UPLOAD_DIR = "_uploads"
MAX_UNZIPPED_BYTES = 8 * 1024**3
_DIAGNOSIS_TABLES = ("diagnoses_icd.csv", "diagnosis.csv")


def stage_upload(name: str, data: bytes, root: str | Path) -> str:
    """Save uploaded bytes under ``root/<sha>/`` and return the path to load."""
    name = Path(str(name)).name or "upload"
    if not data:
        raise DataError(f"The uploaded file {name} is empty.")
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(root) / digest
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(target)
    if not name.lower().endswith(".zip"):
        return str(target)
    return str(_unzip_if_folder(target))


def _unzip_if_folder(path: Path) -> Path:
    """Extract a zip of a MIMIC/eICU folder and return that folder; else return the zip itself."""
    from . import detect_source

    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise DataError(f"{path.name} unpacks to more than {MAX_UNZIPPED_BYTES // 1024**3} GB; "
                                f"put the folder on the server and give its path instead.")
            tables = [i for i in infos if Path(i.filename).name.lower().startswith(_DIAGNOSIS_TABLES)]
            if not tables:
                return path  # a zip of one table: the loaders read it directly
            out = path.with_name(path.stem + "_unzipped")
            if not out.exists():
                tmp = path.with_name(f".{path.stem}.extracting")
                shutil.rmtree(tmp, ignore_errors=True)
                zf.extractall(tmp)  # zipfile drops absolute and '..' parts of member names
                tmp.replace(out)
    except zipfile.BadZipFile:
        raise DataError(f"{path.name} is not a readable zip archive: it is truncated or corrupt.") from None
    # the folder holding the diagnosis table (MIMIC-IV keeps it under hosp/)
    for table in sorted(out.rglob("*")):
        low = table.name.lower()
        if low.startswith(_DIAGNOSIS_TABLES) and "__macosx" not in str(table).lower():
            folder = table.parent.parent if table.parent.name.lower() == "hosp" else table.parent
            try:
                detect_source(folder)
                return folder
            except DataError:
                continue
    return out
