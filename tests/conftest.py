"""Shared test fixtures: where the real data lives, and skipping cleanly when it is absent."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


def require_data(name: str) -> Path:
    """The folder ``SHARED_DATA/name``; skips the test with a clear reason when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data folder {path} is absent (see ../shared/data/README.md)")
    return path


def assert_one_sentence(message: str) -> None:
    """A user-facing error: one line, one sentence, ending with a period."""
    assert "\n" not in message, message
    assert message.endswith("."), message
    assert not re.search(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"
