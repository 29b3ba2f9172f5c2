"""The run folder: one folder per training run, written atomically, readable while it trains.

A run folder holds ``config.json`` (model, its config, data source and options, data SHA-256,
seed, split, package versions), ``split.json``, ``status.json``, ``metrics.sqlite`` (WAL mode, so
the dashboard reads it while the run writes it), ``checkpoint.pt`` (after every epoch), ``model.pt``
(when finished) and ``run.log`` (the process's own output).

Its status and process control (the only writer of ``status.json``, compare-and-set under a
file lock) live in :mod:`corgan_core.runs.lifecycle`.
"""
from __future__ import annotations

import json
import platform
import shutil
import sqlite3
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from ..data import DataOptions, Dataset, Split, is_database_url, load, split
from ..errors import RunError
from . import metrics_db
from ..verdict import size_warning
from .lifecycle import ACTIVE, STATUSES, RunLifecycle, write_json_atomic  # noqa: F401  (re-exported)
from .settings import TrainSettings, runs_dir


def _versions() -> dict:
    import numpy, torch  # noqa: E401

    from .. import __version__
    return {"corgan_studio": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__}


class Run(RunLifecycle):
    """A handle on one run folder."""

    def __init__(self, path: str | Path):
        self.dir = Path(path)
        self._data: Dataset | None = None  # set by create(): the data it loaded and hashed

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
        """Validate the data, the settings and the model's config; write the run folder (``queued``).

        Everything that can be refused is refused here, before a folder exists.
        """
        from ..models import make_model
        from ..models.base import resolve_device

        if not 0.0 <= float(settings.holdout) < 1.0:
            raise RunError(f"holdout must be at least 0 and below 1; got {settings.holdout}.")
        if not isinstance(settings.seed, int) or settings.seed < 0:
            raise RunError(f"seed must be a whole number of at least 0; got {settings.seed!r}.")
        for name in ("time_budget_s", "checkpoint_interval_s"):
            if getattr(settings, name) < 0:
                raise RunError(f"{name} must be at least 0; got {getattr(settings, name)}.")
        mdl = make_model(model, model_config, preset)
        mdl.validate()
        resolve_device(settings.device)
        ds = dataset if dataset is not None else load(data_path, data_options)
        sp = split(ds, settings.holdout, settings.seed)
        if str(data_path).strip().lower() != "demo" and not is_database_url(data_path):
            data_path = str(Path(data_path).resolve())  # the run must find its data from any folder
        if run_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            run_dir = runs_dir() / f"{stamp}-{model}-{uuid.uuid4().hex[:6]}"
        path = Path(run_dir)
        if (path / "config.json").exists():
            raise RunError(f"{path} already holds a run; choose another --run-dir or resume it.")
        existed = path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)  # patient-derived: the owner only (files inside are then private too)
            run = cls(path)
            write_json_atomic(path / "split.json", sp.to_dict())
            run._write_status({"status": "queued", "updated": time.time()})
            write_json_atomic(path / "config.json", {
                "run_id": run.id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "model": model, "preset": preset, "model_config": asdict(mdl.config),
                "phases": [asdict(ph) for ph in mdl.phases()],  # so readers need not build the model
                "data": {"path": str(data_path), "options": asdict(data_options), "sha256": ds.sha256(),
                         "label": ds.label_name if ds.labels is not None else None,
                         "patients": ds.n_patients, "codes": ds.n_codes, "kind": ds.kind,
                         "source": ds.source, "warnings": list(ds.warnings)},
                "size_warning": size_warning(len(sp.train), len(sp.holdout)),
                "settings": asdict(settings), "split": {"seed": sp.seed, "holdout": sp.holdout_fraction,
                                                       "train": len(sp.train), "holdout_rows": len(sp.holdout)},
                "versions": _versions(),
            })
            run.metrics_db().close()
            run._data = ds  # already loaded and hashed: execute() in this process need not load it again
        except (OSError, sqlite3.Error) as exc:  # a read-only runs folder, a full disk: no partial run left
            if not existed:
                shutil.rmtree(path, ignore_errors=True)
            why = getattr(exc, "strerror", None) or str(exc)
            raise RunError(f"Cannot write the run folder {path} ({why}); check that the runs folder is "
                           f"writable and the disk has room.") from None
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

    def members(self) -> "np.ndarray":
        """Rows (of the run's data) the model trained on: the membership attack's members. Rows held
        back to stop pretraining early are neither members nor held out."""
        import numpy as np

        path = self.dir / "members.json"
        if path.exists():
            return np.asarray(json.loads(path.read_text())["rows"], dtype=np.int64)
        return self.split().train

    def record_members(self, rows) -> None:
        write_json_atomic(self.dir / "members.json", {"rows": [int(i) for i in rows]})

    def warnings(self) -> list[str]:
        """What the steward should know before trusting this run's figures: the data's own warnings
        (e.g. blank codes dropped) and, for small data, that verdicts will be wide."""
        cfg = self.config()
        return [*cfg.get("data", {}).get("warnings", []), *([cfg["size_warning"]] if cfg.get("size_warning") else [])]

    def train_size(self) -> int:
        """How many patients the run trains on (the default size of a synthetic sample)."""
        cfg = self.config()
        return int(cfg.get("split", {}).get("train") or cfg["data"]["patients"])

    def dataset(self) -> Dataset:
        """The run's data as the model sees it (label folded in as the last column where the run
        learns it), after checking it is the same data the run was made from."""
        cfg = self.config()["data"]
        ds = getattr(self, "_data", None)
        if ds is None:
            ds = load(cfg["path"], DataOptions(**cfg["options"]))
            if ds.sha256() != cfg["sha256"]:
                raise RunError(f"The data at {cfg['path']} has changed since run {self.id} was made (SHA-256 differs).")
        return ds.with_label_column() if self.settings().label_in_model else ds

    def label_name(self, ds: Dataset | None = None) -> str | None:
        """The label column the model learns (the last code), or None."""
        ds = ds if ds is not None else self.dataset()
        return ds.label_name if ds.label_name and ds.codes[-1] == ds.label_name else None

    def _learned_label(self, model, ds: Dataset | None) -> str | None:
        """:meth:`label_name`, read from the model's meta when it has it (the run process records it
        there), so that sampling an unlabelled run never loads and hashes the data again."""
        meta = getattr(model, "meta_", None) or {}
        if ds is None and "label" in meta:
            codes = meta.get("codes") or []
            return meta["label"] if meta["label"] and codes and codes[-1] == meta["label"] else None
        return self.label_name(ds)

    def holdout_rows(self, ds: Dataset) -> Dataset:
        """The held-out patients; evaluation cannot go on without them."""
        sp = self.split()
        if len(sp.holdout) == 0:
            raise RunError(f"Run {self.id} has no held-out patients, and evaluation needs them; train with a holdout above 0.")
        return ds.take(sp.holdout)

    def sample(self, n: int, seed: int = 0, ds: Dataset | None = None, model=None):
        """``n`` synthetic rows from the run's model; a learned label is snapped to the real labels' values."""
        import numpy as np

        model = model if model is not None else self.load_model()
        X = model.sample(n, seed=seed)
        label = self._learned_label(model, ds)
        if label is not None:
            ds = ds if ds is not None else self.dataset()
            values = np.unique(np.asarray(ds.labels, dtype=np.float32))
            col = X[:, -1]
            X[:, -1] = values[np.abs(col[:, None] - values[None, :]).argmin(1)]
        return X

    def has_model(self) -> bool:
        return self.model_path().exists() or self.checkpoint_path().exists()

    def model_file(self) -> Path:
        """The file samples come from: the final model, else the last checkpoint."""
        return self.model_path() if self.model_path().exists() else self.checkpoint_path()

    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoint.pt"

    def model_path(self) -> Path:
        return self.dir / "model.pt"

    def load_model(self):
        """The trained model (final model, or the last checkpoint of an unfinished run)."""
        import torch

        from ..models import from_checkpoint

        path = self.model_file()
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

    # ---- metrics -------------------------------------------------------------------------------
    def metrics_db(self):
        return metrics_db.connect(self.dir)

    def metrics(self, table: str = "epochs"):
        """Long-format DataFrame of the epoch losses (``epochs``) or checkpoint quality (``quality``)."""
        return metrics_db.read(self.dir, table)

def list_runs(root: str | Path | None = None) -> list[Run]:
    """Every run folder directly under ``root`` (default :func:`runs_dir`), newest first."""
    root = Path(root) if root is not None else runs_dir()
    if not root.exists():
        return []
    found = [Run(p) for p in root.iterdir() if (p / "config.json").exists()]
    return sorted(found, key=lambda r: (r.dir / "config.json").stat().st_mtime, reverse=True)


def find_run(ref: str | Path, root: str | Path | None = None) -> Run:
    """A run by its folder path or by its id under ``root`` (default :func:`runs_dir`).

    An id is one folder name: ``..``, separators and absolute paths are not ids.
    """
    p = Path(ref)
    if (p / "config.json").exists():
        return Run(p)
    root = Path(root) if root is not None else runs_dir()
    name = str(ref)
    if name in ("", ".", "..") or "/" in name or "\\" in name or p.is_absolute():
        raise RunError(f"There is no run folder at {ref}.")
    if not (root / name / "config.json").exists():
        raise RunError(f"There is no run {name!r} in {root}.")
    return Run(root / name)
