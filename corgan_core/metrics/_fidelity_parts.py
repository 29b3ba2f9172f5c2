"""The fidelity parts of :func:`corgan_core.metrics.evaluate`. Each figure is reported with its 95%
interval (a seeded bootstrap over holdout and synthetic patients), the real-data ceiling (a seeded
sample of training rows of the synthetic set's size, scored the same way against the holdout) and
the independent floor; ``add(...)`` records them (see :mod:`corgan_core.metrics._parts`)."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import code_name, regression_summary, top_columns
from .bootstrap import binary, combo_indicator, r2_interval, r2_rows, shares
from .cooccurrence import cooccurrence as _cooccurrence
from .discriminator import MIN_ROWS as DISC_ROWS
from .discriminator import discriminator_score
from .frequency import dimension_wise_probability
from .structure import (BANDS, band_columns, candidate_pairs, never_generated, odds_ratio_agreement,
                        triple_indicator)

MIN_HOLDOUT = 10
"""Held-out patients any fidelity figure needs."""
MIN_BAND_CODES = 5
TRIPLE_CODES = 30
REFERENCE_ROWS = 2500
"""Rows per class of the discriminator's ceiling and floor."""


def _codes(c, cols):
    return [code_name(c["codes"], int(j)) for j in cols]


def _needs(c, have=None, needs=MIN_HOLDOUT, what="held-out patients"):
    return {"have": int(c["Ho"].shape[0] if have is None else have), "needs": int(needs), "what": what}


def _Z(c, X):
    """What the bootstrap resamples: 0/1 codes, or the values themselves for continuous columns."""
    return X if c["kind"] == "continuous" else binary(X)


def _r2(real, synth):
    return float(r2_rows(real[None, :], synth[None, :])[0])


def probability(c, add):
    kw = dict(kind=c["kind"], codes=c["codes"], titles=c["titles"])
    h = dimension_wise_probability(c["Ho"], c["Sy"], **kw)
    t = dimension_wise_probability(c["Tr"], c["Sy"], **kw)
    ceil = dimension_wise_probability(c["Ho"], c["Tc"], **kw).r2
    b = dimension_wise_probability(c["Ho"], c["B"], **kw) if c["B"] is not None else None
    codes = _codes(c, range(c["Tr"].shape[1]))
    iv = r2_interval(_Z(c, c["Ho"]), _Z(c, c["Sy"]), c["rng"](1), c["boot"])
    add("fidelity", "frequency_r2", h.r2, "higher", f"Per-code {h.statistic} R² (holdout)", baseline=b and b.r2,
        details={**h.to_dict(), "codes": codes}, interval=iv, ceiling=ceil, needs=_needs(c),
        method="bootstrap over holdout and synthetic patients")
    add("fidelity", "frequency_r2_train", t.r2, "higher", f"Per-code {t.statistic} R² (train)",
        details={"real": t.real, "synthetic": t.synthetic, "pearson": t.pearson, "rmse": t.rmse, "codes": codes})
    add("fidelity", "frequency_rmse", h.rmse, "lower", f"Per-code {h.statistic} RMSE (holdout)",
        baseline=b and b.rmse, details={"pearson": h.pearson, "max_abs_error": h.max_abs_error})


def cooccurrence(c, add):
    cols = top_columns(c["Tr"], c["top_k"], c["kind"])
    kw = dict(kind=c["kind"], columns=cols, codes=c["codes"])
    h = _cooccurrence(c["Ho"], c["Sy"], **kw)
    t = _cooccurrence(c["Tr"], c["Sy"], **kw)
    ceil = _cooccurrence(c["Ho"], c["Tc"], **kw).r2
    b = _cooccurrence(c["Ho"], c["B"], **kw) if c["B"] is not None else None
    iv = None
    if c["kind"] != "continuous" and len(cols) > 1:
        iv = r2_interval(combo_indicator(c["Ho"], cols, 2)[0], combo_indicator(c["Sy"], cols, 2)[0], c["rng"](2),
                         c["boot"])
    pair_codes = [[a, z] for a, z in zip(_codes(c, h.pairs[:, 0]), _codes(c, h.pairs[:, 1]))]
    d = h.to_dict()
    d.pop("moments")
    add("fidelity", "cooccurrence_r2", h.r2, "higher", f"Pairwise {h.statistic} R², top {len(cols)} codes (holdout)",
        baseline=b and b.r2, details={**d, "pair_codes": pair_codes}, interval=iv, ceiling=ceil, needs=_needs(c),
        method="bootstrap over holdout and synthetic patients" if iv else "")
    add("fidelity", "cooccurrence_r2_train", t.r2, "higher", f"Pairwise {t.statistic} R² (train)")
    add("fidelity", "cooccurrence_rmse", h.rmse, "lower", f"Pairwise {h.statistic} RMSE (holdout)",
        baseline=b and b.rmse)
    if h.moments is not None:
        for key, name in (("mean", "mean_r2"), ("variance", "variance_r2")):
            m = h.moments[key]
            add("fidelity", name, m["r2"], "higher", f"Per-code {key} R² (holdout)",
                baseline=b and b.moments[key]["r2"], details=m)


def threeway(c, add):
    if c["kind"] == "continuous":
        raise DataError("Three-way co-occurrence applies to code data (binary or count), not continuous columns.")
    cols = top_columns(c["Tr"], TRIPLE_CODES, c["kind"])
    if len(cols) < 3:
        raise DataError("Three-way co-occurrence needs at least 3 code columns.")
    Zh, combos = triple_indicator(c["Ho"], cols)
    Zs = triple_indicator(c["Sy"], cols)[0]
    sh, ss = shares(Zh), shares(Zs)
    fit = {k: _r2(sh, shares(triple_indicator(c[k], cols)[0])) for k in ("Tc",) + (("B",) if c["B"] is not None else ())}
    fit["Sy"] = _r2(sh, ss)
    order = np.argsort(-sh, kind="stable")[:20]
    top = [{"codes": _codes(c, combos[i]), "real": float(sh[i]), "synthetic": float(ss[i])} for i in order]
    iv = r2_interval(Zh, Zs, c["rng"](3), c["boot"])
    add("fidelity", "threeway_r2", fit["Sy"], "higher",
        f"Three-way co-occurrence R², all {len(combos):,} triples of the top {len(cols)} codes (holdout)",
        baseline=fit.get("B"), ceiling=fit["Tc"], interval=iv, needs=_needs(c),
        method="bootstrap over holdout and synthetic patients",
        details={"columns": cols.tolist(), "n_triples": len(combos), "top": top, **regression_summary(sh, ss)})


def bands(c, add):
    if c["kind"] == "continuous":
        raise DataError("Prevalence bands apply to code data (binary or count), not continuous columns.")
    cols = band_columns(c["Tr"])
    Zh, Zs = binary(c["Ho"]), binary(c["Sy"])
    fh, fs, fc = shares(Zh), shares(Zs), shares(binary(c["Tc"]))
    fb = shares(binary(c["B"])) if c["B"] is not None else None
    total = 0
    for name, lo, hi in BANDS:
        j = cols[name]
        miss = never_generated(c["Tr"], c["Sy"], j)
        total += miss
        details = {"codes": int(len(j)), "min_share": lo, "max_share": min(hi, 1.0), "never_generated": miss,
                   "never_generated_floor": never_generated(c["Tr"], c["B"], j) if fb is not None else None,
                   "never_generated_ceiling": never_generated(c["Tr"], c["Tc"], j),
                   "never_generated_codes": _codes(c, j[fs[j] == 0][:50])}
        ok = len(j) >= MIN_BAND_CODES
        add("fidelity", f"frequency_r2_{name}", _r2(fh[j], fs[j]) if ok else None, "higher",
            f"Per-code frequency R², {name} codes ({lo:.1%} to {min(hi, 1):.1%} of training patients; holdout)",
            baseline=_r2(fh[j], fb[j]) if ok and fb is not None else None, ceiling=_r2(fh[j], fc[j]) if ok else None,
            interval=r2_interval(Zh, Zs, c["rng"](4), c["boot"], columns=j) if ok else None,
            needs=_needs(c, len(j), MIN_BAND_CODES, f"{name} codes"), details=details,
            method="bootstrap over holdout and synthetic patients")
    add("fidelity", "codes_never_generated", total, "lower",
        "Codes training patients have that no synthetic patient has",
        baseline=sum(never_generated(c["Tr"], c["B"], j) for j in cols.values()) if fb is not None else None,
        ceiling=sum(never_generated(c["Tr"], c["Tc"], j) for j in cols.values()))


def agreement(c, add):
    if c["kind"] == "continuous":
        raise DataError("Odds-ratio agreement applies to code data (binary or count), not continuous columns.")
    pairs = candidate_pairs(c["Tr"], c["Ho"], c["kind"], top_k=c["top_k"])
    if len(pairs) < 5:
        add("fidelity", "odds_ratio_agreement", None, "higher", "Odds ratios of the top code pairs: synthetic inside "
            "the real 95% interval", needs=_needs(c, len(pairs), 5, "code pairs with 5+ held-out patients per cell"))
        return
    r = odds_ratio_agreement(c["Ho"], c["Sy"], pairs, codes=c["codes"])
    ceil = odds_ratio_agreement(c["Ho"], c["Tc"], pairs)
    b = odds_ratio_agreement(c["Ho"], c["B"], pairs) if c["B"] is not None else None
    add("fidelity", "odds_ratio_agreement", r.share_inside, "higher",
        f"Odds ratios of the top {r.n_pairs} code pairs: synthetic estimate inside the real 95% interval",
        baseline=b and b.share_inside, ceiling=ceil.share_inside, interval=r.share_inside_interval,
        details=r.to_dict(), method="Wilson interval over the pairs")
    add("fidelity", "odds_ratio_sign_agreement", r.sign_agreement, "higher",
        "Odds ratios of the top code pairs: same sign (association) as on real data",
        baseline=b and b.sign_agreement, ceiling=ceil.sign_agreement, interval=r.sign_agreement_interval,
        method="Wilson interval over the pairs")


def discriminator(c, add):
    n = min(c["Ho"].shape[0], c["Sy"].shape[0])
    label = "Real-vs-synthetic classifier AUROC"
    if n < DISC_ROWS:
        add("fidelity", "discriminator_auroc", None, "closer-to-chance", label, chance=0.5,
            needs=_needs(c, n, DISC_ROWS, "rows per class"))
        return
    kw = dict(kind=c["kind"], top_k=c["top_k"], seed=c["seed"])
    d = discriminator_score(c["Ho"], c["Sy"], **kw)
    ref = dict(kw, max_rows=REFERENCE_ROWS)  # the references need less precision than the figure judged
    ceil = discriminator_score(c["Ho"], c["Tc"], **ref)
    b = discriminator_score(c["Ho"], c["B"], **ref) if c["B"] is not None else None
    add("fidelity", "discriminator_auroc", d.auroc, "closer-to-chance", label, chance=0.5, baseline=b and b.auroc,
        ceiling=ceil.auroc, interval=d.auroc_interval, details=d.to_dict(),
        method="DeLong interval over the out-of-fold predictions")
    add("fidelity", "discriminator_pmse", d.pmse, "lower", "Propensity score mean squared error (pMSE)",
        baseline=b and b.pmse, ceiling=ceil.pmse)
