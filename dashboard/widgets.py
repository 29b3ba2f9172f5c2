"""Widgets the pages share: error boxes instead of tracebacks, run pickers, the live run monitor."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from corgan_core.errors import CorganError
from corgan_core.runs import ACTIVE, Run
from corgan_core.runs.views import phases, progress, run_row

from . import charts, state

log = logging.getLogger("corgan.dashboard")
PAGES = {"home": "../pages/home.py", "data": "../pages/data.py", "train": "../pages/train.py", "fidelity": "../pages/fidelity.py",
         "privacy": "../pages/privacy.py", "cohorts": "../pages/cohorts.py", "runs": "../pages/runs.py",
         "export": "../pages/export.py"}


@contextmanager
def guarded(what: str = "This step"):
    """Show a CorganError as its own sentence in an error box; anything else as one line, logged."""
    try:
        yield
    except CorganError as err:
        st.error(str(err))
    except Exception as err:  # noqa: BLE001 - the page must stay usable, never show a traceback
        log.exception("dashboard error")
        st.error(f"{what} failed unexpectedly ({type(err).__name__}: {err}); the server log has the details.")


def link(page: str, label: str, icon: str | None = None) -> None:
    """A link to another page (silently absent when the page runs outside the navigation)."""
    try:
        st.page_link(PAGES[page], label=label, icon=icon)
    except Exception:  # noqa: BLE001 - e.g. a page rendered on its own in a test
        pass


def describe(run: Run) -> str:
    r = run_row(run)
    return f"{r['run']} ({r.get('model')} on {r.get('data')})"


def pick_run(label: str = "Run", *, need_model: bool = False, key: str = "pick_run",
             empty: str | None = None) -> Run | None:
    """A select box of runs (newest first), starting at the watched run; None when there are none."""
    found = [r for r in state.runs() if not need_model or r.has_model()]
    if not found:
        if empty:
            st.info(empty)
            return None
        st.info("No run has a trained model yet: start one on the Train page (the quick demo takes under a minute)."
                if need_model else "There are no runs yet: start one on the Train page.")
        link("train", "Go to Train", ":material/model_training:")
        return None
    ids = [r.id for r in found]
    watched = state.watched_run()
    want = watched.id if watched is not None and watched.id in ids else ids[0]
    if st.session_state.get(key) != want:  # follow the run this session started or picked last
        st.session_state[key] = want
    rid = st.selectbox(label, ids, key=key, format_func=lambda i: describe(found[ids.index(i)]),
                       on_change=lambda: state.watch(st.session_state[key]))
    state.watch(rid)
    return found[ids.index(rid)]


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(round(s))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def monitor(run: Run) -> None:
    """Progress, loss curves and checkpoint quality of ``run``; refreshes every 2 s while it trains."""
    active = run.status()["status"] in ACTIVE
    st.fragment(_monitor_body, run_every=2 if active else None)(run, active)


def _monitor_body(run: Run, was_active: bool) -> None:
    try:
        status = run.status()
        df = run.metrics("epochs")
        q = run.metrics("quality")
        p = progress(run, status, df)
    except (OSError, CorganError) as err:  # the run was deleted in another tab
        st.warning(f"Run {run.id} cannot be read any more ({err}).")
        return
    if was_active and status["status"] not in ACTIVE:
        st.rerun()  # show the finished state and stop polling
    phase = p["phase_label"]
    # With caps that follow the time limit, the epoch count is the limit's estimate, not a plan.
    of = f"about {p['epochs']}" if p["epochs_follow_budget"] else f"{p['epochs']}"
    if p["ended_by_limit"] and p["epochs_follow_budget"]:
        finished = f"Finished: trained for its time limit ({_fmt_s(p['time_budget_s'])}), {p['epoch']} epochs of {phase.lower()}"
    elif p["time_limited"]:
        finished = (f"Stopped on its time limit ({_fmt_s(p['time_budget_s'])}) after epoch {p['epoch']} of "
                    f"{p['epochs']} of {phase.lower()}")
    else:
        finished = "Finished"
    text = {"queued": "Starting (loading the data and the model)...",
            "running": f"{phase}: epoch {p['epoch']} of {of}",
            "finished": finished, "stopped": "Stopped (resume continues from the last epoch)",
            "died": "The training process ended unexpectedly (resume continues from the last epoch)",
            "failed": "Failed"}.get(status["status"], status["status"])
    if status["status"] == "running" and p["evaluation"] is not None:
        st.progress(p["evaluation"], text=f"Training done; evaluating the synthetic patients (fidelity and "
                                          f"privacy, once for this run) - {p['evaluation']:.0%}")
    else:
        st.progress(p["fraction"], text=f"{text} - {p['fraction']:.0%}")
    if p["evaluation_error"]:
        st.info(f"No evaluation report was made when training ended: {p['evaluation_error']}")
    c = st.columns(4)
    c[0].metric("Status", status["status"])
    c[1].metric("Epoch", f"{p['epoch']} / {'~' if p['epochs_follow_budget'] else ''}{p['epochs']}" if p["epochs"] else "-",
                help=f"Phase: {phase}" + ("; the count after ~ is what the rest of the time limit is expected to fit"
                                          if p["epochs_follow_budget"] else ""))
    c[2].metric("Speed", f"{p['seconds_per_epoch']:.1f} s/epoch" if p["seconds_per_epoch"] else "-")
    c[3].metric("Time left" if status["status"] in ACTIVE else "Elapsed",
                _fmt_s(p["eta_s"]) if status["status"] in ACTIVE else _fmt_s(p["elapsed_s"]),
                help="Estimated from the last epochs of this phase, and never past the time limit; "
                     "pretraining may stop early. Elapsed counts every attempt of a resumed run.")
    for note in run.warnings():
        st.info(note, icon=":material/info:")
    if p["warning"]:
        st.warning(f"Samples look degenerate: {p['warning']}", icon=":material/warning:")
    if status["status"] == "failed" and p["error"]:
        st.error(p["error"])
    if df.empty:
        st.info("The first epoch is on its way; the curves appear as soon as it ends." if status["status"] in ACTIVE
                else "This run recorded no training epochs.")
        return
    left, right = st.columns(2)
    run_phases = phases(run)
    sampled = sampled_phase(run)
    left.plotly_chart(charts.losses(df, {p["name"]: p["label"] for p in run_phases}), key=f"loss-{run.id}", width="stretch")
    left.caption("Losses show that training is moving; they cannot show whether the synthetic patients are "
                 "any good (a collapsed GAN can have calm losses). The panel on the right checks the samples.")
    right.caption(f"At every checkpoint of {sampled.lower()}, synthetic patients are compared with held-out real patients.")
    if q.empty:
        right.info(f"Sample quality is measured at every checkpoint of {sampled.lower()} and plotted here: "
                   "fidelity, collapse and a membership attack.")
    else:
        right.plotly_chart(charts.quality(q, f"epoch of {sampled.lower()}"), key=f"quality-{run.id}", width="stretch")
    if "epsilon" in set(df["name"]):
        st.plotly_chart(charts.epsilon(df), key=f"eps-{run.id}", width="stretch")


def sampled_phase(run: Run) -> str:
    """The label of the run's phase whose checkpoints draw samples (e.g. "GAN training")."""
    return next((p["label"] for p in phases(run) if p.get("samples", True)), "training")
