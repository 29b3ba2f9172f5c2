"""Import the heavy libraries (torch, scikit-learn) in the background once the first page is shown.

The Start and Data pages need neither, so they render without waiting for them; by the time a
steward opens Train or Fidelity the imports are done. Imports only: no ``st.*`` call runs here
(Streamlit ignores those from other threads).
"""
from __future__ import annotations

import importlib
import threading

HEAVY = ("corgan_core.models", "corgan_core.runs.execute", "corgan_core.metrics", "corgan_core.report",
         "corgan_core.cohort")
_started = threading.Event()


def _load() -> None:
    for name in HEAVY:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a page that needs it reports the problem itself
            pass


def start() -> None:
    """Begin the background imports (once per server process)."""
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_load, name="corgan-warmup", daemon=True).start()
