"""Atomic file writes: a reader (the dashboard, a resumed run) never sees half a file."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temp path beside ``path``; on success fsync it and rename it over ``path``.

    The temp name is unique per process and call, keeps the suffix (numpy and pandas look at it),
    and is removed if writing fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_torch_save(obj, path: str | Path) -> Path:
    """torch.save to a temp file in the same folder, fsync, then rename over ``path``."""
    import torch  # only model checkpoints need it; data and run code import this module too

    from .errors import RunError
    from .killpoints import reached

    try:
        with atomic_path(path) as tmp:
            torch.save(obj, tmp)
            reached("checkpoint-write")  # test-only crash point: written, not yet renamed
    except (OSError, RuntimeError) as exc:  # torch reports a full disk as a RuntimeError
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "the write did not complete"
        raise RunError(f"Cannot write {Path(path).name} in {Path(path).parent} ({why}); the disk may be full "
                       f"or the folder not writable.") from None
    return Path(path)
