"""``evaluate()``: every metric of one synthetic set against real train and holdout, as a Report.

Holdout rows (never trained on) are the reference; train rows are shown beside them. Fidelity and
utility metrics are also computed for the ``independent`` baseline (each column sampled on its own;
the floor) and for a seeded sample of the real training rows of the synthetic set's size (the
ceiling: what real data scores at this size), so that a good per-code fit is never mistaken for
fidelity. Every headline figure carries a seeded 95% interval; verdicts are pass / fail /
inconclusive (see :mod:`corgan_core.verdict`).
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import DataError
from ..report import DEFAULT_THRESHOLDS, RELATIVE, Metric, Report
from ..verdict import size_warning
from . import _parts
from ._common import as_matrix, check_kind, check_same_columns, rng_for, sample_rows
from .baseline import independent_baseline
from .bootstrap import DEFAULT_B

PARTS = {"fidelity": ("probability", "cooccurrence", "threeway", "bands", "agreement", "discriminator", "continuous"),
         "utility": ("prediction", "classifier"),
         "privacy": ("membership", "dcr", "copies", "uniqueness", "attribute", "epsilon")}
_WEIGHTS = {"prediction": 3, "classifier": 3, "neighbours": 4}
_ATTACK_KEYS = {"fractions", "thresholds", "sizes", "seeds", "member_share"}


def _align(ds, codes, name: str):
    """Matrix of a Dataset (columns reordered to ``codes`` when it has the same set) or of an array."""
    X = as_matrix(ds, name)
    other = getattr(ds, "codes", None)
    if codes is None or other is None or list(other) == list(codes):
        return X
    if sorted(map(str, other)) != sorted(map(str, codes)):
        diff = sorted(set(map(str, other)) ^ set(map(str, codes)))
        raise DataError(f"The code columns of {name} do not match the training data's ({len(diff)} differ, "
                        f"e.g. {diff[0]!r}).")
    pos = {str(c): i for i, c in enumerate(other)}
    return X[:, [pos[str(c)] for c in codes]]


def _resolve_include(include) -> list[str]:
    names = [include] if isinstance(include, str) else list(include)
    out = []
    for n in names:
        if n in PARTS:
            out.extend(PARTS[n])
        elif any(n in p for p in PARTS.values()):
            out.append(n)
        else:
            known = ", ".join([*PARTS, *[p for ps in PARTS.values() for p in ps]])
            raise DataError(f"Unknown metric or section {n!r} in include; use {known}.")
    return [p for ps in PARTS.values() for p in ps if p in out]


class _Progress:
    def __init__(self, cb, parts):
        self.cb, self.done = cb, 0.0
        self.total = float(sum(_WEIGHTS.get(p, 1) for p in parts))

    def step(self, part: str, frac: float = 1.0) -> None:
        if self.cb is not None:
            self.cb(min(self.done + _WEIGHTS.get(part, 1) * frac, self.total), self.total)

    def finish(self, part: str) -> None:
        self.done += _WEIGHTS.get(part, 1)
        self.step(part, 0.0)


def evaluate(train, holdout, synthetic, *, kind: str | None = None, codes=None, titles=None, label=None,
             y_train=None, y_holdout=None, y_synthetic=None, top_k: int = 100, prediction_top_k: int | None = None,
             seed: int = 0, epsilon: float | None = None, thresholds: dict | None = None,
             include=("fidelity", "utility", "privacy"), baseline: bool = True, attack: dict | None = None,
             rare_k: int = 10, max_rows: int | None = None, bootstrap: int = DEFAULT_B, progress=None,
             marginals: dict | None = None) -> Report:
    """Evaluate ``synthetic`` against real ``train`` and ``holdout`` (arrays, sparse matrices or Datasets).

    ``label`` is the label column (index, or code name) for TSTR when the generator was trained on
    ``[X, y]``; otherwise pass ``y_train``/``y_holdout``/``y_synthetic`` (Datasets' ``labels`` are
    used when present). ``include`` takes section names and/or metric names (see ``PARTS``).
    ``attack`` overrides membership-attack settings (``fractions``, ``thresholds``, ``sizes``,
    ``seeds``, ``member_share``). ``thresholds`` override :data:`DEFAULT_THRESHOLDS`.
    ``prediction_top_k`` limits dimension-wise prediction to the most frequent codes (default: every
    code with enough patients). ``bootstrap`` is the number of replicates behind each interval.
    ``progress(done, total)`` is called as work completes (abstract units). ``marginals`` is the
    model's disclosure of the real marginals it keeps (``meta["marginals"]``, shown with privacy).
    """
    rng_for(seed)
    codes = list(codes) if codes is not None else getattr(train, "codes", None)
    titles = titles if titles is not None else getattr(train, "titles", None) or {}
    kind = kind or getattr(train, "kind", None)
    Tr = _align(train, codes, "the training data")
    Ho = _align(holdout, codes, "the holdout data")
    Sy = _align(synthetic, codes, "the synthetic data")
    check_same_columns(Tr, "the training data", (Ho, "the holdout data"), (Sy, "the synthetic data"))
    if codes is not None and len(codes) != Tr.shape[1]:
        raise DataError(f"{len(codes)} code names were given for {Tr.shape[1]} columns.")
    kind = check_kind(kind, Tr, "the training data")
    for X, name in ((Ho, "the holdout data"), (Sy, "the synthetic data")):
        check_kind(kind, X, name)
    y_train = y_train if y_train is not None else getattr(train, "labels", None)
    y_holdout = y_holdout if y_holdout is not None else getattr(holdout, "labels", None)
    y_synthetic = y_synthetic if y_synthetic is not None else getattr(synthetic, "labels", None)
    label_index = _label_index(label, codes, Tr.shape[1])
    unknown = set(attack or {}) - _ATTACK_KEYS
    if unknown:
        raise DataError(f"Unknown attack setting(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(_ATTACK_KEYS))}.")
    parts = _resolve_include(include)
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    rep = Report(thresholds=th, meta={
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kind": kind, "n_train": Tr.shape[0],
        "n_holdout": Ho.shape[0], "n_synthetic": Sy.shape[0], "n_codes": Tr.shape[1], "seed": seed,
        "top_k": top_k, "prediction_top_k": prediction_top_k, "epsilon": epsilon, "label": label,
        "include": parts, "bootstrap": int(bootstrap), "timings": {},
        "size_warning": size_warning(Tr.shape[0], Ho.shape[0]), "marginals": marginals})
    prog = _Progress(progress, parts + (["neighbours"] if {"membership", "dcr"} & set(parts) else []))
    B = independent_baseline(Tr, Sy.shape[0], seed, kind=kind) if baseline else None
    Tc = Tr[sample_rows(Tr.shape[0], Sy.shape[0], rng_for(seed + 7))]  # the real-data ceiling's rows
    ctx = dict(Tr=Tr, Ho=Ho, Sy=Sy, B=B, Tc=Tc, kind=kind, codes=codes, titles=titles, seed=seed, top_k=top_k,
               label_index=label_index, y=(y_train, y_holdout, y_synthetic), rare_k=rare_k,
               max_rows=max_rows, epsilon=epsilon, attack=dict(attack or {}), ptk=prediction_top_k, nn=None, prog=prog,
               boot=int(bootstrap), rng=lambda k: rng_for(seed * 1009 + k))

    def add(section, name, value, direction, label, chance=None, baseline=None, details=None, interval=None,
            ceiling=None, needs=None, method=""):
        getattr(rep, section)[name] = Metric(value, direction, label, th.get(name), chance, baseline=baseline,
                                             details=details or {}, interval=interval, ceiling=ceiling,
                                             relative=name in RELATIVE, needs=needs, method=method)

    for part in parts:
        t0 = time.perf_counter()
        try:
            getattr(_parts, part)(ctx, add)
        except DataError as e:
            rep.skipped.append({"metric": part, "reason": str(e)})
        rep.meta["timings"][part] = round(time.perf_counter() - t0, 3)
        prog.finish(part)
    if ctx["nn"] is not None:
        rep.meta["neighbours"] = ctx["nn"].stats
    rep.meta["copy_warning"] = copy_warning(rep)
    return rep


def copy_warning(rep: Report) -> str | None:
    """One sentence naming a verbatim or near-verbatim copy of the training data, else None.

    Verbatim: at least half of the synthetic rows that could be a copy are (copies in excess of
    fresh patients' twins, over the room above that twin share). Near-verbatim: the membership
    attack's TPR - FPR within one code is at least 0.5.
    """
    e = rep.privacy.get("exact_copy_excess")
    if e is not None and e.value is not None:
        d = e.details
        h = d.get("holdout_copy_share") or 0.0
        if h < 1 and (d["copy_share"] - h) / (1 - h) >= 0.5:
            return (f"This synthetic data is a verbatim copy of the training data: {d['copy_share']:.0%} of its "
                    f"{d['n_synthetic']:,} rows are exact training records, against {h:.0%} of fresh held-out patients "
                    f"who simply have a twin in train.")
    m = rep.privacy.get("membership_advantage")
    if m is not None:
        near = [r for r in m.details.get("per_threshold", []) if r["threshold"] <= 1 and r["advantage"] >= 0.5]
        if near:
            r = max(near, key=lambda r: r["advantage"])
            return (f"This synthetic data is a near-verbatim copy of the training data: a synthetic record lies "
                    f"within {r['threshold']:g} of {r['tpr']:.0%} of training patients but of only {r['fpr']:.0%} of "
                    f"fresh held-out patients.")
    return None


def _label_index(label, codes, m: int) -> int | None:
    if label is None:
        return None
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not -m <= int(label) < m:
            raise DataError(f"The label column {label} is outside the {m} columns.")
        return int(label) % m
    if codes is not None and str(label) in [str(c) for c in codes]:
        return [str(c) for c in codes].index(str(label))
    raise DataError(f"The label column {label!r} is not one of the code columns.")

