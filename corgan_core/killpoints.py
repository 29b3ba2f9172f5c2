"""TEST-ONLY crash points: the crash-safety tests (tests/test_crash_safety.py) set
``CORGAN_TEST_KILL_AT=<point>[:<n>]`` so that a run process SIGKILLs itself the n-th time (default 1)
it reaches ``<point>``, a moment an outside kill would seldom hit. Points: ``checkpoint-write`` (the
checkpoint is written to its temp file but not yet renamed over the old one) and ``quality`` (the
quality rows of a checkpoint are inserted but not committed). Unset, :func:`reached` does nothing;
this module is the one place the variable is read.
"""
from __future__ import annotations

import os
import signal

ENV = "CORGAN_TEST_KILL_AT"
POINTS = ("checkpoint-write", "quality")
_seen: dict[str, int] = {}


def reached(point: str) -> None:
    """Kill this process with SIGKILL if ``CORGAN_TEST_KILL_AT`` names ``point`` and its count is up."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
