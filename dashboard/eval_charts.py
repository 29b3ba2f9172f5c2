"""The evaluation's charts for the pages: the figures are :mod:`corgan_core.report_charts` (the HTML
report draws the very same ones); this module adds the small tables the pages show beside them."""
from __future__ import annotations

import pandas as pd

from corgan_core.report_charts import (attribute, bands, cooccurrence, dcr, fidelity_overview,  # noqa: F401
                                       frequency, membership, prediction, privacy_overview)
from corgan_core.report_charts import classifier as classifier_bars  # noqa: F401
from corgan_core.report_charts import diag_scatter as _diag_scatter  # noqa: F401 - used by cohort_charts
from corgan_core.report_charts import label as _label  # noqa: F401


def furthest(report: dict, titles: dict) -> pd.DataFrame:
    """The codes whose synthetic frequency is furthest from the real one (from the report)."""
    rows = report["fidelity"]["frequency_r2"]["details"].get("furthest", [])
    return pd.DataFrame([{"code": r["code"], "title": r.get("title") or titles.get(r["code"], ""),
                          "real": f"{r['real']:.1%}", "synthetic": f"{r['synthetic']:.1%}"} for r in rows])


def never_generated(report: dict, titles: dict) -> pd.DataFrame | None:
    """Rare and uncommon codes the synthetic patients never have (from the report)."""
    rows = []
    for band in ("rare", "uncommon", "common"):
        m = report["fidelity"].get(f"frequency_r2_{band}")
        for code in ((m or {}).get("details") or {}).get("never_generated_codes", []):
            rows.append({"band": band, "code": code, "title": titles.get(code, "")})
    return pd.DataFrame(rows) if rows else None


def classifier_table(report: dict) -> pd.DataFrame | None:
    m = report["utility"].get("tstr_auroc_gap")
    if not m:
        return None
    def cell(side: dict | None, key: str) -> str:
        """``0.988 [0.984, 0.991]``: the figure and its 95% interval, when there is one."""
        side = side or {}
        v, iv = side.get(key), side.get(f"{key}_interval")
        if v is None:
            return "n/a"
        return f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else f"{v:.3f}"

    rows = []
    for name, r in (m["details"].get("models") or {}).items():
        rows.append({"classifier": name.replace("_", " "),
                     "AUROC, trained on real (TRTR) [95% interval]": cell(r.get("trtr"), "auroc"),
                     "AUROC, trained on synthetic (TSTR) [95% interval]": cell(r.get("tstr"), "auroc"),
                     "accuracy TRTR": cell(r.get("trtr"), "accuracy"),
                     "accuracy TSTR": cell(r.get("tstr"), "accuracy"), "note": r.get("reason") or ""})
    return pd.DataFrame(rows) if rows else None
