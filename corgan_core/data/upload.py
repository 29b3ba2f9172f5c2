"""Uploaded files kept where runs can find them again (runs remember their data by path).

An upload is saved under ``<runs>/_uploads/<sha>/``; a ``.zip`` holding a MIMIC/eICU folder is
extracted and the folder returned, a zip holding one table is loaded as it is. Uploads are patient
data: folders are created 0700 and files 0600 (owner only), and an upload above
:data:`MAX_UPLOAD_BYTES` is refused from its size, before its bytes are read.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

from ..errors import DataError
from ._io import check_zip_member

UPLOAD_DIR = "_uploads"
MAX_UPLOAD_BYTES = 2048 * 1024**2
"""The largest upload accepted: .streamlit/config.toml's ``server.maxUploadSize`` (2048 MB) says the same,
so the browser refuses it before sending (a test checks the two agree)."""
MAX_UNZIPPED_BYTES = 8 * 1024**3
_DIAGNOSIS_TABLES = ("diagnoses_icd.csv", "diagnosis.csv")


def private_dir(path: str | Path) -> Path:
    """``path`` created (with its parents) and made owner-only (0700)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _size(data) -> int:
    return len(data) if isinstance(data, (bytes, bytearray, memoryview)) else int(getattr(data, "size"))


def stage_upload(name: str, data, root: str | Path, limit_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Save an upload under ``root/<sha>/`` and return the path to load.

    ``data`` is bytes, or a file object with ``size`` (Streamlit's UploadedFile): its size is checked
    against ``limit_bytes`` before anything is read.
    """
    name = Path(str(name)).name or "upload"
    size = _size(data)
    if size > limit_bytes:
        raise DataError(f"The uploaded file {name} is {size / 1024**2:,.0f} MB, above the {limit_bytes / 1024**2:,.0f} MB "
                        f"upload limit; put it on the server and give its path instead.")
    if not size:
        raise DataError(f"The uploaded file {name} is empty.")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        data = data.getvalue() if hasattr(data, "getvalue") else data.read()
    digest = hashlib.sha256(data).hexdigest()[:16]
    private_dir(root)
    folder = private_dir(Path(root) / digest)
    target = folder / name
    if not target.exists():
        tmp = folder / f".{name}.part"
        write_private(tmp, bytes(data))
        tmp.replace(target)
    if not name.lower().endswith(".zip"):
        return str(target)
    try:
        return str(_unzip_if_folder(target))
    except DataError:
        shutil.rmtree(folder, ignore_errors=True)  # a refused archive is not kept
        raise


def _unzip_if_folder(path: Path) -> Path:
    """Extract a zip of a MIMIC/eICU folder and return that folder; else return the zip itself."""
    from . import detect_source

    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            for i in infos:
                check_zip_member(i, path.name)
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
                zf.extractall(private_dir(tmp))  # zipfile drops absolute and '..' parts of member names
                for f in tmp.rglob("*"):
                    os.chmod(f, 0o700 if f.is_dir() else 0o600)
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


# ---- the steward's list of uploads ------------------------------------------------------------------
def list_uploads(root: str | Path) -> list[dict]:
    """Every kept upload under ``root``: name, path to load, size in bytes, time (newest first)."""
    root = Path(root)
    out = []
    for folder in root.iterdir() if root.is_dir() else []:
        files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")] if folder.is_dir() else []
        if not files:
            continue
        main = files[0]
        unzipped = main.with_name(main.stem + "_unzipped")
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        out.append({"name": main.name, "path": str(unzipped if unzipped.exists() else main), "folder": str(folder),
                    "bytes": size, "time": main.stat().st_mtime})
    return sorted(out, key=lambda u: u["time"], reverse=True)


def delete_upload(path: str | Path, root: str | Path) -> None:
    """Remove the upload that ``path`` (a file or folder staged by :func:`stage_upload`) belongs to."""
    root, p = Path(root).resolve(), Path(path).resolve()
    if root not in p.parents:
        raise DataError(f"{Path(path).name} is not an uploaded data set, so it is not deleted.")
    folder = root / p.relative_to(root).parts[0]
    shutil.rmtree(folder, ignore_errors=True)
