"""Training runs: one folder each, trained by a separate process, read by the CLI and the dashboard.

- :mod:`.settings`: :class:`TrainSettings` and the quick-demo overrides (no torch import).
- :mod:`.store`: :class:`Run`, the run folder and the ONLY writer of its status (compare-and-set).
- :mod:`.metrics_db`: losses per epoch and quality per checkpoint (SQLite, WAL).
- :mod:`.process`: start the run process, tell whether it lives, stop it.
- :mod:`.execute`: the run process itself (``python -m corgan_core.runs.execute DIR``).
- :mod:`.quality`: sample quality at each checkpoint, and the names of those measures.
- :mod:`.views`: progress, ETA and table rows for people.
- :mod:`.products`: synthetic samples and evaluation reports, computed once and kept in the run.
"""
from .settings import QUICK_TIME_BUDGET_S, TrainSettings, available_devices, quick_overrides, runs_dir
from .store import ACTIVE, STATUSES, Run, find_run, list_runs

__all__ = ["Run", "TrainSettings", "list_runs", "find_run", "runs_dir", "STATUSES", "ACTIVE",
           "QUICK_TIME_BUDGET_S", "quick_overrides", "available_devices"]
