"""The parts of :func:`corgan_core.metrics.evaluate`: each computes one metric family and adds
report entries via ``add(section, name, value, direction, label, chance, baseline, details)``.
A part raises DataError when it does not apply; evaluate() records that as skipped."""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import top_columns
from .attribute import attribute_inference
from .classifier import classifier_fidelity
from .continuous import report_part as continuous  # noqa: F401 - continuous data only (issue 16)
from .cooccurrence import cooccurrence as _cooccurrence
from .copies import exact_copies, record_uniqueness
from .dcr import distance_to_closest_record
from .discriminator import discriminator_score
from .frequency import dimension_wise_probability
from .membership import membership_inference
from .neighbours import nearest_neighbours
from .prediction import dimension_wise_prediction


def _codes(c, cols):
    return [str(c["codes"][j]) if c["codes"] is not None else str(j) for j in cols]


def probability(c, add):
    kw = dict(kind=c["kind"], codes=c["codes"], titles=c["titles"])
    h = dimension_wise_probability(c["Ho"], c["Sy"], **kw)
    t = dimension_wise_probability(c["Tr"], c["Sy"], **kw)
    b = dimension_wise_probability(c["Ho"], c["B"], **kw) if c["B"] is not None else None
    codes = _codes(c, range(c["Tr"].shape[1]))
    add("fidelity", "frequency_r2", h.r2, "higher", f"Per-code {h.statistic} R² (holdout)",
        baseline=b and b.r2, details={**h.to_dict(), "codes": codes})
    add("fidelity", "frequency_r2_train", t.r2, "higher", f"Per-code {t.statistic} R² (train)",
        details={"real": t.real, "synthetic": t.synthetic, "pearson": t.pearson, "rmse": t.rmse, "codes": codes})
    add("fidelity", "frequency_rmse", h.rmse, "lower", f"Per-code {h.statistic} RMSE (holdout)",
        baseline=b and b.rmse, details={"pearson": h.pearson, "max_abs_error": h.max_abs_error})


def cooccurrence(c, add):
    cols = top_columns(c["Tr"], c["top_k"], c["kind"])
    h = _cooccurrence(c["Ho"], c["Sy"], kind=c["kind"], columns=cols, codes=c["codes"])
    t = _cooccurrence(c["Tr"], c["Sy"], kind=c["kind"], columns=cols, codes=c["codes"])
    b = _cooccurrence(c["Ho"], c["B"], kind=c["kind"], columns=cols, codes=c["codes"]) if c["B"] is not None else None
    pair_codes = [[a, z] for a, z in zip(_codes(c, h.pairs[:, 0]), _codes(c, h.pairs[:, 1]))]
    d = h.to_dict()
    d.pop("moments")
    add("fidelity", "cooccurrence_r2", h.r2, "higher", f"Pairwise {h.statistic} R², top {len(cols)} codes (holdout)",
        baseline=b and b.r2, details={**d, "pair_codes": pair_codes})
    add("fidelity", "cooccurrence_r2_train", t.r2, "higher", f"Pairwise {t.statistic} R² (train)")
    add("fidelity", "cooccurrence_rmse", h.rmse, "lower", f"Pairwise {h.statistic} RMSE (holdout)",
        baseline=b and b.rmse)
    if h.moments is not None:
        for key, name in (("mean", "mean_r2"), ("variance", "variance_r2")):
            m = h.moments[key]
            add("fidelity", name, m["r2"], "higher", f"Per-code {key} R² (holdout)",
                baseline=b and b.moments[key]["r2"], details=m)


def discriminator(c, add):
    kw = dict(kind=c["kind"], top_k=c["top_k"], seed=c["seed"])
    d = discriminator_score(c["Ho"], c["Sy"], **kw)
    b = discriminator_score(c["Ho"], c["B"], **kw) if c["B"] is not None else None
    add("fidelity", "discriminator_auroc", d.auroc, "closer-to-chance", "Real-vs-synthetic classifier AUROC",
        chance=0.5, baseline=b and b.auroc, details=d.to_dict())
    add("fidelity", "discriminator_pmse", d.pmse, "lower", "Propensity score mean squared error (pMSE)",
        baseline=b and b.pmse)


def prediction(c, add):
    kw = dict(kind=c["kind"], top_k=c["ptk"], codes=c["codes"], titles=c["titles"], seed=c["seed"],
              max_rows=c["max_rows"])
    p = dimension_wise_prediction(c["Tr"], c["Ho"], c["Sy"], **kw)
    b = dimension_wise_prediction(c["Tr"], c["Ho"], c["B"], **kw) if c["B"] is not None else None
    add("utility", "prediction_auroc_gap", p.auroc_gap, "lower",
        f"Dimension-wise prediction: mean |AUROC real - synthetic|, top {len(p.per_code)} codes",
        baseline=b and b.auroc_gap, details=p.to_dict())
    add("utility", "prediction_f1_gap", p.f1_gap, "lower", "Dimension-wise prediction: mean |F1 real - synthetic|",
        baseline=b and b.f1_gap)
    add("utility", "prediction_synthetic_auroc", p.synthetic_auroc, "higher",
        "Dimension-wise prediction: mean AUROC, trained on synthetic", baseline=b and b.synthetic_auroc,
        details={"real_auroc": p.real_auroc, "real_f1": p.real_f1, "synthetic_f1": p.synthetic_f1})


def classifier(c, add):
    y_tr, y_ho, y_sy = c["y"]
    kw = dict(seed=c["seed"], max_rows=c["max_rows"])
    if c["label_index"] is not None:
        r = classifier_fidelity(c["Tr"], c["Ho"], c["Sy"], label_index=c["label_index"], **kw)
        b = classifier_fidelity(c["Tr"], c["Ho"], c["B"], label_index=c["label_index"], **kw) if c["B"] is not None else None
    elif y_tr is not None and y_ho is not None:
        if y_sy is None:
            raise DataError("TSTR needs labels for the synthetic rows: give a label column or synthetic labels.")
        r = classifier_fidelity(c["Tr"], c["Ho"], c["Sy"], y_train=y_tr, y_holdout=y_ho, y_synthetic=y_sy, **kw)
        b = None
        if c["B"] is not None:  # the baseline's labels are drawn independently of its rows
            y_b = np.random.default_rng(c["seed"]).choice(np.asarray(y_tr), c["B"].shape[0])
            b = classifier_fidelity(c["Tr"], c["Ho"], c["B"], y_train=y_tr, y_holdout=y_ho, y_synthetic=y_b, **kw)
    else:
        raise DataError("No label was given, so TRTR/TSTR classification was not run.")
    add("utility", "tstr_auroc_gap", r.auroc_gap, "lower", "Classifier AUROC, TRTR minus TSTR (mean over models)",
        baseline=b and b.auroc_gap, details=r.to_dict())
    add("utility", "tstr_accuracy_gap", r.accuracy_gap, "lower", "Classifier accuracy, TRTR minus TSTR",
        baseline=b and b.accuracy_gap)


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
    mi = membership_inference(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], neighbours=_neighbours(c), **a)
    add("privacy", "membership_advantage", mi.advantage, "lower",
        "Membership attack: best precision above the members' share (full synthetic set)",
        details=mi.to_dict())
    add("privacy", "membership_auroc", mi.auroc[-1], "closer-to-chance",
        "Membership attack AUROC (negative distance, all train vs holdout rows)", chance=0.5,
        details={"sizes": mi.sizes, "auroc": mi.auroc, "ceiling_precision": mi.ceiling_precision})


def dcr(c, add):
    d = distance_to_closest_record(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], neighbours=_neighbours(c))
    add("privacy", "dcr_share_closer_to_train", d.share_closer_to_train, "closer-to-chance",
        "Synthetic rows closer to train than to holdout (equal sizes, ties half)", chance=0.5, details=d.to_dict())
    add("privacy", "nndr_train_mean", d.nndr["train"]["mean"], "higher",
        "Mean nearest-neighbour distance ratio to train", details={"holdout": d.nndr["holdout"]})


def copies(c, add):
    e = exact_copies(c["Tr"], c["Sy"], holdout=c["Ho"], k=c["rare_k"], kind=c["kind"])
    b = exact_copies(c["Tr"], c["B"], holdout=c["Ho"], k=c["rare_k"], kind=c["kind"]) if c["B"] is not None else None
    add("privacy", "exact_copy_excess", e.copy_share - e.holdout_copy_share, "lower",
        "Synthetic rows copying a training row, minus holdout rows with a twin in train",
        baseline=b and b.copy_share - b.holdout_copy_share, details=e.to_dict())
    add("privacy", "rare_replay_excess", e.rare_replay_share - e.holdout_rare_share, "lower",
        f"Synthetic rows replaying a combination of <= {e.k} training patients, minus the holdout's share",
        baseline=b and b.rare_replay_share - b.holdout_rare_share)


def uniqueness(c, add):
    u = record_uniqueness(c["Tr"], c["Ho"], kind=c["kind"])
    add("privacy", "holdout_twin_share", u.holdout_twin_share, "higher",
        "Holdout rows with an exact twin in train (the membership attack's ceiling)", details=u.to_dict())


def attribute(c, add):
    a = attribute_inference(c["Tr"], c["Ho"], c["Sy"], kind=c["kind"], seed=c["seed"], codes=c["codes"])
    add("privacy", "attribute_inference_gap", a.f1_gap, "lower",
        "Attribute inference F1, train patients minus holdout patients", details=a.to_dict())


def epsilon(c, add):
    if c["epsilon"] is None:
        raise DataError("No differential-privacy epsilon was given for this synthetic data.")
    add("privacy", "epsilon", float(c["epsilon"]), "lower", "Differential-privacy epsilon spent by training")
