"""Plain-language verdicts for a privacy officer: one sentence per metric, judged by the report's thresholds.

Each verdict is pass / fail / inconclusive with its 95% interval and the reason; privacy sentences
name the attacker's share r, the threshold and the number of patients behind them."""
from __future__ import annotations

import streamlit as st

# what each threshold means, for the steward's settings
PRIVACY_THRESHOLDS = {
    "membership_advantage": "Membership attack: largest TPR - FPR allowed",
    "membership_auroc": "Membership attack AUROC: largest distance from 0.5 allowed",
    "dcr_share_closer_to_train": "Closer to training patients: largest excess above 50% allowed",
    "exact_copy_excess": "Copies of training patients: largest excess share allowed",
    "rare_replay_excess": "Rare combinations replayed: largest excess share allowed",
    "attribute_inference_gap": "Attribute inference: largest F1 gap allowed",
}


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _excess(v: float) -> str:
    return f"no excess ({_pct(v)})" if v <= 0 else f"an excess of {_pct(v)}"


def _iv(m: dict, pct: bool = False) -> str:
    iv = m.get("interval")
    if not iv:
        return ""
    f = _pct if pct else (lambda x: f"{x:.3f}")
    return f" (95% interval {f(iv[0])} to {f(iv[1])})"


def sentence(name: str, m: dict) -> str:
    """The measure's sentence, its interval, what it rests on (r, threshold, patients) and why the verdict."""
    text = _sentence(name, m)
    basis = (m.get("details") or {}).get("basis")
    why = m.get("reason")
    return text + (f" Based on {basis}." if basis and m.get("value") is not None else "") + (
        f" Verdict: {m.get('verdict')}, {why}." if why and m.get("verdict") else "")


def _sentence(name: str, m: dict) -> str:
    v, t, d = m.get("value"), m.get("threshold"), m.get("details") or {}
    if v is None:
        return "Not computed for this data."
    if name == "membership_advantage":
        prec = d.get("advantage_precision")
        return (f"An attacker who says 'this patient was in the training data' whenever a synthetic patient lies "
                f"within {d.get('advantage_threshold', 0):g} finds {_pct(d.get('advantage_tpr'))} of training patients "
                f"and wrongly names {_pct(d.get('advantage_fpr'))} of others: TPR - FPR = {v:.3f}{_iv(m)} "
                f"(allowed: {t:g}); {_pct(prec) if prec is not None else 'none'} of the patients it names were "
                f"really in training.")
    if name == "membership_auroc":
        return (f"Telling training patients from other patients by their distance to the synthetic data scores an "
                f"AUROC of {v:.3f}{_iv(m)}; 0.5 means it cannot be done (allowed: up to {0.5 + t:g}).")
    if name == "dcr_share_closer_to_train":
        return (f"{_pct(v)}{_iv(m, True)} of the synthetic patients are closer to a training patient than to a "
                f"held-out patient; 50% means they are no closer to the patients they learned from, and fewer is no "
                f"risk (allowed: up to {_pct(0.5 + t)}).")
    if name == "exact_copy_excess":
        return (f"{d.get('copies', '?')} synthetic patients ({_pct(d.get('copy_share'))}) are exact copies of a training "
                f"patient, against {_pct(d.get('holdout_copy_share'))} of held-out patients who simply have a twin "
                f"in training: {_excess(v)}{_iv(m, True)} (allowed: {_pct(t)}).")
    if name == "rare_replay_excess":
        return (f"Synthetic patients that repeat a combination of codes shared by only a few training patients "
                f"(a way to single someone out), compared with held-out patients: {_excess(v)}{_iv(m, True)} "
                f"(allowed: {_pct(t)}).")
    if name == "attribute_inference_gap":
        return (f"Knowing a few of a patient's codes, an attacker using the synthetic data guesses the rest "
                f"{_pct(v)}{_iv(m, True)} (F1) better for training patients than for others (allowed: {_pct(t)}).")
    if name == "epsilon":
        return f"Trained with differential privacy: epsilon = {v:.3g} (smaller is more private)."
    return f"{m.get('label') or name}: {v:.4g}{_iv(m)}."


BADGES = {"pass": ":green-badge[:material/check: within limit]",
          "fail": ":red-badge[:material/priority_high: above limit]",
          "inconclusive": ":orange-badge[:material/help: inconclusive]"}


def badge(m: dict) -> str:
    """The verdict's badge; "not computable" for a check the data was too small for."""
    if m.get("value") is None and m.get("needs"):
        return ":orange-badge[:material/help: not computable]"
    return BADGES.get(m.get("verdict"), ":gray-badge[for information]")


def show(name: str, m: dict) -> None:
    """One verdict line: a coloured badge and the sentence."""
    st.markdown(f"{badge(m)} **{m.get('label') or name}**  \n{sentence(name, m)}")


def metrics_table(section: dict) -> list[dict]:
    """Rows for a table of one report section: value, 95% interval, real-data ceiling, independent
    floor, limit, verdict and why."""
    def f(x):
        return "" if x is None else f"{x:.4g}"

    return [{"measure": m.get("label") or n, "value": f(m.get("value")),
             "95% interval": "" if not m.get("interval") else f"{m['interval'][0]:.3g} to {m['interval'][1]:.3g}",
             "real-data ceiling": f(m.get("ceiling")), "independent floor": f(m.get("baseline")),
             "better when": {"higher": "higher", "lower": "lower", "at-most-chance": f"at most {m.get('chance', 0.5)}"}.get(
                 m["direction"], f"closer to {m.get('chance', 0.5)}"),
             "limit": f(m.get("limit")), "verdict": m.get("verdict") or "", "why": m.get("reason") or ""}
            for n, m in section.items()]


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
    """Markdown lines: which judged measures are within their limits, which are not, which are
    inconclusive and which could not be computed on this data (never left out)."""
    groups = {"pass": [], "fail": [], "inconclusive": [], "not computable": []}
    for n, m in section.items():
        if m.get("value") is None and m.get("needs"):
            groups["not computable"].append(f"{m.get('label') or n} ({m.get('reason')})")
        elif m.get("verdict") in groups:
            groups[m["verdict"]].append(m.get("label") or n)
    heads = {"pass": BADGES["pass"], "fail": BADGES["fail"], "inconclusive": BADGES["inconclusive"],
             "not computable": ":orange-badge[:material/help: not computable]"}
    return "  \n".join(f"{heads[k]} " + "; ".join(v) for k, v in groups.items() if v)
