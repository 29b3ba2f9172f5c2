"""Plain-language verdicts for a privacy officer: one sentence per metric, judged by the report's thresholds."""
from __future__ import annotations

import streamlit as st

# what each threshold means, for the steward's settings
PRIVACY_THRESHOLDS = {
    "membership_advantage": "Membership attack: largest precision above guessing allowed",
    "membership_auroc": "Membership attack AUROC: largest distance from 0.5 allowed",
    "dcr_share_closer_to_train": "Closer to training patients: largest distance from 50% allowed",
    "exact_copy_excess": "Copies of training patients: largest excess share allowed",
    "rare_replay_excess": "Rare combinations replayed: largest excess share allowed",
    "attribute_inference_gap": "Attribute inference: largest F1 gap allowed",
}


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _excess(v: float) -> str:
    return f"no excess ({_pct(v)})" if v <= 0 else f"an excess of {_pct(v)}"


def sentence(name: str, m: dict) -> str:
    v, t, d = m.get("value"), m.get("threshold"), m.get("details") or {}
    if v is None:
        return "Could not be computed for this data."
    if name == "membership_advantage":
        return (f"An attacker who holds some real records and says 'this patient was in the training data' "
                f"whenever a synthetic patient is close is right, at best, {v * 100:.1f} percentage points more often "
                f"than by guessing (allowed: {t * 100:.1f}).")
    if name == "membership_auroc":
        return (f"Telling training patients from other patients by their distance to the synthetic data scores an "
                f"AUROC of {v:.3f}; 0.5 means it cannot be done (allowed: 0.5 ± {t:g}).")
    if name == "dcr_share_closer_to_train":
        return (f"{_pct(v)} of the synthetic patients are closer to a training patient than to a held-out patient; "
                f"50% means they are no closer to the patients they learned from (allowed: 50% ± {_pct(t)}).")
    if name == "exact_copy_excess":
        return (f"{d.get('copies', '?')} synthetic patients ({_pct(d.get('copy_share'))}) are exact copies of a training "
                f"patient, against {_pct(d.get('holdout_copy_share'))} of held-out patients who simply have a twin "
                f"in training: {_excess(v)} (allowed: {_pct(t)}).")
    if name == "rare_replay_excess":
        return (f"Synthetic patients that repeat a combination of codes shared by only a few training patients "
                f"(a way to single someone out), compared with held-out patients: {_excess(v)} (allowed: {_pct(t)}).")
    if name == "attribute_inference_gap":
        return (f"Knowing a few of a patient's codes, an attacker using the synthetic data guesses the rest "
                f"{_pct(v)} (F1) better for training patients than for others (allowed: {_pct(t)}).")
    if name == "epsilon":
        return f"Trained with differential privacy: epsilon = {v:.3g} (smaller is more private)."
    return f"{m.get('label') or name}: {v:.4g}."


def show(name: str, m: dict) -> None:
    """One verdict line: a coloured badge and the sentence."""
    badge = {"pass": ":green-badge[:material/check: within limit]",
             "fail": ":red-badge[:material/priority_high: above limit]"}.get(m.get("verdict"), ":gray-badge[for information]")
    st.markdown(f"{badge} **{m.get('label') or name}**  \n{sentence(name, m)}")


def metrics_table(section: dict) -> list[dict]:
    """Rows for a table of one report section (value, independent baseline, threshold, verdict)."""
    def f(x):
        return "" if x is None else f"{x:.4g}"

    return [{"measure": m.get("label") or n, "value": f(m.get("value")), "independent baseline": f(m.get("baseline")),
             "better when": {"higher": "higher", "lower": "lower"}.get(m["direction"], f"closer to {m.get('chance', 0.5)}"),
             "limit": f(m.get("threshold")), "verdict": m.get("verdict") or ""} for n, m in section.items()]


def baseline_hint(fidelity: dict) -> str | None:
    """A plain warning when the independent baseline (codes drawn on their own) matches the model on pairs."""
    m = fidelity.get("cooccurrence_r2")
    if not m or m.get("value") is None or m.get("baseline") is None:
        return None
    if m["baseline"] >= m["value"]:
        return (f"Drawing every code on its own, ignoring the others, does as well as this model on pairs of codes "
                f"(co-occurrence R² {m['baseline']:.3f} against {m['value']:.3f}): either the codes of this data "
                f"hardly depend on each other, or the model has not learned how they go together yet (a quick demo "
                f"trains only a few epochs).")
    return None


def summary(section: dict) -> str:
    """One markdown line: which judged measures are within their limits and which are not."""
    good = [m.get("label") or n for n, m in section.items() if m.get("verdict") == "pass"]
    bad = [m.get("label") or n for n, m in section.items() if m.get("verdict") == "fail"]
    parts = []
    if good:
        parts.append(":green-badge[:material/check: within limit] " + "; ".join(good))
    if bad:
        parts.append(":red-badge[:material/priority_high: above limit] " + "; ".join(bad))
    return "  \n".join(parts)
