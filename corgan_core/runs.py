"""The run store: one folder per training run, written atomically, readable while it trains.

A run folder holds ``config.json`` (model, its config, data source and options, data SHA-256,
seed, split, package versions), ``split.json``, ``status.json``, ``metrics.sqlite`` (WAL mode, so
the dashboard reads it while the run writes it), ``checkpoint.pt`` (after every epoch), ``model.pt``
(when finished) and ``run.log`` (the process's own output). Runs start as separate processes
(``python -m corgan_core.runner DIR``) that outlive the caller.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import write_text_atomic
from .data import DataOptions, Dataset, Split, load, split
from .errors import RunError
from .models import from_checkpoint, make_model
from .models.base import resolve_device

STATUSES = ("queued", "running", "finished", "failed", "stopped", "died")


def runs_dir() -> Path:
    """Where runs live: ``$CORGAN_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("CORGAN_RUNS_DIR", "runs"))


def write_json_atomic(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str))


def _versions() -> dict:
    import numpy, torch  # noqa: E401

    from . import __version__
    return {"corgan_studio": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__}


@dataclass(frozen=True)
class TrainSettings:
    """Run-level settings shared by every model (the model's own options live in its Config)."""

    seed: int = 0
    device: str = "auto"
    holdout: float = 0.2
    time_budget_s: float = 0.0  # 0 = no wall-time limit
    label_in_model: bool = True  # a labelled table's label is learned as its last column (for TSTR)


class Run:
    """A handle on one run folder."""

    def __init__(self, path: str | Path):
        self.dir = Path(path)

    @property
    def id(self) -> str:
        return self.dir.name

    @classmethod
    def open(cls, path: str | Path) -> "Run":
        run = cls(path)
        if not (run.dir / "config.json").exists():
            raise RunError(f"{path} is not a run folder (no config.json there).")
        return run

    @classmethod
    def create(cls, data_path: str, *, model: str = "corgan", preset: str = "default",
               model_config: dict | None = None, data_options: DataOptions = DataOptions(),
               settings: TrainSettings = TrainSettings(), run_dir: str | Path | None = None,
               dataset: Dataset | None = None) -> "Run":
        """Validate the data and the config, write the run folder with status ``queued``."""
        ds = dataset if dataset is not None else load(data_path, data_options)
        mdl = make_model(model, model_config, preset)  # validates names and values now, not later
        if hasattr(mdl, "_check_config"):
            mdl._check_config()
        sp = split(ds, settings.holdout, settings.seed)
        resolve_device(settings.device)  # an unusable device is refused before the run folder exists
        if str(data_path).strip().lower() != "demo":
            data_path = str(Path(data_path).resolve())  # the run must find its data from any folder
        if run_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            run_dir = runs_dir() / f"{stamp}-{model}-{uuid.uuid4().hex[:6]}"
        path = Path(run_dir)
        if (path / "config.json").exists():
            raise RunError(f"{path} already holds a run; choose another --run-dir or resume it.")
        path.mkdir(parents=True, exist_ok=True)
        run = cls(path)
        write_json_atomic(path / "split.json", sp.to_dict())
        write_json_atomic(path / "config.json", {
            "run_id": run.id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": model, "preset": preset, "model_config": asdict(mdl.config),
            "data": {"path": str(data_path), "options": asdict(data_options), "sha256": ds.sha256(),
                     "label": ds.label_name if ds.labels is not None else None,
                     "patients": ds.n_patients, "codes": ds.n_codes, "kind": ds.kind,
                     "source": ds.source},
            "settings": asdict(settings), "split": {"seed": sp.seed, "holdout": sp.holdout_fraction,
                                                   "train": len(sp.train), "holdout_rows": len(sp.holdout)},
            "versions": _versions(),
        })
        run.set_status("queued")
        run.metrics_db().close()
        return run

    # ---- reading -------------------------------------------------------------------------------
    def config(self) -> dict:
        try:
            return json.loads((self.dir / "config.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise RunError(f"The run folder {self.dir} has an unreadable config.json ({exc}).") from None

    def settings(self) -> TrainSettings:
        return TrainSettings(**self.config()["settings"])

    def split(self) -> Split:
        return Split.from_dict(json.loads((self.dir / "split.json").read_text()))

    def dataset(self) -> Dataset:
        """The run's data as the model sees it (label folded in as the last column where the run
        learns it), after checking it is the same data the run was made from."""
        cfg = self.config()["data"]
        ds = load(cfg["path"], DataOptions(**cfg["options"]))
        if ds.sha256() != cfg["sha256"]:
            raise RunError(f"The data at {cfg['path']} has changed since run {self.id} was made (SHA-256 differs).")
        return ds.with_label_column() if self.settings().label_in_model else ds

    def label_name(self, ds: Dataset | None = None) -> str | None:
        """The label column the model learns (the last code), or None."""
        ds = ds if ds is not None else self.dataset()
        return ds.label_name if ds.label_name and ds.codes[-1] == ds.label_name else None

    def holdout_rows(self, ds: Dataset) -> Dataset:
        """The held-out patients; evaluation cannot go on without them."""
        sp = self.split()
        if len(sp.holdout) == 0:
            raise RunError(f"Run {self.id} has no held-out patients, and evaluation needs them; train with a holdout above 0.")
        return ds.take(sp.holdout)

    def sample(self, n: int, seed: int = 0, ds: Dataset | None = None):
        """``n`` synthetic rows from the run's model; a learned label is snapped to the real labels' values."""
        import numpy as np

        X = self.load_model().sample(n, seed=seed)
        label = self.label_name(ds)
        if label is not None:
            ds = ds if ds is not None else self.dataset()
            values = np.unique(np.asarray(ds.labels, dtype=np.float32))
            col = X[:, -1]
            X[:, -1] = values[np.abs(col[:, None] - values[None, :]).argmin(1)]
        return X

    def status(self) -> dict:
        """Status dict; a ``running``/``queued`` run whose process is gone reads as ``died``."""
        try:
            st = json.loads((self.dir / "status.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"status": "died", "error": "The run's status file is missing."}
        if st.get("status") in ("running", "queued") and st.get("pid") and not _alive(st["pid"], st.get("pid_start")):
            st["status"] = "died"
        return st

    def set_status(self, status: str, **extra) -> None:
        prev = {}
        if (self.dir / "status.json").exists():
            try:
                prev = json.loads((self.dir / "status.json").read_text())
            except json.JSONDecodeError:
                prev = {}
        prev.update(extra, status=status, updated=time.time())
        write_json_atomic(self.dir / "status.json", prev)

    def metrics_db(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.dir / "metrics.sqlite", timeout=10)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent after a crash of the process
        con.execute("CREATE TABLE IF NOT EXISTS epochs (t REAL, phase TEXT, epoch INT, epochs INT, "
                    "seconds REAL, name TEXT, value REAL)")
        con.execute("CREATE TABLE IF NOT EXISTS quality (t REAL, phase TEXT, epoch INT, name TEXT, value REAL)")
        return con

    def metrics(self, table: str = "epochs"):
        """Long-format DataFrame of the epoch losses (``epochs``) or checkpoint quality (``quality``)."""
        import pandas as pd

        if table not in ("epochs", "quality"):
            raise RunError(f"Unknown metrics table {table!r}.")
        if not (self.dir / "metrics.sqlite").exists():
            return pd.DataFrame()
        uri = "file:" + urllib.parse.quote(str((self.dir / "metrics.sqlite").resolve())) + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as con:
            return pd.read_sql_query(f"SELECT * FROM {table}", con)

    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.pt"

    def model_path(self) -> Path:
        return self.dir / "model.pt"

    def load_model(self):
        """The trained model (final model, or the last checkpoint of an unfinished run)."""
        import torch

        path = self.model_path() if self.model_path().exists() else self.checkpoint_path()
        if not path.exists():
            raise RunError(f"Run {self.id} has no trained model yet (no checkpoint written).")
        return from_checkpoint(torch.load(path, map_location="cpu", weights_only=True))

    def epsilon(self) -> float | None:
        df = self.metrics()
        if df.empty or "epsilon" not in set(df["name"]):
            return None
        return float(df[df["name"] == "epsilon"]["value"].iloc[-1])

    def log_tail(self, lines: int = 20) -> str:
        p = self.dir / "run.log"
        return "\n".join(p.read_text(errors="replace").splitlines()[-lines:]) if p.exists() else ""

    # ---- process control -----------------------------------------------------------------------
    def start(self) -> int:
        """Start the run in its own process (own session: it survives the caller); returns the pid."""
        status = self.status()
        st = status["status"]
        if st == "running" or (st == "queued" and status.get("pid")):  # a live process has it
            raise RunError(f"Run {self.id} is already {st}.")
        if st == "finished":
            raise RunError(f"Run {self.id} has already finished.")
        self.set_status("queued", error=None)
        log = open(self.dir / "run.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "corgan_core.runner", str(self.dir.resolve())],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=os.getcwd(),
        )
        log.close()
        self.set_status("queued", pid=proc.pid, pid_start=process_start_time(proc.pid))
        return proc.pid

    resume = start

    def stop(self) -> None:
        """Stop a running run; it keeps its last checkpoint and can be resumed."""
        st = self.status()
        if st["status"] not in ("running", "queued"):
            raise RunError(f"Run {self.id} is not running (status: {st['status']}).")
        self.set_status("stopped")
        pid = int(st.get("pid") or 0)
        if pid <= 0:
            return
        try:  # a background run leads its own process group; a foreground one (corgan train) does not
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGTERM)
            else:
                os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float = 600, poll: float = 0.5) -> dict:
        """Block until the run leaves queued/running (tests and the CLI use this)."""
        end = time.time() + timeout
        while time.time() < end:
            st = self.status()
            if st["status"] not in ("queued", "running"):
                return st
            time.sleep(poll)
        raise RunError(f"Run {self.id} did not finish within {timeout:.0f} s.")

    def delete(self) -> None:
        if self.status()["status"] in ("running", "queued"):
            self.stop()
        shutil.rmtree(self.dir)


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a reused pid from the run's own process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: str | None = None) -> bool:
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


def list_runs(root: str | Path | None = None) -> list[Run]:
    """Every run folder directly under ``root`` (default :func:`runs_dir`), newest first."""
    root = Path(root) if root is not None else runs_dir()
    if not root.exists():
        return []
    found = [Run(p) for p in root.iterdir() if (p / "config.json").exists()]
    return sorted(found, key=lambda r: (r.dir / "config.json").stat().st_mtime, reverse=True)
