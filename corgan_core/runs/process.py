"""The run's operating-system process: start it detached, tell whether it lives, ask it to stop.

Knows pids and signals only; what a run's status is lives in :mod:`corgan_core.runs.lifecycle`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def spawn(run_dir: Path) -> int:
    """Start ``python -m corgan_core.runs.execute RUN_DIR`` in its own session (it outlives the caller)."""
    with open(run_dir / "run.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "corgan_core.runs.execute", str(run_dir.resolve())],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=os.getcwd(),
        )
    return proc.pid


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a reused pid from the run's own process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


def alive(pid: int, started: str | None = None) -> bool:
    """Is ``pid`` a live (non-zombie) process, and the same one that was recorded?"""
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return True  # no /proc (macOS): the signal check above is all there is
    return fields[0] != "Z" and (started is None or fields[19] == started)


def terminate(pid: int) -> None:
    """SIGTERM the run's process (its whole group when it leads one, as a background run does)."""
    if pid <= 0:
        return
    try:  # a foreground run (corgan train) shares the terminal's group, so only it is signalled
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGTERM)
        else:
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
