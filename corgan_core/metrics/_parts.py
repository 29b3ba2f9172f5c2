"""The parts of :func:`corgan_core.metrics.evaluate`: each computes one metric family and adds
report entries via ``add(section, name, value, direction, label, chance=, baseline=, details=,
interval=, ceiling=, needs=, method=)``. The fidelity parts live in ``_fidelity_parts``; utility and
privacy here. A part raises DataError when it does not apply; evaluate() records that as skipped.
Every judged figure carries its 95% interval; privacy verdict sentences name the attacker's share
r, the threshold and the number of patients behind them (``details["basis"]``)."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..verdict import newcombe
from ._fidelity_parts import (MIN_HOLDOUT, agreement, bands, cooccurrence, discriminator,  # noqa: F401
                              probability, threeway)
from .attribute import attribute_inference
from .bootstrap import mean_interval
from .classifier import classifier_fidelity
from .continuous import report_part as continuous  # noqa: F401 - the continuous-records part (issue 16)
from .copies import exact_copies, record_uniqueness
from .dcr import distance_to_closest_record
from .membership import membership_inference
from .neighbours import nearest_neighbours
from .prediction import MIN_POSITIVES, dimension_wise_prediction


def _needs(c, what="held-out patients"):
    return {"have": int(c["Ho"].shape[0]), "needs": MIN_HOLDOUT, "what": what}


def _synthetic_aurocs(p) -> tuple[np.ndarray, np.ndarray]:
    """Real and synthetic AUROC per code; a code the synthetic rows never have teaches nothing (0.5)."""
    ra = np.array([r["real_auroc"] for r in p.per_code], dtype=np.float64)
    sa = np.array([r["synthetic_auroc"] for r in p.per_code], dtype=np.float64)
    sa = np.where(np.isnan(sa) & np.isfinite(ra), 0.5, sa)
    return ra, sa


def prediction(c, add):
    kw = dict(kind=c["kind"], codes=c["codes"], titles=c["titles"], seed=c["seed"], top_k=c["ptk"])
    if c["max_rows"]:
        kw["max_rows"] = c["max_rows"]
    p = dimension_wise_prediction(c["Tr"], c["Ho"], c["Sy"], **kw)
    b = dimension_wise_prediction(c["Tr"], c["Ho"], c["B"], **kw) if c["B"] is not None else None
    ra, sa = _synthetic_aurocs(p)
    ok = np.isfinite(ra)
    floor = float(np.nanmean(_synthetic_aurocs(b)[1][ok])) if b is not None and ok.any() else None
    n = f"{len(p.per_code)} codes with {MIN_POSITIVES}+ patients"
    add("utility", "prediction_synthetic_auroc", float(np.mean(sa[ok])) if ok.any() else None, "higher",
        f"Dimension-wise prediction: mean AUROC on holdout, trained on synthetic ({n})", baseline=floor,
        ceiling=float(np.mean(ra[ok])) if ok.any() else None, interval=mean_interval(sa[ok], c["rng"](5), c["boot"]),
        method="bootstrap over codes", details={"real_auroc": p.real_auroc, "real_f1": p.real_f1,
                                                 "synthetic_f1": p.synthetic_f1, "codes": len(p.per_code)})
    gap = np.abs(ra - sa)[ok]
    add("utility", "prediction_auroc_gap", float(gap.mean()) if gap.size else None, "lower",
        f"Dimension-wise prediction: mean |AUROC real - synthetic| ({n})", baseline=b and b.auroc_gap,
        interval=mean_interval(gap, c["rng"](6), c["boot"]), method="bootstrap over codes", details=p.to_dict())
    rf = np.array([r["real_f1"] for r in p.per_code], dtype=np.float64)
    sf = np.array([r["synthetic_f1"] for r in p.per_code], dtype=np.float64)
    add("utility", "prediction_f1_gap", p.f1_gap, "lower", "Dimension-wise prediction: mean |F1 real - synthetic|",
        baseline=b and b.f1_gap, interval=mean_interval(np.abs(rf - sf), c["rng"](7), c["boot"]),
        method="bootstrap over codes")


def classifier(c, add):
    y_tr, y_ho, y_sy = c["y"]
    kw = dict(seed=c["seed"], max_rows=c["max_rows"], bootstrap=c["boot"])
    if c["label_index"] is not None:
        r = classifier_fidelity(c["Tr"], c["Ho"], c["Sy"], label_index=c["label_index"], **kw)
        b = classifier_fidelity(c["Tr"], c["Ho"], c["B"], label_index=c["label_index"], real=r, **kw) if c["B"] is not None else None
    elif y_tr is not None and y_ho is not None:
        if y_sy is None:
            raise DataError("TSTR needs labels for the synthetic rows: give a label column or synthetic labels.")
        r = classifier_fidelity(c["Tr"], c["Ho"], c["Sy"], y_train=y_tr, y_holdout=y_ho, y_synthetic=y_sy, **kw)
        b = None
        if c["B"] is not None:  # the baseline's labels are drawn independently of its rows
            y_b = np.random.default_rng(c["seed"]).choice(np.asarray(y_tr), c["B"].shape[0])
            b = classifier_fidelity(c["Tr"], c["Ho"], c["B"], y_train=y_tr, y_holdout=y_ho, y_synthetic=y_b, real=r, **kw)
    else:
        raise DataError("No label was given, so TRTR/TSTR classification was not run.")
    add("utility", "tstr_auroc_gap", r.auroc_gap, "lower", "Classifier AUROC, TRTR minus TSTR (mean over models)",
        baseline=b and b.auroc_gap, details=r.to_dict(), interval=r.auroc_gap_interval,
        method="paired bootstrap over holdout rows")
    add("utility", "tstr_accuracy_gap", r.accuracy_gap, "lower", "Classifier accuracy, TRTR minus TSTR",
        baseline=b and b.accuracy_gap, interval=r.accuracy_gap_interval, method="paired bootstrap over holdout rows")


def _neighbours(c):
    if c["nn"] is None:
        n = c["Sy"].shape[0]
        sizes = c["attack"].get("sizes") or sorted({min(s, n) for s in (1000, 10000)} | {n})
        prog = c["prog"]
        c["nn"] = nearest_neighbours(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], sizes=sizes, seed=c["seed"],
                                     progress=lambda d, t: prog.step("neighbours", d / t))
        prog.finish("neighbours")
    return c["nn"]


def membership(c, add):
    a = {k: v for k, v in c["attack"].items() if k != "sizes"}
    mi = membership_inference(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], neighbours=_neighbours(c),
                              bootstrap=c["boot"], **a)
    unit = " codes" if mi.metric == "hamming" else ""
    basis = (f"r = {mi.advantage_fraction:.2f}: the attacker holds {mi.advantage_members:,} training and "
             f"{mi.advantage_non_members:,} held-out patients; threshold {mi.advantage_threshold:g}{unit}; "
             f"{mi.sizes[-1]:,} synthetic patients")
    d = mi.to_dict()
    d["basis"] = basis
    add("privacy", "membership_advantage", mi.advantage, "lower",
        "Membership attack: TPR - FPR at the best threshold (Yeom et al.), precision beside it",
        details=d, interval=mi.advantage_interval, needs=_needs(c),
        method="bootstrap over the attacker's patients, best threshold re-picked per replicate")
    add("privacy", "membership_auroc", mi.auroc[-1], "at-most-chance",
        "Membership attack AUROC (minus the distance, all train vs holdout rows)", chance=0.5,
        interval=mi.auroc_interval, needs=_needs(c), method="DeLong interval",
        details={"sizes": mi.sizes, "auroc": mi.auroc, "verbatim_copy_precision": mi.verbatim_copy_precision,
                 "basis": f"{c['Tr'].shape[0]:,} training and {c['Ho'].shape[0]:,} held-out patients, "
                          f"{mi.sizes[-1]:,} synthetic patients"})


def dcr(c, add):
    d = distance_to_closest_record(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], neighbours=_neighbours(c), seed=c["seed"])
    det = d.to_dict()
    det["basis"] = (f"{len(d.share_by_subset)} random training subsets of {c['Ho'].shape[0]:,} patients against the "
                    f"{c['Ho'].shape[0]:,} held-out patients, {c['Sy'].shape[0]:,} synthetic patients")
    add("privacy", "dcr_share_closer_to_train", d.share_closer_to_train, "at-most-chance",
        "Synthetic rows closer to train than to holdout (equal sizes, ties half; only closer is a risk)", chance=0.5,
        details=det, interval=d.share_interval, needs=_needs(c),
        method="synthetic rows, train subsets and the holdout's own spread")
    add("privacy", "nndr_train_mean", d.nndr["train"]["mean"], "higher",
        "Mean nearest-neighbour distance ratio to train", details={"holdout": d.nndr["holdout"]})


def copies(c, add):
    e = exact_copies(c["Tr"], c["Sy"], holdout=c["Ho"], k=c["rare_k"], kind=c["kind"])
    b = exact_copies(c["Tr"], c["B"], holdout=c["Ho"], k=c["rare_k"], kind=c["kind"]) if c["B"] is not None else None
    n_s, n_h = c["Sy"].shape[0], c["Ho"].shape[0]
    det = e.to_dict()
    det["basis"] = f"{n_s:,} synthetic against {n_h:,} fresh held-out patients"
    add("privacy", "exact_copy_excess", e.copy_share - e.holdout_copy_share, "lower",
        "Synthetic rows copying a training row, in excess of fresh held-out patients with a twin in train",
        baseline=b and b.copy_share - b.holdout_copy_share, details=det, needs=_needs(c), method="Newcombe interval",
        interval=list(newcombe(e.copies, n_s, round(e.holdout_copy_share * n_h), n_h)))
    add("privacy", "rare_replay_excess", e.rare_replay_share - e.holdout_rare_share, "lower",
        f"Synthetic rows replaying a combination of <= {e.k} training patients, in excess of fresh held-out patients",
        baseline=b and b.rare_replay_share - b.holdout_rare_share, needs=_needs(c), method="Newcombe interval",
        interval=list(newcombe(e.rare_replay, n_s, round(e.holdout_rare_share * n_h), n_h)),
        details={"basis": det["basis"]})


def uniqueness(c, add):
    u = record_uniqueness(c["Tr"], c["Ho"], kind=c["kind"])
    add("privacy", "holdout_twin_share", u.holdout_twin_share, "higher",
        "Held-out rows with an exact twin in train (sets the distance-0 precision a verbatim copy would reach; "
        "not a bound)", details=u.to_dict())


def attribute(c, add):
    a = attribute_inference(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], seed=c["seed"], codes=c["codes"],
                            bootstrap=c["boot"])
    det = a.to_dict()
    det["basis"] = f"{a.n_targets:,} training and {a.n_targets:,} held-out target patients, {len(a.known)} known codes"
    add("privacy", "attribute_inference_gap", a.f1_gap, "lower",
        "Attribute inference F1, train patients minus holdout patients", details=det, interval=a.f1_gap_interval,
        needs=_needs(c), method="bootstrap over the target patients")


def epsilon(c, add):
    if c["epsilon"] is None:
        raise DataError("No differential-privacy epsilon was given for this synthetic data.")
    add("privacy", "epsilon", float(c["epsilon"]), "lower", "Differential-privacy epsilon spent by training")
