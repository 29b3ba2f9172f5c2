"""A run's status and process control: the compare-and-set writes of ``status.json`` and
start / stop / wait / delete, mixed into :class:`corgan_core.runs.store.Run`.

The mixin is the ONLY writer of ``status.json``. Every write is a compare-and-set under a file
lock, so two processes (the caller that starts a run and the run itself) can never undo each
other: within one attempt the status only moves forward (queued -> running -> a final state), the
first final state wins, and only :meth:`RunLifecycle.requeue` (a start or resume) begins a new
attempt.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from ..atomic import write_text_atomic
from ..errors import RunError
from . import process

STATUSES = ("queued", "running", "finished", "failed", "stopped", "died")
ACTIVE = ("queued", "running")
FINAL = ("finished", "failed", "stopped")
_RANK = {"queued": 0, "running": 1, "finished": 2, "failed": 2, "stopped": 2}


def write_json_atomic(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str))


class RunLifecycle:
    """Status and process control of a run folder ``self.dir`` (named ``self.id``)."""

    dir: Path
    id: str

    # ---- status: the one writer ----------------------------------------------------------------
    def status(self) -> dict:
        """Status dict; a ``running``/``queued`` run whose process is gone reads as ``died``."""
        st = self._read_status()
        if st is None:
            return {"status": "died", "error": "The run's status file is missing."}
        if st.get("status") in ACTIVE and st.get("pid") and not process.alive(st["pid"], st.get("pid_start")):
            st["status"] = "died"
        return st

    def set_status(self, status: str, **extra) -> bool:
        """Move to ``status`` (merging ``extra``) unless that would go back; True when written.

        Within an attempt a status never returns to an earlier one and a final status is never
        replaced, so a fast-failing child's ``failed`` survives its parent's late ``queued``.
        """
        if status not in _RANK:
            raise RunError(f"Unknown run status {status!r}.")
        with self._status_lock():
            prev = self._read_status() or {}
            cur = prev.get("status")
            if cur in FINAL or (cur in _RANK and _RANK[status] < _RANK[cur]):
                return False
            prev.update(extra, status=status, updated=time.time())
            self._write_status(prev)
            return True

    def update_status(self, *, expect: tuple[str, ...] = ACTIVE, **extra) -> bool:
        """Merge ``extra`` into the status only while it is one of ``expect``; True when written."""
        with self._status_lock():
            prev = self._read_status() or {}
            if prev.get("status") not in expect:
                return False
            prev.update(extra, updated=time.time())
            self._write_status(prev)
            return True

    def requeue(self) -> None:
        """Begin a new attempt (a start or resume): allowed only from a stopped, failed or died run."""
        with self._status_lock():
            prev = self._read_status() or {}
            cur = prev.get("status")
            if cur in ACTIVE and prev.get("pid") and process.alive(prev["pid"], prev.get("pid_start")):
                raise RunError(f"Run {self.id} is already {cur}.")
            if cur == "finished":
                raise RunError(f"Run {self.id} has already finished.")
            prev.update(status="queued", error=None, pid=None, pid_start=None, updated=time.time())
            self._write_status(prev)

    def _read_status(self) -> dict | None:
        try:
            return json.loads((self.dir / "status.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _write_status(self, st: dict) -> None:
        write_json_atomic(self.dir / "status.json", st)

    @contextmanager
    def _status_lock(self):
        with open(self.dir / "status.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    # ---- process control -----------------------------------------------------------------------
    def start(self) -> int:
        """Start (or resume) the run in its own process; returns the pid."""
        self.requeue()
        pid = process.spawn(self.dir)
        # the child may already have moved on (or failed): then its status stands and this is a no-op
        self.update_status(expect=("queued",), pid=pid, pid_start=process.start_time(pid))
        return pid

    resume = start

    def stop(self) -> None:
        """Stop a running run; it keeps its last checkpoint and can be resumed."""
        st = self.status()
        if st["status"] not in ACTIVE:
            raise RunError(f"Run {self.id} is not running (status: {st['status']}).")
        self.set_status("stopped")
        process.terminate(int(st.get("pid") or 0))

    def wait(self, timeout: float = 600, poll: float = 0.5) -> dict:
        """Block until the run leaves queued/running (tests and the CLI use this)."""
        end = time.time() + timeout
        while time.time() < end:
            st = self.status()
            if st["status"] not in ACTIVE:
                return st
            time.sleep(poll)
        raise RunError(f"Run {self.id} did not finish within {timeout:.0f} s.")

    def delete(self) -> None:
        if self.status()["status"] in ACTIVE:
            self.stop()
        shutil.rmtree(self.dir)
