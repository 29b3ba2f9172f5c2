"""The words and the table of a cohort comparison (``cohort_compare.compare``'s dict), for people."""
from __future__ import annotations


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def sentence(c: dict) -> str:
    """How close the synthetic cohort is to the real one, and how sure that is, in one sentence."""
    r, s, q, cs = c["real"], c["synthetic"], c["ratio"], c["settings"]
    conf = f"{100 * cs['confidence']:.0f}%"
    syn = f"{_pct(s['share'])} of synthetic patients ({conf} interval {_pct(s['low'])}-{_pct(s['high'])})"
    if r["suppressed"]:
        return (f"The cohort holds {syn}; among the {r['patients']:,} real held-out patients it has fewer than "
                f"{cs['k']} members (or all but fewer than {cs['k']}), so it is not shown and cannot be compared.")
    real = f"{_pct(r['share'])} of {r['patients']:,} real held-out patients ({_pct(r['low'])}-{_pct(r['high'])})"
    if q["value"] is None:
        return f"The cohort holds {syn} against {real}; neither has a member, so there is nothing to compare."
    t = cs["tolerance"]
    how = {"pass": f"close: the interval lies within {1 / t:.2f}-{t:.2f} (pass)",
           "fail": f"{'too large' if q['low'] > t else 'too small'}: the interval lies outside {1 / t:.2f}-{t:.2f} (fail)",
           "inconclusive": f"not yet clear: the interval reaches beyond {1 / t:.2f}-{t:.2f}, so more patients "
                           f"are needed to tell (inconclusive)"}[c["verdict"]]
    return (f"The cohort holds {syn} against {real}: the synthetic share is {q['value']:.2f} times the real one "
            f"({conf} interval {q['low']:.2f}-{q['high']:.2f}), {how}.")


def detail(c: dict) -> str:
    """What the cohort looks like inside: association agreement and codes per patient, in one sentence."""
    prof, conf = c["profile"], f"{100 * c['settings']['confidence']:.0f}%"
    rows = [r for r in c["codes"] if r.get("real_or") is not None]
    parts = []
    if rows:
        inside = sum(r["real_or_low"] <= r["synthetic_or"] <= r["real_or_high"] for r in rows)
        same = sum((r["real_or"] > 1) == (r["synthetic_or"] > 1) for r in rows)
        parts.append(f"{inside} of the {len(rows)} codes most associated with the real cohort have a synthetic odds "
                     f"ratio inside the real {conf} interval and {same} point the same way")
    if prof["real"]["mean"] is not None and prof["synthetic"]["mean"] is not None:
        parts.append(f"{prof['what']} average {prof['synthetic']['mean']:.2f} in the synthetic cohort against "
                     f"{prof['real']['mean']:.2f} ({prof['real']['low']:.2f}-{prof['real']['high']:.2f}) in the real one"
                     if prof["real"]["low"] is not None else
                     f"{prof['what']} average {prof['synthetic']['mean']:.2f} against {prof['real']['mean']:.2f}")
    return ("Inside the cohort, " + "; ".join(parts) + ".") if parts else ""


def table(c: dict):
    """The associated codes as a DataFrame (real and synthetic side by side) for the CLI and the page."""
    import pandas as pd

    cols = ["code", "title", "real_in", "synthetic_in", "real_out", "synthetic_out",
            "real_lift", "synthetic_lift", "real_or", "synthetic_or"]
    df = pd.DataFrame(c["codes"])
    return df[[x for x in cols if x in df.columns]] if not df.empty else pd.DataFrame(columns=cols)
